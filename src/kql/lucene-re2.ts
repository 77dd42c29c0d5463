/**
 * Lucene regular expressions (read once by src/eql/lucene-regex.ts) printed as RE2 for KQL's `matches regex`.
 *
 * KQL's regex dialect (../shared/reference/kusto-docs/regex.md) differs from Lucene where it matters here:
 * `\d`, `\s`, `\w` are Unicode classes (`\d` is `\p{Nd}`), and inside `[...]` the operators `&&`, `--`, `~~` are
 * set operations and `[` opens a nested class. So Lucene's ASCII classes are printed as explicit ranges, and in
 * a class every `&`, `-`, `~`, `[`, `]`, `^` and `\` is escaped (KQL: "`\*` literal, applies to all ASCII except
 * [0-9A-Za-z<>]").
 */
import {
  type CodeRanges,
  LuceneRegexError,
  parseLuceneRegex,
  printRegex,
  type RegexDialect,
} from "../eql/lucene-regex.js";
import { re2Literal } from "./patterns.js";
import { Refusal } from "./refusal.js";

const classChar = (c: number): string => {
  const ch = String.fromCodePoint(c);
  if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c === 0x22 || c > 0xffff) return `\\x{${c.toString(16)}}`;
  return /[\\\][^&~-]/.test(ch) ? `\\${ch}` : ch;
};

export const RE2_DIALECT: RegexDialect = {
  char: (c) => re2Literal(String.fromCodePoint(c)),
  charClass: (ranges: CodeRanges) =>
    `[${ranges.map(([lo, hi]) => (lo === hi ? classChar(lo) : `${classChar(lo)}-${classChar(hi)}`)).join("")}]`,
  nothing: "[^\\x{0}-\\x{10FFFF}]",
};

/** The unanchored RE2 source of a Lucene regular expression; refuses what RE2 cannot express, by name. */
export function luceneToRe2(pattern: string): string {
  try {
    return printRegex(parseLuceneRegex(pattern), RE2_DIALECT);
  } catch (error) {
    if (!(error instanceof LuceneRegexError)) throw error;
    const subject = error.construct === "syntax" ? "regex syntax" : `regex ${error.construct}`;
    throw new Refusal("construct", subject, error.message);
  }
}
