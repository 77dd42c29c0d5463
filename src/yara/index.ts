/** The local YARA-X matcher. See docs/yara.md. */
export {
  type CompiledRuleSet,
  compileYaraRules,
  compileYaraSource,
  resolveYaraPaths,
  validateYaraFiles,
  YaraRuleCache,
} from "./compile.js";
export { parseElfHeader } from "./elf.js";
export { SCAN_POOL_LIMITS } from "./limits.js";
export { defaultRulesDir } from "./rules-location.js";
export {
  createScanner,
  type Scanner,
} from "./scanner.js";
export * from "./verdict.js";
export { countSamples } from "./walk.js";
