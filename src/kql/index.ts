/** The KQL back end: EQL → KQL for Defender XDR, ASIM and auditd (Syslog), mapping as data. */
export { AUDITD_COLUMNS, AUDITD_FUNCTION_NAME, auditdFunction, auditdFunctionFile } from "./auditd-function.js";
export { type Emitted, emitQuery, type QueryInput } from "./emit-query.js";
export { entityColumn, parseEntityColumn } from "./entity-columns.js";
export type { FieldSpec, SourceSpec, TargetMapping } from "./mapping-types.js";
export { MAPPINGS } from "./mappings/index.js";
export { Refusal, type RefusalKind } from "./refusal.js";
export { translationCheck } from "./rule-check.js";
export {
  createTranslateService,
  type TargetChoice,
  type TranslationResult,
  translateEql,
  translateRuleFile,
  translateRuleText,
} from "./service.js";
export {
  columnsOf,
  isTarget,
  type RefusalInfo,
  TARGET_NAMES,
  type TranslateOptions,
  type Translation,
  translateQuery,
  translateRule,
  validateQuery,
} from "./translate.js";
