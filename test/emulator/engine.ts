/**
 * The emulator's KQL engine: checking with Microsoft's Kusto.Language (through src/kusto) against the workspace's
 * own schema — the tables it holds, its saved-search functions, `_GetWatchlist` with the columns of its watchlists,
 * and the ASIM parsers Sentinel provides — and running with the project's workspace engine (src/workspace).
 */
import {
  type FunctionSchema,
  type ColumnSchema as KustoColumn,
  loadSchemas,
  normalizeType,
  validateKql,
  watchlistFunction,
} from "../../src/kusto/index.js";
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

/** Kusto.Language's errors for this query in this workspace (through src/kusto), as the service's problems. */
export function checkQuery(query: string, workspace: WorkspaceState): QueryProblem[] {
  const problems: QueryProblem[] = [];
  for (const diagnostic of validateKql(query, { schemas: workspaceSchemas(workspace) })) {
    const match = /^(KS\d+): ([\s\S]*)$/.exec(diagnostic.message);
    const kustoCode = match?.[1] ?? "";
    const message = match?.[2] ?? diagnostic.message;
    const line = diagnostic.span?.start.line ?? 1;
    const pos = diagnostic.span?.start.column ?? 1;
    const token = query
      .slice(
        diagnostic.span?.start.offset ?? 0,
        Math.max(diagnostic.span?.end.offset ?? 0, (diagnostic.span?.start.offset ?? 0) + 1),
      )
      .trim();
    if (Number(kustoCode.replace(/^KS/, "")) < 100) {
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
        message,
        line,
        pos,
        token,
      });
    }
  }
  return problems.sort((a, b) => Number(b.kind === "syntax") - Number(a.kind === "syntax"));
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
