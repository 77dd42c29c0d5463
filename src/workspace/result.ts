/** Encoding query results for output: JSON records, and the Log Analytics wire form. */
import type { QueryResult } from "./query.js";
import { formatDatetime, formatTimespan, type ScalarType, type Value } from "./values.js";

/** A value as JSON: datetimes as ISO 8601 strings, timespans as `[d.]hh:mm:ss[.fffffff]`, dynamic as JSON. */
function jsonValue(v: Value, type: ScalarType): unknown {
  if (v === null || v === undefined) return null;
  if (type === "datetime") return typeof v === "number" ? new Date(v).toISOString() : v;
  if (type === "timespan") return typeof v === "number" ? formatTimespan(v) : v;
  return v;
}

/**
 * The rows as objects keyed by column name. Each row is a copy of one template holding every column (then filled
 * in), so the rows share one shape: an object given its keys one by one turns into a hash table past a dozen keys,
 * larger and slower to read for every consumer (a hunt reads ~70 columns of each of thousands of rows).
 */
export function toRecords(result: QueryResult): Record<string, unknown>[] {
  const { columns } = result;
  const template: Record<string, unknown> = Object.fromEntries(columns.map((c) => [c.name, null]));
  return result.rows.map((row) => {
    const obj: Record<string, unknown> = { ...template };
    for (let i = 0; i < columns.length; i++) {
      const column = columns[i]!;
      obj[column.name] = jsonValue(row[i] as Value, column.type);
    }
    return obj;
  });
}

/**
 * Each row as the JSON text of its `toRecords` object, without building the object: the keys are encoded once.
 * Column names that an object would reorder (array indices) or merge (duplicates) go through `toRecords`.
 */
export function* recordTexts(result: QueryResult): Generator<string> {
  const names = result.columns.map((c) => c.name);
  if (new Set(names).size !== names.length || names.some((n) => /^(0|[1-9]\d*)$/.test(n))) {
    for (const record of toRecords(result)) yield JSON.stringify(record);
    return;
  }
  const keys = names.map((n, i) => `${i === 0 ? "{" : ","}${JSON.stringify(n)}:`);
  const encoders = result.columns.map((c) => jsonText(c.type));
  for (const row of result.rows) {
    let text = "";
    for (let i = 0; i < keys.length; i++) text += keys[i] + (encoders[i] as (v: Value) => string)(row[i] as Value);
    yield keys.length ? `${text}}` : "{}";
  }
}

/** `JSON.stringify(jsonValue(v, type))`, with the common cells (null, the empty string) decided first. */
function jsonText(type: ScalarType): (v: Value) => string {
  if (type === "datetime" || type === "timespan") return (v) => JSON.stringify(jsonValue(v, type));
  return (v) => (v === null || v === undefined ? "null" : v === "" ? '""' : JSON.stringify(v));
}

/** Log Analytics' encoding of a cell: dynamic as JSON text, datetimes as ISO strings. */
function wireValue(v: Value, type: ScalarType): unknown {
  if (v === null || v === undefined) return null;
  if (type === "dynamic") return typeof v === "string" ? v : JSON.stringify(v);
  return jsonValue(v, type);
}

/** `{ name, columns: [{name, type}], rows }` as in the Logs query API's `tables[]`. */
export function toWireTable(result: QueryResult, name = "PrimaryResult") {
  return {
    name,
    columns: result.columns.map((c) => ({ name: c.name, type: c.type })),
    rows: result.rows.map((row) => result.columns.map((c, i) => wireValue(row[i] as Value, c.type))),
  };
}

/** A value as text for the aligned table output. */
export function textValue(v: Value, type: ScalarType): string {
  if (v === null || v === undefined) return "";
  if (type === "datetime" && typeof v === "number") return formatDatetime(v);
  if (type === "timespan" && typeof v === "number") return formatTimespan(v);
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}
