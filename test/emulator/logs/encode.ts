/**
 * Encodes result values for the Logs API wire, as the service does (logs.query.json): datetime as an ISO 8601
 * string (fraction trimmed), dynamic as JSON text, timespan as `[d.]hh:mm:ss[.fffffff]`, decimal as a string,
 * real NaN/±Infinity as strings, long as a JSON number.
 */
import type { ColumnSchema } from "../state.js";

export function encodeValue(value: unknown, type: string): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case "datetime":
      return encodeDatetime(value);
    case "dynamic":
      return typeof value === "string"
        ? value
        : JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? Number(v) : v));
    case "timespan":
      return typeof value === "number"
        ? encodeTimespan(value)
        : typeof value === "bigint"
          ? encodeTimespan(Number(value) / 10_000)
          : String(value);
    case "decimal":
      return String(value);
    case "real":
      return encodeReal(value);
    case "int":
    case "long":
      return typeof value === "bigint" ? Number(value) : typeof value === "string" ? Number(value) : value;
    case "bool":
      return typeof value === "string" ? value.toLowerCase() === "true" : Boolean(value);
    case "guid":
    case "string":
      return typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
    default:
      return value;
  }
}

export function encodeRow(row: readonly unknown[], columns: readonly ColumnSchema[]): unknown[] {
  return columns.map((column, i) => encodeValue(row[i], column.type));
}

function encodeReal(value: unknown): unknown {
  const n = typeof value === "number" ? value : Number(value);
  if (Number.isNaN(n)) return "NaN";
  if (n === Number.POSITIVE_INFINITY) return "Infinity";
  if (n === Number.NEGATIVE_INFINITY) return "-Infinity";
  return n;
}

/** `2024-01-01T00:00:00Z`, `2006-01-02T22:04:05.1Z` (trailing zeros of the fraction dropped). */
export function encodeDatetime(value: unknown): string | null {
  const date = value instanceof Date ? value : typeof value === "number" ? new Date(value) : new Date(String(value));
  if (Number.isNaN(date.getTime())) return typeof value === "string" ? value : null;
  return date.toISOString().replace(/\.(\d*?)0*Z$/, (_m, digits: string) => (digits ? `.${digits}Z` : "Z"));
}

/** Milliseconds → `[-][d.]hh:mm:ss[.fffffff]`, as Kusto prints a timespan. */
export function encodeTimespan(ms: number): string {
  const sign = ms < 0 ? "-" : "";
  const ticks = Math.round(Math.abs(ms) * 10_000);
  const days = Math.floor(ticks / 864_000_000_000);
  let rest = ticks - days * 864_000_000_000;
  const hours = Math.floor(rest / 36_000_000_000);
  rest -= hours * 36_000_000_000;
  const minutes = Math.floor(rest / 600_000_000);
  rest -= minutes * 600_000_000;
  const seconds = Math.floor(rest / 10_000_000);
  const fraction = rest - seconds * 10_000_000;
  const two = (n: number) => String(n).padStart(2, "0");
  const body = `${two(hours)}:${two(minutes)}:${two(seconds)}${fraction ? `.${String(fraction).padStart(7, "0")}` : ""}`;
  return `${sign}${days ? `${days}.` : ""}${body}`;
}
