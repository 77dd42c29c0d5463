/** Rule files: loading, checking, and the LoadedRule type the translator, deploy and hunt consume. */

export { TARGETS } from "../targets/index.js";
export { ruleDisplayName } from "./display-name.js";
export { parseDuration, parseFrom } from "./durations.js";
export {
  EXCLUSION_COLUMNS,
  EXCLUSION_SEARCH_KEY,
  type ExclusionRow,
  type ExclusionWatchlist,
  exclusionWatchlists,
} from "./exclusions.js";
export {
  loadRuleFile,
  loadRules,
  loadRuleText,
  type RuleFileResult,
  type RuleSetResult,
  ruleFilesIn,
} from "./loader.js";
export { defaultSettings, SETTINGS_TABLE } from "./settings.js";
export type * from "./types.js";
