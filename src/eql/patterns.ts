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

const JS_SYNTAX = /[\^$\\.*+?()[\]{}|/]/;
const escapeChar = (c: string) => (JS_SYNTAX.test(c) ? `\\${c}` : c);

export function wildcardToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  const key = `w${caseInsensitive ? "i" : ""}:${pattern}`;
  let re = cache.get(key);
  if (!re) {
    let source = "";
    for (const c of pattern) source += c === "*" ? "[^]*" : c === "?" ? "[^]" : escapeChar(c);
    re = new RegExp(`^${source}$`, caseInsensitive ? "iu" : "u");
    remember(key, re);
  }
  return re;
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
