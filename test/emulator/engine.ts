/**
 * The emulator's KQL engine: checking with Microsoft's Kusto.Language (through src/kusto) against the workspace's
 * own schema — the tables it holds, its saved-search functions, `_GetWatchlist` with the columns of its watchlists,
 * and the ASIM parsers Sentinel provides — and running with the project's workspace engine (src/workspace).
 */
import { buildGlobals } from "../../src/kusto/globals.js";
import { kustoLanguage, listItems } from "../../src/kusto/runtime.js";
import {
  type FunctionSchema,
  type ColumnSchema as KustoColumn,
  loadSchemas,
  normalizeType,
  watchlistFunction,
} from "../../src/kusto/schemas.js";
import { type QueryEngine, type QueryProblem, QueryProblemError, type QueryRun } from "./query-engine.js";
import type { WorkspaceState } from "./state.js";

let asimFunctions: Record<string, FunctionSchema> | undefined;

/** The Kusto.Language view of a workspace: only the tables it really has (so a missing table is an error). */
export function workspaceSchemas(workspace: WorkspaceState): {
  tables: Record<string, KustoColumn[]>;
  functions: Record<string, FunctionSchema>;
} {
  asimFunctions ??= loadSchemas().functions;
  const tables: Record<string, KustoColumn[]> = {};
  for (const table of workspace.tables.values()) {
    tables[table.name] = table.columns.map((c) => ({
      name: c.name,
      type: normalizeType(c.type, `table ${table.name}`),
    }));
  }
  const watchlistColumns = new Set<string>();
  for (const watchlist of workspace.watchlists.list()) {
    for (const column of workspace.watchlistTable(watchlist.name)?.columns ?? []) watchlistColumns.add(column.name);
  }
  const functions: Record<string, FunctionSchema> = {
    ...asimFunctions,
    _GetWatchlist: watchlistFunction([...watchlistColumns]),
  };
  for (const fn of workspace.functions()) {
    const parameters =
      fn.parameters.trim() === "" ? "()" : fn.parameters.trim().startsWith("(") ? fn.parameters : `(${fn.parameters})`;
    functions[fn.name] = { name: fn.name, parameters, body: fn.body };
  }
  return { tables, functions };
}

/** Kusto.Language's errors for this query in this workspace, as the service's problems (syntax first). */
export function checkQuery(query: string, workspace: WorkspaceState): QueryProblem[] {
  const L = kustoLanguage();
  const globals = buildGlobals({ schemas: workspaceSchemas(workspace) });
  const code = L.KustoCode.ParseAndAnalyze(query, globals);
  if (!code) throw new Error("Kusto.Language did not analyse the query");
  const problems: QueryProblem[] = [];
  for (const diagnostic of listItems(code.GetDiagnostics())) {
    if (String(diagnostic.Severity) !== "Error") continue;
    const { line, pos } = lineAndColumn(query, diagnostic.Start);
    const token = query.slice(diagnostic.Start, diagnostic.Start + Math.max(diagnostic.Length, 1)).trim();
    const kustoCode = diagnostic.Code ?? "";
    const number = Number(kustoCode.replace(/^KS/, ""));
    if (number < 100) {
      problems.push({
        kind: "syntax",
        code: "SYN0002",
        message: `Query could not be parsed at '${token}' on line [${line},${pos}]`,
        line,
        pos,
        token,
      });
    } else {
      problems.push({
        kind: kustoCode === "KS204" ? "unknownTable" : "semantic",
        code: "SEM0100",
        message: diagnostic.Message ?? kustoCode,
        line,
        pos,
        token,
      });
    }
  }
  return problems.sort((a, b) => Number(b.kind === "syntax") - Number(a.kind === "syntax"));
}

function lineAndColumn(text: string, offset: number): { line: number; pos: number } {
  const before = text.slice(0, offset).split(/\r\n|\r|\n/);
  return { line: before.length, pos: (before[before.length - 1] ?? "").length + 1 };
}

export function createProjectEngine(): QueryEngine {
  return {
    check: checkQuery,
    async run(query, workspace, _options): Promise<QueryRun> {
      const problem = checkQuery(query, workspace)[0];
      if (problem) throw new QueryProblemError(problem);
      throw new QueryProblemError({
        kind: "unsupported",
        code: "NotSupported",
        message: "The local workspace engine (src/workspace) is not available yet.",
      });
    },
  };
}

export type { KustoColumn as ColumnSchemaForKusto };
