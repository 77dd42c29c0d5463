/**
 * Table and function schemas for KQL validation and for typing workspace data, read from `schemas/`.
 *
 * Formats found there:
 * - `<Table>.normalized.json`, `<Table>.json`, `<Table>.docs.json`: `{ name, columns: [{ name, type }] }`. When a
 *   table has several files their columns are merged (normalized first, then plain, then docs), so a column known
 *   to any source is accepted.
 * - `_Im_<Schema>.json`: an ASIM schema with `appliesTo` (the parser names `_Im_ProcessEvent`, `imProcessCreate`,
 *   ...). In Sentinel those are FUNCTIONS (unifying parsers), so they are returned under `functions`, one entry per
 *   name, with the parser's output columns. Their filtering parameters belong to the target that calls them
 *   (src/targets/asim.ts, from Microsoft's parser files): `sourceFunctions()` there adds them.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** A KQL scalar type name as Kusto spells it. */
export type KqlType =
  | "string"
  | "long"
  | "int"
  | "real"
  | "decimal"
  | "bool"
  | "datetime"
  | "timespan"
  | "dynamic"
  | "guid";

export interface ColumnSchema {
  readonly name: string;
  readonly type: KqlType;
}

/** A tabular function the queries may call: either a KQL body, or just its output columns (an opaque function). */
export interface FunctionSchema {
  readonly name: string;
  /** The KQL parameter list, e.g. `(alias:string)` or `(starttime:datetime=datetime(null))`; default `()`. */
  readonly parameters?: string;
  /** The function's KQL body, without braces (e.g. the auditd parser over Syslog). */
  readonly body?: string;
  /** Output columns, for functions whose body is not known here (ASIM parsers, `_GetWatchlist`). */
  readonly columns?: readonly ColumnSchema[];
}

export interface Schemas {
  readonly tables: Readonly<Record<string, readonly ColumnSchema[]>>;
  readonly functions: Readonly<Record<string, FunctionSchema>>;
}

/** `<repo>/schemas`: the nearest `schemas/` beside a `package.json` above this module (src/ or dist/src/). */
function defaultSchemaDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, "package.json")) && existsSync(path.join(dir, "schemas"))) {
      return path.join(dir, "schemas");
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error("schemas/ not found above the shmhunt modules");
    dir = up;
  }
}

/**
 * Kusto's scalar type names with the synonyms the language takes (`boolean`, `date`, `double`, `time`, `uniqueid`),
 * as in `typeof(…)`, `datetime(…)` literals and the type symbols Kusto.Language binds.
 */
const KQL_TYPE_NAMES: ReadonlyMap<string, KqlType> = new Map([
  ["string", "string"],
  ["long", "long"],
  ["int", "int"],
  ["real", "real"],
  ["double", "real"],
  ["decimal", "decimal"],
  ["bool", "bool"],
  ["boolean", "bool"],
  ["datetime", "datetime"],
  ["date", "datetime"],
  ["timespan", "timespan"],
  ["time", "timespan"],
  ["dynamic", "dynamic"],
  ["guid", "guid"],
  ["uniqueid", "guid"],
]);

/** The scalar type a KQL type name (or synonym) names, in any case; undefined for another name. */
export function kqlTypeNamed(name: string): KqlType | undefined {
  return KQL_TYPE_NAMES.get(name.toLowerCase());
}

/** Schema files also spell types the .NET way (`Int32`, `Int64`, `Integer`). */
const DOTNET_TYPE_NAMES: ReadonlyMap<string, KqlType> = new Map([
  ["integer", "int"],
  ["int32", "int"],
  ["int64", "long"],
]);

/** Normalises a type name from a schema file (`Boolean`, `Int64`, `DateTime`...) to Kusto's spelling. */
export function normalizeType(type: string, where: string): KqlType {
  const t = kqlTypeNamed(type) ?? DOTNET_TYPE_NAMES.get(type.toLowerCase());
  if (!t) throw new Error(`${where}: unknown column type '${type}'`);
  return t;
}

interface SchemaFile {
  name?: unknown;
  appliesTo?: unknown;
  schema?: unknown;
  columns?: unknown;
}

function readColumns(file: string, data: SchemaFile): ColumnSchema[] {
  if (!Array.isArray(data.columns)) throw new Error(`${file}: no 'columns' array`);
  return data.columns.map((c: { name?: unknown; type?: unknown }, i: number) => {
    if (typeof c.name !== "string" || typeof c.type !== "string") {
      throw new Error(`${file}: columns[${i}] needs a string 'name' and 'type'`);
    }
    return { name: c.name, type: normalizeType(c.type, `${file}: columns[${i}]`) };
  });
}

function fileRank(file: string): number {
  if (file.endsWith(".normalized.json")) return 0;
  if (file.endsWith(".docs.json")) return 2;
  return 1;
}

/** Reads every schema file of `dir` (default `<repo>/schemas`). */
export function loadSchemas(dir: string = defaultSchemaDir()): Schemas {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort((a, b) => fileRank(a) - fileRank(b) || a.localeCompare(b));
  const tables = new Map<string, ColumnSchema[]>();
  const functions: Record<string, FunctionSchema> = {};
  for (const file of files) {
    const full = path.join(dir, file);
    const data = JSON.parse(readFileSync(full, "utf8")) as SchemaFile;
    const columns = readColumns(full, data);
    const name = typeof data.name === "string" ? data.name : file.replace(/(\.normalized|\.docs)?\.json$/, "");
    if (Array.isArray(data.appliesTo)) {
      for (const alias of data.appliesTo) {
        if (typeof alias === "string") functions[alias] = { name: alias, columns };
      }
      continue;
    }
    const merged = tables.get(name) ?? [];
    const seen = new Set(merged.map((c) => c.name));
    for (const c of columns) if (!seen.has(c.name)) merged.push(c);
    tables.set(name, merged);
  }
  return { tables: Object.fromEntries(tables), functions };
}

/** `_GetWatchlist(alias)` as Sentinel provides it: the watchlist's items, plus the columns of its CSV. */
export function watchlistFunction(extraColumns: readonly string[] = []): FunctionSchema {
  const base: ColumnSchema[] = [
    { name: "_DTItemId", type: "string" },
    { name: "LastUpdatedTimeUTC", type: "datetime" },
    { name: "SearchKey", type: "string" },
    { name: "WatchlistItem", type: "dynamic" },
  ];
  const names = new Set(base.map((c) => c.name));
  const extra = extraColumns.filter((c) => !names.has(c)).map((name) => ({ name, type: "string" as const }));
  return { name: "_GetWatchlist", parameters: "(watchlistAlias:string)", columns: [...base, ...extra] };
}
