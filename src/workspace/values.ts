/**
 * Runtime values of the workspace engine and the KQL rules over them.
 *
 * Representation (by the static KQL type that Kusto.Language binds):
 * - string: JS string, never null (KQL strings are never null: a null string is "").
 * - long/int/real/decimal: JS number, or null.
 * - bool: JS boolean, or null.
 * - datetime: milliseconds since the Unix epoch (number), or null.
 * - timespan: milliseconds (number), or null.
 * - guid: lower-case string, or null.
 * - dynamic: a JSON value (object, array, string, number, boolean) or null.
 */
import type { KqlType } from "../kusto/schemas.js";
export type Value = string | number | boolean | null | readonly unknown[] | { readonly [key: string]: unknown };

/** The KQL scalar types, as Kusto spells them (one definition, in src/kusto). */
export type ScalarType = KqlType;

/** `has` term characters: maximal runs of letters and digits. */
const TERM_CHAR = /[\p{L}\p{N}]/u;

function isTermChar(ch: string | undefined): boolean {
  return ch !== undefined && TERM_CHAR.test(ch);
}

/**
 * `hay has needle` per Kusto's term rules: the needle must occur in the value with a term boundary at each edge
 * where the needle itself starts/ends with a term character. `caseSensitive` selects has_cs.
 */
export function hasTerm(hay: string, needle: string, caseSensitive: boolean): boolean {
  if (needle.length === 0) return true;
  const h = caseSensitive ? hay : hay.toLowerCase();
  const n = caseSensitive ? needle : needle.toLowerCase();
  const checkStart = isTermChar(n[0]);
  const checkEnd = isTermChar(n[n.length - 1]);
  let from = 0;
  for (;;) {
    const at = h.indexOf(n, from);
    if (at < 0) return false;
    const okStart = !checkStart || at === 0 || !isTermChar(h[at - 1]);
    const okEnd = !checkEnd || at + n.length === h.length || !isTermChar(h[at + n.length]);
    if (okStart && okEnd) return true;
    from = at + 1;
  }
}

/** KQL `isempty`: null or "" (for dynamic: null, "" ; arrays/bags are not empty). */
export function isEmpty(v: Value): boolean {
  return v === null || v === "";
}

/** String form of a value as `tostring()` gives it. */
export function toKqlString(v: Value, type: ScalarType): string {
  if (v === null || v === undefined) return "";
  switch (type) {
    case "string":
      return v as string;
    case "datetime":
      return formatDatetime(v as number);
    case "timespan":
      return formatTimespan(v as number);
    case "bool":
      return v ? "true" : "false";
    case "dynamic":
      return typeof v === "string" ? v : JSON.stringify(v);
    default:
      return String(v);
  }
}

/** `2024-01-01T10:00:00Z`, with a 7-digit fraction when there is one (as Kusto prints datetimes). */
export function formatDatetime(ms: number): string {
  const d = new Date(Math.floor(ms));
  if (Number.isNaN(d.getTime())) return "";
  const iso = d.toISOString(); // yyyy-mm-ddThh:mm:ss.sssZ
  const base = iso.slice(0, 19);
  const frac = Math.round((ms - Math.floor(ms / 1000) * 1000) * 10_000); // in ticks
  return frac === 0 ? `${base}Z` : `${base}.${String(frac).padStart(7, "0")}Z`;
}

/** `[-][d.]hh:mm:ss[.fffffff]` as Kusto prints timespans. */
export function formatTimespan(ms: number): string {
  const sign = ms < 0 ? "-" : "";
  let ticks = Math.round(Math.abs(ms) * 10_000);
  const days = Math.floor(ticks / 864_000_000_000);
  ticks -= days * 864_000_000_000;
  const h = Math.floor(ticks / 36_000_000_000);
  ticks -= h * 36_000_000_000;
  const m = Math.floor(ticks / 600_000_000);
  ticks -= m * 600_000_000;
  const s = Math.floor(ticks / 10_000_000);
  ticks -= s * 10_000_000;
  const p2 = (n: number) => String(n).padStart(2, "0");
  const frac = ticks ? `.${String(ticks).padStart(7, "0")}` : "";
  return `${sign}${days ? `${days}.` : ""}${p2(h)}:${p2(m)}:${p2(s)}${frac}`;
}

/** The days of a month (1–12) of the proleptic Gregorian calendar. */
function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Parses a datetime the way data files and `todatetime()` spell it; null when it is not one. */
const SIMPLE_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

