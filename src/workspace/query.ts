/**
 * Runs one KQL query text: Kusto.Language parses and binds it (any error → KQL310 diagnostics, nothing runs),
 * then the statements are evaluated: `let`s bind, the last expression statement is the result.
 */
import { DiagnosticError } from "../diagnostics/index.js";
import { kustoDiagnostics, parseKql } from "../kusto/index.js";
import { type Ctx, Env, newLines, spanOf, type TableSource } from "./context.js";
import { unsupported } from "./errors.js";
import { evalLet, evalTable } from "./operators.js";
import { type Column, materialize, type Relation, type Row } from "./relation.js";
import { elements, kindOf } from "./syntax.js";

export interface QueryResult {
  readonly columns: readonly Column[];
  readonly rows: readonly Row[];
}

export interface RunOptions {
  /** The time `now()` and `ago()` use (ms since epoch); default: the current time, read once per query. */
  readonly now?: number;
}

/** Parses, binds and plans a query; returns its result relation (rows are produced when iterated). */
async function planQuery(
  text: string,
  globals: Kusto.Language.GlobalState,
  source: TableSource,
  options: RunOptions = {},
): Promise<Relation> {
  const code = parseKql(text, globals);
  const errors = kustoDiagnostics(code, text);
  if (errors.length > 0) throw new DiagnosticError(errors);
  const ctx: Ctx = {
    source,
    lines: newLines(text),
    now: options.now ?? Date.now(),
    env: new Env(),
    evalTable: (node, c) => evalTable(node, c),
  };
  const root = code.Syntax as unknown as { Statements?: unknown };
  let result: Relation | undefined;
  for (const stmt of elements(root.Statements)) {
    const kind = kindOf(stmt);
    if (kind === "LetStatement") await evalLet(stmt, ctx);
    else if (kind === "ExpressionStatement") result = await evalTable(stmt.Expression, ctx);
    else throw unsupported(`statement ${kind}`, spanOf(ctx, stmt));
  }
  if (!result) throw unsupported("a query without a tabular result");
  return result;
}

/** Runs a query to completion. */
export async function runQuery(
  text: string,
  globals: Kusto.Language.GlobalState,
  source: TableSource,
  options: RunOptions = {},
): Promise<QueryResult> {
  const relation = await planQuery(text, globals, source, options);
  return { columns: relation.columns, rows: await materialize(relation) };
}

/** Runs a query that needs no workspace data (`datatable`, `print`, `range`), against the default schemas. */
export async function runInline(text: string, options: RunOptions = {}): Promise<QueryResult> {
  const { buildGlobals } = await import("../kusto/index.js");
  const none: TableSource = { table: () => undefined, functionData: () => undefined };
  return runQuery(text, buildGlobals(), none, options);
}
