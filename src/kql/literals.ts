/**
 * KQL literals that no rule or exclusion text can break out of.
 *
 * - `kqlString`: a regular `"..."` literal. Backslash and double quote are escaped, tab / newline / carriage return
 *   use their documented escapes, and any other control character is refused (no escape for it is documented).
 * - `kqlVerbatim`: an `@"..."` literal (only `""` is special inside); used for regular expressions, which shmhunt
 *   builds itself and which never hold a raw control character (they are written as `\x{..}` escapes).
 */
import { Refusal } from "./refusal.js";

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  "\\": "\\\\",
  '"': '\\"',
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

export function kqlString(value: string): string {
  let out = '"';
  for (const c of value) {
    const simple = SIMPLE_ESCAPES[c];
    if (simple) out += simple;
    else if (isControl(c)) {
      throw new Refusal("construct", "control character in a string", `U+${codePoint(c)} has no documented KQL escape`);
    } else out += c;
  }
  return `${out}"`;
}

export function kqlVerbatim(value: string): string {
  for (const c of value) {
    if (isControl(c)) throw new Error(`internal: raw control character U+${codePoint(c)} in a verbatim literal`);
  }
  return `@"${value.replace(/"/g, '""')}"`;
}

/** The range of KQL's `long` (64-bit signed), outside which Kusto.Language reads a `long(...)` literal as 0. */
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/**
 * A number literal: integers as `long`, others (and integers outside the `long` range, which a `long` literal
 * would turn into 0) as `real`.
 */
export function kqlNumber(value: number): string {
  if (!Number.isFinite(value)) throw new Refusal("construct", `non-finite number ${value}`);
  if (Number.isSafeInteger(value)) return String(value);
  if (Number.isInteger(value) && BigInt(value) >= LONG_MIN && BigInt(value) <= LONG_MAX)
    return `long(${BigInt(value)})`;
  return `real(${value})`;
}

/** A `long` literal where KQL needs a whole number (`take`, `top`); refused outside the `long` range. */
export function kqlLong(value: number): string {
  if (!Number.isInteger(value) || BigInt(value) < LONG_MIN || BigInt(value) > LONG_MAX) {
    throw new Refusal("construct", "number out of range", `${value} is not a KQL long`);
  }
  return kqlNumber(value);
}

/** 100-nanosecond ticks per unit of a KQL timespan literal (`5m`, `30s`). */
const TICKS: Readonly<Record<string, bigint>> = {
  d: 864_000_000_000n,
  h: 36_000_000_000n,
  m: 600_000_000n,
  s: 10_000_000n,
  ms: 10_000n,
};

/**
 * A timespan literal `<value><unit>`. Only a whole number of a known unit, within KQL's timespan range (a .NET
 * TimeSpan: 2^63 - 1 ticks; Kusto.Language reads `10675200d` as a negative span): a value JavaScript prints with an
 * exponent (`1e+23d`) would be read as the name `1e`, `+` and `23d`, and a longer span as a negative one.
 */
export function kqlTimespan(value: number, unit: string): string {
  const ticks = Object.hasOwn(TICKS, unit) ? TICKS[unit] : undefined;
  if (ticks === undefined)
    throw new Refusal("construct", "timespan unit", `${JSON.stringify(unit)} is not one of d, h, m, s, ms`);
  if (!Number.isSafeInteger(value) || value < 0 || BigInt(value) * ticks > LONG_MAX) {
    throw new Refusal("construct", "timespan out of range", `${value}${unit} is not a KQL timespan`);
  }
  return `${value}${unit}`;
}

/** A C0 or C1 control character (or DEL): escaped in KQL string literals and RE2 patterns. */
export function isControl(c: string): boolean {
  const n = c.codePointAt(0) ?? 0;
  return n < 0x20 || (n >= 0x7f && n < 0xa0);
}

const codePoint = (c: string) => (c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");

/**
 * Where the top-level occurrences of `needle` are in emitted KQL: outside string literals (regular and verbatim `@"…"`)
 * and outside parentheses. Yields each index; occurrences do not overlap.
 */
export function* topLevelIndexes(text: string, needle: string): Generator<number> {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const verbatim = text[i - 1] === "@";
      for (i++; i < text.length; i++) {
        if (!verbatim && text[i] === "\\") i++;
        else if (text[i] === '"') {
          if (verbatim && text[i + 1] === '"') i++;
          else break;
        }
      }
    } else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (depth === 0 && text.startsWith(needle, i)) {
      yield i;
      i += needle.length - 1;
    }
  }
}