export function parseDatetime(text: string): number | null {
  // The common exported form, parsed natively (Date.parse carries a day past its month's end into the next one:
  // checked apart).
  if (SIMPLE_ISO.test(text)) {
    const ms = Date.parse(text);
    if (!Number.isNaN(ms) && Number(text.slice(8, 10)) <= daysIn(Number(text.slice(0, 4)), Number(text.slice(5, 7))))
      return ms;
    return null;
  }
  const t = text.trim();
  if (t === "") return null;
  // ISO 8601 with up to 7 fractional digits; no zone means UTC (Kusto datetimes are UTC).
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(t);
  if (m) {
    const [, y, mo, d, h = "0", mi = "0", s = "0", f = "", zone] = m;
    // A date or time that is not one (February 30, month 13, hour 25) is no datetime ("Else, the result will be
    // null", todatetime()); Date.UTC would carry it into the next day or month.
    const month = Number(mo);
    if (month < 1 || month > 12 || Number(d) < 1 || Number(d) > daysIn(Number(y), month)) return null;
    if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null;
    let ms = Date.UTC(Number(y), month - 1, Number(d), Number(h), Number(mi), Number(s));
    if (f) ms += Number(`0.${f}`) * 1000;
    if (zone && zone.toUpperCase() !== "Z") {
      const zm = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
      if (zm) ms -= (zm[1] === "-" ? -1 : 1) * (Number(zm[2]) * 60 + Number(zm[3])) * 60_000;
    }
    return Number.isNaN(ms) ? null : ms;
  }
  // Other forms (RFC 822, RFC 850): Date.parse reads a text that names no zone in the machine's zone, and "A datetime
  // value in Kusto is always in the UTC time zone" (datetime data type), so such a text is read as UTC.
  const parsed = Date.parse(NAMED_ZONE.test(t) ? t : `${t} UTC`);
  return Number.isNaN(parsed) ? null : parsed;
}

/**
 * A zone at the end of a date: RFC 822's `%Z` (UT, GMT, US zones, military letters) after a space, or an offset
 * (+hhmm, +hh:mm, with or without a space before it), or GMT/UTC with a signed hour (GMT-5, UTC+01:00).
 */
const NAMED_ZONE = /(?:\s(?:UTC?|GMT|[ECMP][SD]T|[A-IK-Z])|\s?(?:UTC?|GMT)[+-]\d{1,2}(?::?\d{2})?|[+-]\d{2}:?\d{2})$/i;

const TIMESPAN_UNITS: Readonly<Record<string, number>> = {
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  s: 1000,
  sec: 1000,
  second: 1000,
  seconds: 1000,
  ms: 1,
  milli: 1,
  millis: 1,
  millisecond: 1,
  milliseconds: 1,
  microsecond: 0.001,
  microseconds: 0.001,
  tick: 0.0001,
  ticks: 0.0001,
};

/** Parses `1d`, `5m`, `1.5h`, `00:05:00`, `1.02:03:04.5`; null when it is not a timespan. */
export function parseTimespan(text: string): number | null {
  const t = text.trim();
  const unit = /^(-?\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(t);
  if (unit) {
    const factor = TIMESPAN_UNITS[(unit[2] as string).toLowerCase()];
    return factor === undefined ? null : Number(unit[1]) * factor;
  }
  const clock = /^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$/.exec(t);
  if (clock) {
    const [, neg, d = "0", h, mi, s = "0", f = ""] = clock;
    const ms =
      Number(d) * 86_400_000 +
      Number(h) * 3_600_000 +
      Number(mi) * 60_000 +
      Number(s) * 1000 +
      (f ? Number(`0.${f}`) * 1000 : 0);
    return neg ? -ms : ms;
  }
  return null;
}

/** Three-way comparison for sorting; nulls handled by the caller. Strings compare ordinally. */
export function compareValues(a: Value, b: Value): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  const sa = typeof a === "string" ? a : JSON.stringify(a);
  const sb = typeof b === "string" ? b : JSON.stringify(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** A key for grouping/joining/distinct: equal values get equal keys, values of different kinds never collide. */
export function valueKey(v: Value): string {
  if (v === null || v === undefined) return "\u0000n";
  switch (typeof v) {
    case "string":
      return `s${v}`;
    case "number":
      return `n${v}`;
    case "boolean":
      return v ? "bt" : "bf";
    default:
      return `j${JSON.stringify(v)}`;
  }
}

/**
 * Deep-freeze-free copy-safe JSON parse used by `parse_json` and dynamic columns: invalid JSON stays a string, but
 * the empty string is null (isnull-function: `isnull(parse_json(""))` is true).
 */
export function parseJsonValue(text: string): Value {
  if (text === "") return null;
  try {
    return JSON.parse(text) as Value;
  } catch {
    return text;
  }
}
