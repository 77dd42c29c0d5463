/**
 * A local workspace: a directory with one file per table (`<Table>.ndjson|.jsonl|.json|.csv`), typed by the
 * table schemas, plus workspace functions (KQL bodies) and watchlists. `query()` runs KQL over it.
 *
 *   const ws = await openWorkspace("demo/workspace", { functions, watchlists });
 *   const { columns, rows } = await ws.query("DeviceProcessEvents | where FolderPath startswith '/dev/shm/'");
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileSystemReason } from "../diagnostics/index.js";
import { buildGlobals, type ColumnSchema, type FunctionSchema, resolveSchemas, type Schemas } from "../kusto/index.js";
import { sourceFunctions } from "../targets/index.js";
import type { TableSource } from "./context.js";
import { dataError } from "./errors.js";
import { type FileFormat, formatOf, type RowTest, rawRecords, sampleColumns, typedBatches } from "./load.js";
import { type QueryResult, runQuery } from "./query.js";
import { type Column, fromRows, type Relation, type Row } from "./relation.js";
import type { ScalarType, Value } from "./values.js";

interface Watchlist {
  /** The column whose value is the item's SearchKey. */
  readonly searchKey: string;
  /** The items, as the watchlist CSV's rows. */
  readonly items: readonly Readonly<Record<string, string>>[];
}

export interface WorkspaceOptions {
  /** Workspace functions (saved searches with a function alias), e.g. the auditd parser. */
  readonly functions?: readonly FunctionSchema[];
  /** Watchlists by alias, read by `_GetWatchlist(alias)`. */
  readonly watchlists?: Readonly<Record<string, Watchlist>>;
  /** Table schemas; default: `<repo>/schemas`. */
  readonly schemas?: Schemas;
}

/** Log Analytics' query time range: applied to `TimeGenerated` of every table that has it. */
interface Timespan {
  readonly start: Date | number;
  readonly end: Date | number;
}

interface QueryOptions {
  readonly timespan?: Timespan;
  /** `now()` for this query (default: the current time). */
  readonly now?: Date | number;
}

export interface Workspace {
  readonly dir: string;
  /** Table name → columns, for every table with a file. */
  readonly tables: Readonly<Record<string, readonly Column[]>>;
  query(text: string, options?: QueryOptions): Promise<QueryResult>;
}

interface TableFile {
  readonly file: string;
  readonly format: FileFormat;
  readonly columns: readonly Column[];
}

const ms = (d: Date | number): number => (typeof d === "number" ? d : d.getTime());

async function tableFiles(dir: string, schemas: Schemas): Promise<Map<string, TableFile>> {
  const out = new Map<string, TableFile>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw dataError(`cannot read the workspace folder: ${fileSystemReason(error)}`, dir);
  }
  for (const name of names.sort()) {
    const format = formatOf(name);
    if (!format) continue;
    const table = name.replace(/\.(ndjson|jsonl|json|csv)$/i, "");
    if (out.has(table)) throw dataError(`two files for table ${table}`, path.join(dir, name));
    const file = path.join(dir, name);
    const schema: readonly ColumnSchema[] | undefined = schemas.tables[table] ?? schemas.functions[table]?.columns;
    const sampled = await sampleColumns(file, format);
    let columns: Column[];
    if (schema) {
      const known = new Set(schema.map((c) => c.name));
      columns = [
        ...schema.map((c) => ({ name: c.name, type: c.type as ScalarType })),
        ...sampled.filter((c) => !known.has(c.name)),
      ];
    } else columns = sampled;
    out.set(table, { file, format, columns });
  }
  return out;
}

function fileRelation(t: TableFile, tests: readonly RowTest[] = []): Relation {
  return {
    columns: t.columns,
    batches: () => typedBatches(t.file, t.format, t.columns, tests),
    where: (keep, reads) => fileRelation(t, [...tests, { keep, reads }]),
  };
}

/** Rows whose TimeGenerated is in [start, end), when a bound is given and the table has the column. */
function timeFilter(columns: readonly Column[], start: number | null, end: number | null): RowTest[] {
  if (start === null && end === null) return [];
  const i = columns.findIndex((c) => c.name === "TimeGenerated" && c.type === "datetime");
  if (i < 0) return [];
  const keep = (row: Row) => {
    const t = row[i];
    if (typeof t !== "number") return false;
    return (start === null || t >= start) && (end === null || t < end);
  };
  return [{ keep, reads: new Set([i]) }];
}

function watchlistRelation(alias: string, w: Watchlist | undefined, columns: readonly Column[]): Relation {
  const rows: Row[] = (w?.items ?? []).map((item, n) =>
    columns.map((c): Value => {
      switch (c.name) {
        case "_DTItemId":
          return `${alias}-${n}`;
        case "LastUpdatedTimeUTC":
          return null;
        case "SearchKey":
          return item[w?.searchKey ?? ""] ?? "";
        case "WatchlistItem":
          return { ...item };
        default:
          return item[c.name] ?? "";
      }
    }),
  );
  return fromRows(columns, rows);
}

/** `<dir>/functions/<Name>.kql`: workspace functions (no parameters), the file's text being the body. */
async function functionFiles(dir: string): Promise<FunctionSchema[]> {
  const fdir = path.join(dir, "functions");
  let names: string[];
  try {
    names = await readdir(fdir);
  } catch {
    return [];
  }
  const out: FunctionSchema[] = [];
  for (const name of names.sort()) {
    if (!name.endsWith(".kql")) continue;
    const file = path.join(fdir, name);
    const body = await readFile(file, "utf8").catch((error: unknown) => {
      throw dataError(`cannot read the function file: ${fileSystemReason(error)}`, file);
    });
    out.push({ name: name.slice(0, -4), parameters: "()", body: body.trim() });
  }
  return out;
}

