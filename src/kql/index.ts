/** The KQL back end: EQL → KQL for Defender XDR, ASIM and auditd (Syslog), mapping as data, outputs for Sentinel. */
export { type Emitted, emitQuery, type QueryInput } from "./emit-query.js";
export { entityColumn, parseEntityColumn } from "./entity-columns.js";
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
  type RefusalInfo,
  type TranslateOptions,
  type Translation,
  translateQuery,
  translateRule,
  validateQuery,
} from "./translate.js";
