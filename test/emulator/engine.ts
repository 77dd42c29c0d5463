/**
 * The emulator's KQL engine: checking with Microsoft's Kusto.Language (through src/kusto) against the workspace's
 * own schema — the tables it holds, its saved-search functions, `_GetWatchlist` with the columns of its watchlists,
 * and the ASIM parsers Sentinel provides — and running with the project's workspace engine (src/workspace).
 */
import { Codes, type Diagnostic, DiagnosticError } from "../../src/diagnostics/index.js";
import {
  buildGlobals,
  type FunctionSchema,
  type ColumnSchema as KustoColumn,
  kustoDiagnostics,
  loadSchemas,
  normalizeType,
  parseKql,
} from "../../src/kusto/index.js";
import { sourceFunctions } from "../../src/targets/index.js";
import type { TableSource } from "../../src/workspace/context.js";
import { runQuery, type ScalarType } from "../../src/workspace/index.js";
import { convertCell } from "../../src/workspace/load.js";
import { type Column, fromRows, type Relation, type Row } from "../../src/workspace/relation.js";
import type { Interval } from "./iso8601.js";
import { type QueryEngine, type QueryProblem, QueryProblemError, type QueryRun } from "./query-engine.js";
import type { WorkspaceState, WorkspaceTable } from "./state.js";

let asimFunctions: Record<string, FunctionSchema> | undefined;

/** The Kusto.Language view of a workspace: only the tables it really has (so a missing table is an error). */
export function workspaceGlobals(
  workspace: WorkspaceState,
  withIngestionTime = false,
): {
  schemas: { tables: Record<string, KustoColumn[]>; functions: Record<string, FunctionSchema> };
  watchlistColumns: string[];
} {
  asimFunctions ??= {
    ...loadSchemas().functions,
    // the parsers the targets call with filtering parameters, declared as src/targets/asim.ts owns them
    ...Object.fromEntries(sourceFunctions().map((f) => [f.name, f])),
  };
  const tables: Record<string, KustoColumn[]> = {};
  for (const table of workspace.tables.values()) {
    if (asimFunctions[table.name]) continue; // rows seeded for an ASIM parser are that function's data
    tables[table.name] = table.columns.map((c) => ({
      name: c.name,
      type: normalizeType(c.type, `table ${table.name}`),
    }));
    if (withIngestionTime) tables[table.name]?.push({ name: INGESTION_COLUMN, type: "datetime" });
  }
  const watchlistColumns = new Set<string>();
  for (const watchlist of workspace.watchlists.list()) {
    for (const column of workspace.watchlistTable(watchlist.name)?.columns ?? []) watchlistColumns.add(column.name);
  }
  const functions: Record<string, FunctionSchema> = { ...asimFunctions };
  for (const fn of workspace.functions()) {
    const parameters =
      fn.parameters.trim() === "" ? "()" : fn.parameters.trim().startsWith("(") ? fn.parameters : `(${fn.parameters})`;
    functions[fn.name] = { name: fn.name, parameters, body: fn.body };
  }
  // `_GetWatchlist` is added by buildGlobals from `watchlistColumns`
  return { schemas: { tables, functions }, watchlistColumns: [...watchlistColumns] };
}

const globalsCache = new Map<string, Kusto.Language.GlobalState>();

/** The Kusto.Language GlobalState of a workspace as it is now (cached while its schema stays the same). */
function globalsOf(workspace: WorkspaceState, withIngestionTime = false): Kusto.Language.GlobalState {
  const options = workspaceGlobals(workspace, withIngestionTime);
  const key = JSON.stringify(options);
  let globals = globalsCache.get(key);
  if (!globals) {
    if (globalsCache.size >= 16) globalsCache.clear();
    globals = buildGlobals(options);
    globalsCache.set(key, globals);
  }
  return globals;
}

/** Kusto.Language's errors for this query in this workspace (through src/kusto), as the service's problems. */
export function checkQuery(query: string, workspace: WorkspaceState): QueryProblem[] {
  return problemsOf(query, kustoDiagnostics(parseKql(query, globalsOf(workspace)), query));
}

