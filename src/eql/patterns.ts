/**
 * Pattern languages of EQL, matched in time linear in the text:
 * - wildcards (`:` and `like`): `*` any run of characters, `?` one character; everything else, backslash
 *   included, is literal (as in Elasticsearch, so Windows paths need no escaping beyond the string's own);
 * - `regex`: Lucene regular expression syntax, read and printed by lucene-regex.ts (whole-string match), run by
 *   RE2. Lucene compiles a regex to an automaton, so `(a*)*b` costs Elasticsearch no more than `a*b`; a
 *   backtracking JavaScript RegExp of it took 8 s on 30 `a`s and doubles with each one more.
 */
import RE2 from "re2";
import { Codes, type Span } from "../diagnostics/index.js";
import { syntaxError } from "./lexer.js";
import { LuceneRegexError, luceneToJsSource } from "./lucene-regex.js";

const cache = new Map<string, RegExp>();

/**
 * Does the wildcard pattern match the whole text? `*` any run of code points, `?` one code point, anything else
 * itself (case-insensitive: the same letter in either case, per code point). Matched in at most pattern × text steps
 * (the last `*` is backtracked to, never more): a backtracking regular expression of it takes exponential time on a
 * pattern of many `*` (`"aaaa…" : "*a*a*a…b"`, 125 characters, held a server's event loop 38 s).
 */
export function wildcardMatches(pattern: string, text: string, caseInsensitive: boolean): boolean {
  const p = codePointsOf(pattern);
  let i = 0;
  // Positions in `text` are UTF-16 indexes, moved a code point at a time (no copy of the text per call).
  let j = 0;
  let star = -1;
  let resume = 0;
  while (j < text.length) {
    const c = p[i];
    if (c === "*") {
      star = i++;
      resume = j;
      continue;
    }
    const width = widthAt(text, j);
    if (c !== undefined && (c === "?" || same(c, text, j, width, caseInsensitive))) {
      i++;
      j += width;
    } else if (star >= 0) {
      i = star + 1;
      resume += widthAt(text, resume);
      j = resume;
    } else {
      return false;
    }
  }
  while (p[i] === "*") i++;
  return i === p.length;
}

/** The UTF-16 units of the code point at `at` (2 for a surrogate pair). */
function widthAt(text: string, at: number): number {
  return (text.codePointAt(at) as number) > 0xffff ? 2 : 1;
}

const patternCodePoints = new Map<string, readonly string[]>();

function codePointsOf(pattern: string): readonly string[] {
  let points = patternCodePoints.get(pattern);
  if (!points) {
    points = Array.from(pattern);
    if (patternCodePoints.size > 5000) patternCodePoints.clear();
    patternCodePoints.set(pattern, points);
  }
  return points;
}

/** Is the pattern's code point `a` the text's at `at` (`width` units), in either case when asked? */
function same(a: string, text: string, at: number, width: number, caseInsensitive: boolean): boolean {
  if (width === 1) {
    const code = text.charCodeAt(at);
    if (a.length === 1 && a.charCodeAt(0) === code) return true;
    // ASCII letters fold by one bit; anything else as the per-code-point case mapping below.
    if (caseInsensitive && code < 0x80 && a.length === 1 && a.charCodeAt(0) < 0x80) {
      const x = code | 0x20;
      return x >= 0x61 && x <= 0x7a && x === (a.charCodeAt(0) | 0x20);
    }
  } else if (text.startsWith(a, at) && a.length === width) return true;
  if (!caseInsensitive) return false;
  const b = text.slice(at, at + width);
  return a.toLowerCase() === b.toLowerCase() || a.toUpperCase() === b.toUpperCase();
}

/**
 * A Lucene regex as an anchored RE2 expression (JavaScript's syntax, which the binding reads: no backtracking).
 * Thrown (as a DiagnosticError, EQL120) for bad Lucene syntax and for what has no translation, RE2's limits
 * included (a repetition count over 1,000, or nested counts whose product is).
 */
export function luceneToRegExp(pattern: string, caseInsensitive: boolean, span?: Span): RegExp {
  const key = `r${caseInsensitive ? "i" : ""}:${pattern}`;
  let re = cache.get(key);
  if (!re) {
    try {
      re = new RE2(`^(?:${luceneToJsSource(pattern)})$`, caseInsensitive ? "isu" : "su");
    } catch (error) {
      const message =
        error instanceof LuceneRegexError
          ? error.message
          : `regex ${JSON.stringify(pattern)} cannot be translated: ${(error as Error).message}`;
      throw syntaxError(Codes.EqlUnsupported, message, span ?? NO_SPAN);
    }
    remember(key, re);
  }
  return re;
}

function remember(key: string, re: RegExp): void {
  if (cache.size > 5000) cache.clear();
  cache.set(key, re);
}

const NO_SPAN: Span = { start: { line: 1, column: 1, offset: 0 }, end: { line: 1, column: 1, offset: 0 } };
