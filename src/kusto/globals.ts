/**
 * Builds Kusto.Language `GlobalState`s: one database holding the tables of the schemas and the workspace
 * functions (ASIM parsers, `_GetWatchlist`, KQL parser functions such as the auditd one).
 */
import { kustoLanguage } from "./runtime.js";
import type { ColumnSchema, FunctionSchema, Schemas } from "./schemas.js";
import { loadSchemas, watchlistFunction } from "./schemas.js";

export interface GlobalsOptions {
  /** Base schemas; default: `loadSchemas()` of `<repo>/schemas`. */
  readonly schemas?: Schemas;
  /** Tables to add or replace. */
  readonly tables?: Readonly<Record<string, readonly ColumnSchema[]>>;
  /** Columns to add to existing tables (e.g. columns a data connector adds). */
  readonly extraColumns?: Readonly<Record<string, readonly ColumnSchema[]>>;
  /** Workspace functions to add or replace (e.g. `ShmhuntAuditd`). */
  readonly functions?: readonly FunctionSchema[];
  /** CSV columns of the watchlists `_GetWatchlist` may return (all typed string). */
  readonly watchlistColumns?: readonly string[];
}

/** `['name']`: a KQL identifier that is always valid, whatever characters the name holds. */
function quoteName(name: string): string {
  return `['${name.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}']`;
}

/** `datatable(['a']:string, ...)[]`: an empty table with these columns, as a KQL expression. */
export function emptyTableExpression(columns: readonly ColumnSchema[]): string {
  return `datatable(${columns.map((c) => `${quoteName(c.name)}:${c.type}`).join(", ")})[]`;
}

/** The KQL body (with braces) of a function schema. */
function functionBody(fn: FunctionSchema): string {
  if (fn.body !== undefined) return `{ ${fn.body} }`;
  if (fn.columns) return `{ ${emptyTableExpression(fn.columns)} }`;
  throw new Error(`function '${fn.name}' needs a body or columns`);
}

/** The Kusto.Language symbol of a scalar type. */
function scalarSymbol(type: ColumnSchema["type"]): Kusto.Language.Symbols.ScalarSymbol {
  const T = kustoLanguage().Symbols.ScalarTypes;
  const byName: Record<ColumnSchema["type"], Kusto.Language.Symbols.ScalarSymbol | null> = {
    string: T.String,
    long: T.Long,
    int: T.Int,
    real: T.Real,
    decimal: T.Decimal,
    bool: T.Bool,
    datetime: T.DateTime,
    timespan: T.TimeSpan,
    dynamic: T.Dynamic,
    guid: T.Guid,
  };
  const symbol = byName[type];
  if (!symbol) throw new Error(`no Kusto scalar type '${type}'`);
  return symbol;
}

let defaultSchemas: Schemas | undefined;
const cache = new Map<string, Kusto.Language.GlobalState>();

/** The effective tables and functions for these options. */
export function resolveSchemas(options: GlobalsOptions = {}): Schemas {
  defaultSchemas ??= options.schemas ? undefined : loadSchemas();
  const base = options.schemas ?? (defaultSchemas as Schemas);
  const tables: Record<string, readonly ColumnSchema[]> = { ...base.tables, ...options.tables };
  for (const [name, extra] of Object.entries(options.extraColumns ?? {})) {
    const cols = [...(tables[name] ?? [])];
    for (const c of extra) if (!cols.some((x) => x.name === c.name)) cols.push(c);
    tables[name] = cols;
  }
  const functions: Record<string, FunctionSchema> = {
    ...base.functions,
  };
  if (options.watchlistColumns || !functions._GetWatchlist) {
    functions._GetWatchlist = watchlistFunction(options.watchlistColumns);
  }
  for (const fn of options.functions ?? []) functions[fn.name] = fn;
  return { tables, functions };
}

const parameterLists = new Map<string, System.Collections.Generic.IReadOnlyList$1<Kusto.Language.Symbols.Parameter>>();

/**
 * `Parameter.ParseList(text)`, once per text: what `new FunctionSymbol(name, parameterList, body)` does for each
 * function, and ~15 ms each in a fresh process, while the ASIM parsers' aliases share two long lists. The
 * parameters are immutable symbols, so functions may share them.
 */
function parameterList(text: string): System.Collections.Generic.IReadOnlyList$1<Kusto.Language.Symbols.Parameter> {
  let list = parameterLists.get(text);
  if (!list) {
    const parsed = kustoLanguage().Symbols.Parameter.ParseList(text);
    if (!parsed) throw new Error(`Kusto.Language: could not parse the parameters ${text}`);
    parameterLists.set(text, parsed);
    list = parsed;
  }
  return list;
}

/** A GlobalState with one database (`shmhunt`) holding the tables and functions; cached per options. */
export function buildGlobals(options: GlobalsOptions = {}): Kusto.Language.GlobalState {
  // Keyed by content (cheap next to building the symbols), so callers that rebuild equal options hit the cache.
  const key = JSON.stringify([
    options.schemas ?? null,
    options.tables,
    options.extraColumns,
    options.functions,
    options.watchlistColumns,
  ]);
  const hit = cache.get(key);
  if (hit) return hit;
  const L = kustoLanguage();
  const S = L.Symbols;
  const { tables, functions } = resolveSchemas(options);
  const symbols: Kusto.Language.Symbols.Symbol[] = [];
  for (const [name, columns] of Object.entries(tables)) {
    const cols = columns.map((c) => new S.ColumnSymbol(c.name, scalarSymbol(c.type), null, null, null, null));
    symbols.push(new S.TableSymbol.$ctor4(name, cols));
  }
  for (const fn of Object.values(functions)) {
    symbols.push(new S.FunctionSymbol.$ctor14(fn.name, functionBody(fn), parameterList(fn.parameters ?? "()"), null));
  }
  const db = new S.DatabaseSymbol.$ctor3("shmhunt", null, symbols as never, false);
  const globals = L.GlobalState.Default?.WithDatabase(db);
  if (!globals) throw new Error("Kusto.Language: could not build the global state");
  if (cache.size > 32) cache.clear();
  cache.set(key, globals);
  return globals;
}