/** KQL310 diagnostics (`KSnnn: message`) as the service's problems, syntax errors first. */
function problemsOf(query: string, diagnostics: readonly Diagnostic[]): QueryProblem[] {
  const problems: QueryProblem[] = [];
  for (const diagnostic of diagnostics) {
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

/**
 * The hidden column `ingestion_time()` reads: the workspace engine knows no such function, so the emulator rewrites
 * the call (outside string literals) into this column, which every table carries while such a query runs.
 */
export const INGESTION_COLUMN = "__shmhunt_ingestion_time";

/** The query with each `ingestion_time()` outside string literals replaced by INGESTION_COLUMN. */
export function rewriteIngestionTime(query: string): string {
  let out = "";
  for (let i = 0; i < query.length; i++) {
    const c = query[i] ?? "";
    if (c === '"' || c === "'") {
      const verbatim = query[i - 1] === "@";
      let j = i + 1;
      for (; j < query.length; j++) {
        if (!verbatim && query[j] === "\\") j++;
        else if (query[j] === c) {
          if (verbatim && query[j + 1] === c) j++;
          else break;
        }
      }
      out += query.slice(i, j + 1);
      i = j;
      continue;
    }
    const call = /^ingestion_time\s*\(\s*\)/.exec(query.slice(i, i + 40));
    const boundary = i === 0 || !/[\w$]/.test(query[i - 1] ?? "");
    if (call && boundary) {
      out += INGESTION_COLUMN;
      i += call[0].length - 1;
      continue;
    }
    out += c;
  }
  return out;
}

/**
 * The workspace's rows as the engine's relations: typed cells, only rows that have arrived by `now` (ingestion
 * delay, state.ts), `TimeGenerated` limited to the interval, and the arrival time as INGESTION_COLUMN when asked.
 */
function tableSource(
  workspace: WorkspaceState,
  interval: Interval | undefined,
  functionNames: ReadonlySet<string>,
  now: number,
  withIngestionTime: boolean,
): TableSource {
  const relationOf = (
    table: WorkspaceTable,
    columns: readonly Column[],
    limit: Interval | undefined,
    addIngestion = false,
  ): Relation => {
    const wanted = columns.filter((c) => c.name !== INGESTION_COLUMN);
    const typed = typedRows(table, wanted);
    const time = wanted.findIndex((c) => c.name === "TimeGenerated" && c.type === "datetime");
    const [start, end] = limit ? [limit.start.getTime(), limit.end.getTime()] : [undefined, undefined];
    const rows: Row[] = [];
    typed.forEach((row, index) => {
      const generated = time >= 0 && typeof row[time] === "number" ? (row[time] as number) : undefined;
      const arrival = table.seededAt ? workspace.arrivalOf(table, index, generated) : Number.NEGATIVE_INFINITY;
      if (arrival > now) return;
      if (start !== undefined && end !== undefined && time >= 0) {
        if (generated === undefined || generated < start || generated >= end) return;
      }
      rows.push(addIngestion ? [...row, Number.isFinite(arrival) ? arrival : null] : row);
    });
    return fromRows(addIngestion ? [...wanted, { name: INGESTION_COLUMN, type: "datetime" }] : wanted, rows);
  };
  return {
    table(name) {
      const table = functionNames.has(name) ? undefined : workspace.table(name);
      if (!table) return undefined;
      return relationOf(
        table,
        table.columns.map((c) => ({ name: c.name, type: normalizeType(c.type, name) as ScalarType })),
        interval,
        withIngestionTime,
      );
    },
    functionData(name, args, columns) {
      if (name === "_GetWatchlist") {
        const alias = String(args.get("watchlistAlias") ?? "");
        const table = workspace.watchlistTable(alias) ?? { name: "Watchlist", columns: [], rows: [] };
        return relationOf(table, columns, undefined);
      }
      if (workspace.functions().some((f) => f.name === name)) return undefined; // a KQL body: the engine runs it
      // ASIM parsers (known by their columns): rows seeded under the parser's name, else none
      const table = workspace.table(name);
      return table ? relationOf(table, columns, interval) : fromRows(columns, []);
    },
  };
}

/** Typed rows, converted once per table and column list, again only when rows were added (tables only grow). */
const typedCache = new WeakMap<WorkspaceTable, { key: string; count: number; rows: Row[] }>();

function typedRows(table: WorkspaceTable, columns: readonly Column[]): readonly Row[] {
  const key = JSON.stringify(columns);
  const hit = typedCache.get(table);
  if (hit && hit.key === key && hit.count === table.rows.length) return hit.rows;
  const rows = table.rows.map((row) => columns.map((c) => convertCell(cellOf(row[c.name]), c.type, false)));
  typedCache.set(table, { key, count: table.rows.length, rows });
  return rows;
}

function cellOf(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value;
}

/** A workspace-engine error (KQL310 from Kusto.Language, WS500 unsupported, WS501 semantic, WS502 data). */
function problemOf(query: string, error: DiagnosticError): QueryProblem {
  const first = error.diagnostics[0];
  if (first?.code === Codes.KqlInvalid) return problemsOf(query, error.diagnostics)[0] as QueryProblem;
  const line = first?.span?.start.line;
  const pos = first?.span?.start.column;
  const where = line !== undefined ? { line, pos } : {};
  if (first?.code === Codes.WsUnsupported) {
    const at = line !== undefined ? ` on line [${line},${pos}]` : "";
    return { kind: "unsupported", code: "NotSupported", message: `${first.message}${at}`, ...where };
  }
  return { kind: "semantic", code: "SEM0100", message: first?.message ?? error.message, ...where };
}

export function createProjectEngine(): QueryEngine {
  return {
    check: checkQuery,
    async run(query, workspace, options): Promise<QueryRun> {
      const functionNames = new Set(Object.keys(workspaceGlobals(workspace).schemas.functions));
      const rewritten = rewriteIngestionTime(query);
      const withIngestionTime = rewritten !== query;
      const now = (options.now ?? new Date()).getTime();
      const source = tableSource(workspace, options.interval, functionNames, now, withIngestionTime);
      try {
        const result = await runQuery(rewritten, globalsOf(workspace, withIngestionTime), source);
        return { tables: [{ name: "PrimaryResult", columns: result.columns, rows: result.rows }] };
      } catch (error) {
        if (error instanceof DiagnosticError) throw new QueryProblemError(problemOf(query, error));
        throw error;
      }
    },
  };
}

export type { KustoColumn as ColumnSchemaForKusto };
