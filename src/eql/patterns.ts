/**
 * Pattern languages of EQL, compiled to anchored JavaScript regular expressions:
 * - wildcards (`:` and `like`): `*` any run of characters, `?` one character; everything else, backslash
 *   included, is literal (as in Elasticsearch, so Windows paths need no escaping beyond the string's own);
 * - `regex`: Lucene regular expression syntax, read and printed by lucene-regex.ts (whole-string match).
 */
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
  const t = Array.from(text);
  let i = 0;
  let j = 0;
  let star = -1;
  let resume = 0;
  while (j < t.length) {
    const c = p[i];
    if (c === "*") {
      star = i++;
      resume = j;
    } else if (c !== undefined && (c === "?" || same(c, t[j] as string, caseInsensitive))) {
      i++;
      j++;
    } else if (star >= 0) {
      i = star + 1;
      j = ++resume;
    } else {
      return false;
    }
  }
  while (p[i] === "*") i++;
  return i === p.length;
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

function same(a: string, b: string, caseInsensitive: boolean): boolean {
  if (a === b) return true;
  if (!caseInsensitive) return false;
  return a.toLowerCase() === b.toLowerCase() || a.toUpperCase() === b.toUpperCase();
}

/** Thrown (as a DiagnosticError, EQL120) for Lucene syntax with no JavaScript translation or bad syntax. */
export function luceneToRegExp(pattern: string, caseInsensitive: boolean, span?: Span): RegExp {
  const key = `r${caseInsensitive ? "i" : ""}:${pattern}`;
  let re = cache.get(key);
  if (!re) {
    try {
      re = new RegExp(`^(?:${luceneToJsSource(pattern)})$`, caseInsensitive ? "isu" : "su");
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