/** `<dir>/watchlists/<alias>.csv`: watchlists; SearchKey is the `SearchKey` column, else the first column. */
async function watchlistFiles(dir: string): Promise<Record<string, Watchlist>> {
  const wdir = path.join(dir, "watchlists");
  let names: string[];
  try {
    names = await readdir(wdir);
  } catch {
    return {};
  }
  const out: Record<string, Watchlist> = {};
  for (const name of names.sort()) {
    if (!name.endsWith(".csv")) continue;
    const items: Record<string, string>[] = [];
    let header: string[] | undefined;
    for await (const rec of rawRecords(path.join(wdir, name), "csv")) {
      header ??= Object.keys(rec);
      items.push(Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, String(v ?? "")])));
    }
    const searchKey = header?.includes("SearchKey") ? "SearchKey" : (header?.[0] ?? "SearchKey");
    out[name.slice(0, -4)] = { searchKey, items };
  }
  return out;
}

/**
 * Opens a workspace directory. Reads only the first records of each file (to learn extra columns). Functions
 * and watchlists come from `options` and from the directory's `functions/*.kql` and `watchlists/*.csv`
 * (options win on a name clash).
 */
export async function openWorkspace(dir: string, given: WorkspaceOptions = {}): Promise<Workspace> {
  const fileFunctions = await functionFiles(dir);
  const names = new Set((given.functions ?? []).map((f) => f.name));
  const fileNames = new Set([...names, ...fileFunctions.map((f) => f.name)]);
  const options: WorkspaceOptions = {
    ...given,
    // the ASIM parsers the targets call with filtering parameters (src/targets/asim.ts owns those), then files, then options
    functions: [
      ...sourceFunctions().filter((f) => !fileNames.has(f.name)),
      ...fileFunctions.filter((f) => !names.has(f.name)),
      ...(given.functions ?? []),
    ],
    watchlists: { ...(await watchlistFiles(dir)), ...given.watchlists },
  };
  const base = resolveSchemas(options.schemas ? { schemas: options.schemas } : {});
  const files = await tableFiles(dir, base);
  const watchlistColumns = [
    ...new Set(Object.values(options.watchlists ?? {}).flatMap((w) => w.items.flatMap((i) => Object.keys(i)))),
  ];
  const tables: Record<string, ColumnSchema[]> = {};
  const extraColumns: Record<string, ColumnSchema[]> = {};
  for (const [name, t] of files) {
    if (base.functions[name]) continue;
    if (base.tables[name]) {
      const known = new Set(base.tables[name]?.map((c) => c.name));
      const extra = t.columns.filter((c) => !known.has(c.name));
      if (extra.length) extraColumns[name] = extra;
    } else tables[name] = [...t.columns];
  }
  const globals = buildGlobals({
    ...(options.schemas ? { schemas: options.schemas } : {}),
    tables,
    extraColumns,
    functions: options.functions ?? [],
    watchlistColumns,
  });
  return {
    dir,
    tables: Object.fromEntries([...files].map(([n, t]) => [n, t.columns])),
    async query(text, queryOptions = {}) {
      const span = queryOptions.timespan;
      const start = span ? ms(span.start) : null;
      const end = span ? ms(span.end) : null;
      const source: TableSource = {
        table(name) {
          const t = files.get(name);
          return t ? fileRelation(t, timeFilter(t.columns, start, end)) : undefined;
        },
        functionData(name, args, columns) {
          if (name === "_GetWatchlist") {
            const alias = String(args.get("watchlistAlias") ?? "");
            return watchlistRelation(alias, options.watchlists?.[alias], columns);
          }
          if (options.functions?.some((f) => f.name === name && f.body !== undefined)) return undefined;
          const schema = base.functions[name];
          if (!schema) return undefined;
          // The parser's own data file, else that of another name of the same ASIM schema (same columns).
          const sibling = Object.values(base.functions).find((f) => f.columns === schema.columns && files.has(f.name));
          const t = files.get(name) ?? (sibling ? files.get(sibling.name) : undefined);
          if (!t) return fromRows(columns, []);
          // ASIM parsers: honour the starttime/endtime parameters and the query timespan on TimeGenerated.
          const s = [start, args.get("starttime")].filter((v): v is number => typeof v === "number");
          const e = [end, args.get("endtime")].filter((v): v is number => typeof v === "number");
          const lo = s.length ? Math.max(...s) : null;
          const hi = e.length ? Math.min(...e) : null;
          const inTime = timeFilter(t.columns, lo, hi);
          // imProcessCreate / imProcessTerminate are the unifying parser restricted to one EventType.
          const eventType = /ProcessCreate$/.test(name)
            ? "ProcessCreated"
            : /ProcessTerminate$/.test(name)
              ? "ProcessTerminated"
              : undefined;
          const et = t.columns.findIndex((c) => c.name === "EventType");
          const ofType: RowTest[] =
            eventType && et >= 0 ? [{ keep: (row: Row) => row[et] === eventType, reads: new Set([et]) }] : [];
          return fileRelation(t, [...inTime, ...ofType]);
        },
      };
      return runQuery(text, globals, source, queryOptions.now !== undefined ? { now: ms(queryOptions.now) } : {});
    },
  };
}
