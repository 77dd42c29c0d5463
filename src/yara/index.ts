/** The local YARA-X matcher. See docs/yara.md. */
export { type LoadedBinding, loadYaraBinding } from "./binding.js";
export {
  type CompiledRuleSet,
  compileYaraRules,
  compileYaraSource,
  type RuleFileStamp,
  resolveYaraPaths,
  validateYaraFiles,
  type YaraCompileOptions,
  YaraRuleCache,
} from "./compile.js";
export { parseElfHeader } from "./elf.js";
export type { PoolStats } from "./pool.js";
export { defaultRulesDir } from "./rules-location.js";
export type { ScanLimits } from "./sample.js";
export {
  createScanner,
  DEFAULT_MAX_SAMPLE_SIZE,
  DEFAULT_SCAN_TIMEOUT_MS,
  type Scanner,
  type ScannerOptions,
} from "./scanner.js";
export * from "./verdict.js";
export { countSamples } from "./walk.js";
