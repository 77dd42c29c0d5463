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
  complement,
  type LuceneNode,
  LuceneRegexError,
  normalizeRanges,
  parseLuceneRegex,
  printRegex,
  RE2_MAX_REPEAT,
  type RegexDialect,
} from "../eql/lucene-regex.js";
import { re2Literal } from "./patterns.js";
import { Refusal } from "./refusal.js";

const classChar = (c: number): string => {
  const ch = String.fromCodePoint(c);
  // control, format, separator and unassigned code points are written as escapes, never raw in the query text
  if (c < 0x20 || c === 0x22 || c > 0xffff || (/[\p{C}\p{Z}]/u.test(ch) && c !== 0x20)) return `\\x{${c.toString(16)}}`;
  return /[\\\][^&~-]/.test(ch) ? `\\${ch}` : ch;
};

const rangesText = (ranges: CodeRanges): string =>
  ranges.map(([lo, hi]) => (lo === hi ? classChar(lo) : `${classChar(lo)}-${classChar(hi)}`)).join("");

const RE2_DIALECT: RegexDialect = {
  char: (c) => re2Literal(String.fromCodePoint(c)),
  // the shorter of the class and its negation (RE2 reads UTF-8, which holds no surrogate, so both are the same set)
  charClass: (ranges: CodeRanges) => {
    const rest = complement(ranges);
    return rest.length > 0 && rest.length < ranges.length ? `[^${rangesText(rest)}]` : `[${rangesText(ranges)}]`;
  },
  nothing: "[^\\x{0}-\\x{10FFFF}]",
  // Kusto's `matches regex` is RE2: a larger count fails the query when it runs
  maxRepeat: RE2_MAX_REPEAT,
};

/** The unanchored RE2 source of a Lucene regular expression; refuses what RE2 cannot express, by name. */
export function luceneToRe2(pattern: string): string {
  return printed(pattern, (tree) => tree);
}

/**
 * The same, for a value that never holds the code points `excluded` (one argument of an argv read from a string,
 * whose separators they are): `.`, `.*`, classes and literals lose those code points, so a match never crosses
 * into the next argument (issue 10, bug 4: Elasticsearch matches a regex against each value of a multi-valued
 * field, and the whole value).
 */
export function luceneToRe2Within(pattern: string, excluded: CodeRanges): string {
  const allowed = complement(excluded);
  const within = (ranges: CodeRanges): CodeRanges => intersect(ranges, allowed);
  const restrict = (node: LuceneNode): LuceneNode => {
    switch (node.k) {
      case "union":
      case "intersection":
        return { k: node.k, parts: node.parts.map(restrict) };
      case "concat":
        return { k: "concat", items: node.items.map(restrict) };
      case "repeat":
        return { ...node, node: restrict(node.node) };
      case "complement":
        return { k: "complement", node: restrict(node.node) };
      case "char":
        return within([[node.c, node.c]]).length === 0 ? { k: "nothing" } : node;
      case "class":
        return { k: "class", ranges: within(node.ranges) };
      case "any":
        return { k: "class", ranges: allowed };
      case "anystring":
        return { k: "repeat", node: { k: "class", ranges: allowed }, min: 0, max: null };
      default:
        return node;
    }
  };
  return printed(pattern, restrict);
}

function intersect(a: CodeRanges, b: CodeRanges): CodeRanges {
  const out: [number, number][] = [];
  for (const [alo, ahi] of a) {
    for (const [blo, bhi] of b) {
      const lo = Math.max(alo, blo);
      const hi = Math.min(ahi, bhi);
      if (lo <= hi) out.push([lo, hi]);
    }
  }
  return normalizeRanges(out);
}

function printed(pattern: string, transform: (tree: LuceneNode) => LuceneNode): string {
  try {
    return printRegex(transform(parseLuceneRegex(pattern)), RE2_DIALECT);
  } catch (error) {
    if (!(error instanceof LuceneRegexError)) throw error;
    const subject = error.construct === "syntax" ? "regex syntax" : `regex ${error.construct}`;
    throw new Refusal("construct", subject, error.message);
  }
}
