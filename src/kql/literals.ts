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

/** A number literal: integers as `long`, others as `real`. */
export function kqlNumber(value: number): string {
  if (!Number.isFinite(value)) throw new Refusal("construct", `non-finite number ${value}`);
  if (Number.isInteger(value)) return Number.isSafeInteger(value) ? String(value) : `long(${BigInt(value)})`;
  return `real(${value})`;
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
