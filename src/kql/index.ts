/** The KQL back end: EQL → KQL for Defender XDR, ASIM and auditd (Syslog), mapping as data, outputs for Sentinel. */
export { kqlComment, oneLine } from "./comment.js";
export { emitQuery } from "./emit-query.js";
export { kqlTimespan } from "./literals.js";
export { Refusal } from "./refusal.js";
export { translationCheck } from "./rule-check.js";
export { type Translation, translateQuery, translateRule, validateQuery } from "./translate.js";
