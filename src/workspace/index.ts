/** The local KQL workspace engine: runs KQL over table files by evaluating Kusto.Language's syntax trees. */
export { type QueryResult, type RunOptions, runInline, runQuery } from "./query.js";
export type { Column, Row } from "./relation.js";
export { jsonValue, recordTexts, textValue, toRecords, toWireTable, wireValue } from "./result.js";
export { targetsWithData } from "./targets-present.js";
export type { ScalarType, Value } from "./values.js";
export {
  openWorkspace,
  type QueryOptions,
  type Timespan,
  type Watchlist,
  type Workspace,
  type WorkspaceOptions,
} from "./workspace.js";
