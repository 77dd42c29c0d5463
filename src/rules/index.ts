/** Rule files: loading, checking, and the LoadedRule type the translator, deploy and hunt consume. */

export {
  loadRuleFile,
  loadRules,
  loadRuleText,
} from "./loader.js";
export type * from "./types.js";
