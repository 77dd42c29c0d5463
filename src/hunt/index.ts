export { alertRequestOf, entitiesOf } from "./alert-request.js";
export { huntRuleOf, storedVerdictOf } from "./from-rule.js";
export { confirms, decide, type GateDecision, type GateInput } from "./gate.js";
export { canonical, eventTimeOf, hitKey, identityColumns, sampleHashColumns, sampleHashOf } from "./hit-key.js";
export { HuntState, type LocalIncident, type PendingEntry } from "./hunt-state.js";
export { LocalAlertWriter } from "./local-alerts.js";
export * from "./run.js";
export * from "./types.js";
export { dueSlackMs, isDue, type PlannedWindow, planWindow } from "./window.js";
