/** The local KQL workspace engine: runs KQL over table files by evaluating Kusto.Language's syntax trees. */
export { runInline, runQuery } from "./query.js";
export { recordTexts, textValue, toRecords, toWireTable } from "./result.js";
export { targetsWithData } from "./targets-present.js";
export type { ScalarType } from "./values.js";
export { openWorkspace, type Workspace } from "./workspace.js";
