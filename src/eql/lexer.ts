/**
 * The EQL lexer (Elasticsearch dialect): turns a query text into tokens with their spans.
 *
 * Strings: `"..."` with escapes (\t \b \f \n \r \" \' \\ \u{XX..XXXXXXXX}; unknown escapes are kept as written,
 * as Elasticsearch does) and `"""raw"""` strings. Single-quoted and `?"..."` strings are lexed only to report the
 * error Elasticsearch reports. Comments: `// ...` and (nestable) `/* ... *\/`.
 */
import { Codes, type Diagnostic, DiagnosticError, LineMap, type Span } from "../diagnostics/index.js";

export type TokenKind =
  | "keyword"
  | "identifier" // plain (`process`) or backquoted (`` `odd name` ``)
  | "tildeIdentifier" // a function name with `~`: `startsWith~`
  | "string"
  | "integer"
  | "decimal"
  | "operator"
  | "eof";

export interface Token {
  readonly kind: TokenKind;
  /** Keyword/operator text, identifier name, or the decoded string value. */
  readonly text: string;
  /** The source text of the token as written. */
  readonly raw: string;
  readonly span: Span;
  /** Identifiers written in backquotes are never keywords. */
  readonly quoted?: boolean;
}

const KEYWORDS = new Set([
  "and",
  "any",
  "by",
  "false",
  "in",
  "join",
  "like",
  "maxspan",
  "not",
  "null",
  "of",
  "or",
  "regex",
  "sample",
  "sequence",
  "true",
  "until",
  "where",
  "with",
]);

/** Longest first, so `<=` wins over `<` and `![` over `!=`. */
const OPERATORS = [
  "in~",
  "like~",
  "regex~",
  "==",
  "!=",
  "<=",
  ">=",
  "![",
  "<",
  ">",
  "=",
  ":",
  "+",
  "-",
  "*",
  "/",
  "%",
  ".",
  ",",
  "[",
  "]",
  "(",
  ")",
  "|",
  "?",
];

const isLetter = (c: string) => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z");
const isDigit = (c: string) => c >= "0" && c <= "9";
const isIdentStart = (c: string) => isLetter(c) || c === "_" || c === "@";
const isIdentPart = (c: string) => isLetter(c) || isDigit(c) || c === "_";

export function syntaxError(code: string, message: string, span: Span, hint?: string): DiagnosticError {
  const diagnostic: Diagnostic = { code, severity: "error", message, span, ...(hint ? { hint } : {}) };
  return new DiagnosticError([diagnostic]);
}

/** Describes a token for messages: `"where"`, `identifier "foo"`, `end of query`. */
export function describeToken(token: Token): string {
  switch (token.kind) {
    case "eof":
      return "end of query";
    case "keyword":
    case "operator":
      return `"${token.text}"`;
    case "identifier":
    case "tildeIdentifier":
      return `identifier "${token.raw}"`;
    case "string":
      return `string ${token.raw.length > 40 ? `${token.raw.slice(0, 37)}...` : token.raw}`;
    default:
      return `number ${token.raw}`;
  }
}

export function tokenize(text: string, lines = new LineMap(text)): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  const spanOf = (start: number, end: number) => lines.span(start, end);

  while (i < n) {
    const c = text[i] as string;
    // whitespace
    if (c === " " || c === "\t" || c === "\r" || c === "\n") {
      i++;
      continue;
    }
    // comments
    if (c === "/" && text[i + 1] === "/") {
      while (i < n && text[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && text[i + 1] === "*") {
      const start = i;
      let depth = 0;
      while (i < n) {
        if (text[i] === "/" && text[i + 1] === "*") {
          depth++;
          i += 2;
        } else if (text[i] === "*" && text[i + 1] === "/") {
          depth--;
          i += 2;
          if (depth === 0) break;
        } else i++;
      }
      if (depth !== 0) throw syntaxError(Codes.EqlSyntax, "unterminated comment", spanOf(start, n));
      continue;
    }
    const start = i;
    // strings
    if (c === '"') {
      if (text.startsWith('"""', i)) {
        const close = text.indexOf('"""', i + 3);
        const newline = text.slice(i + 3, close === -1 ? n : close).search(/[\r\n]/);
        if (close === -1 || newline !== -1) {
          throw syntaxError(
            Codes.EqlUnterminatedString,
            'unterminated raw string: expected closing """ on the same line',
            spanOf(start, newline === -1 ? n : i + 3 + newline),
          );
        }
        let end = close + 3;
        // `"""a""""` ends with up to two extra quotes that belong to the value (as in Elasticsearch)
        if (text[end] === '"') end++;
        if (text[end] === '"') end++;
        tokens.push({
          kind: "string",
          text: text.slice(i + 3, end - 3),
          raw: text.slice(start, end),
          span: spanOf(start, end),
        });
        i = end;
        continue;
      }
      const { value, end } = readQuoted(text, i, lines);
      tokens.push({ kind: "string", text: value, raw: text.slice(start, end), span: spanOf(start, end) });
      i = end;
      continue;
    }
    if (c === "'") {
      throw syntaxError(
        Codes.EqlSyntax,
        "use double quotes [\"] to define string literals, not single quotes [']",
        spanOf(start, start + 1),
      );
    }
    if (c === "?" && (text[i + 1] === '"' || text[i + 1] === "'")) {
      throw syntaxError(
        Codes.EqlSyntax,
        `use triple double quotes ["""] to define unescaped string literals, not [?${text[i + 1]}]`,
        spanOf(start, start + 2),
      );
    }
    // backquoted identifiers: `` `a``b` `` is the name a`b
    if (c === "`") {
      let j = i + 1;
      let name = "";
      for (;;) {
        if (j >= n) throw syntaxError(Codes.EqlSyntax, "unterminated quoted identifier", spanOf(start, n));
        if (text[j] === "`") {
          if (text[j + 1] === "`") {
            name += "`";
            j += 2;
            continue;
          }
          break;
        }
        name += text[j];
        j++;
      }
      tokens.push({
        kind: "identifier",
        text: name,
        raw: text.slice(start, j + 1),
        span: spanOf(start, j + 1),
        quoted: true,
      });
      i = j + 1;
      continue;
    }
    // numbers: 12, 1.5, 1., .5, 1e3, 1.5E-2
    if (isDigit(c) || (c === "." && isDigit(text[i + 1] ?? ""))) {
      let j = i;
      let decimal = false;
      while (j < n && isDigit(text[j] as string)) j++;
      if (text[j] === "." && !isIdentStart(text[j + 1] ?? "")) {
        decimal = true;
        j++;
        while (j < n && isDigit(text[j] as string)) j++;
      }
      if ((text[j] === "e" || text[j] === "E") && /^[eE][+-]?\d/.test(text.slice(j, j + 3))) {
        decimal = true;
        j++;
        if (text[j] === "+" || text[j] === "-") j++;
        while (j < n && isDigit(text[j] as string)) j++;
      }
      const raw = text.slice(start, j);
      tokens.push({ kind: decimal ? "decimal" : "integer", text: raw, raw, span: spanOf(start, j) });
      i = j;
      continue;
    }
    // identifiers, keywords, `name~`
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(text[j] as string)) j++;
      const word = text.slice(i, j);
      if (text[j] === "~" && (word === "in" || word === "like" || word === "regex")) {
        tokens.push({ kind: "operator", text: `${word}~`, raw: `${word}~`, span: spanOf(start, j + 1) });
        i = j + 1;
        continue;
      }
      if (text[j] === "~") {
        tokens.push({ kind: "tildeIdentifier", text: word, raw: `${word}~`, span: spanOf(start, j + 1) });
        i = j + 1;
        continue;
      }
      tokens.push({
        kind: KEYWORDS.has(word) ? "keyword" : "identifier",
        text: word,
        raw: word,
        span: spanOf(start, j),
      });
      i = j;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op) {
      tokens.push({ kind: "operator", text: op, raw: op, span: spanOf(start, i + op.length) });
      i += op.length;
      continue;
    }
    throw syntaxError(Codes.EqlSyntax, `unexpected character ${JSON.stringify(c)}`, spanOf(start, start + 1));
  }
  tokens.push({ kind: "eof", text: "", raw: "", span: spanOf(n, n) });
  return tokens;
}

/** Reads a `"..."` string starting at `start`; returns the decoded value and the offset after the closing quote. */
function readQuoted(text: string, start: number, lines: LineMap): { value: string; end: number } {
  let value = "";
  let i = start + 1;
  for (;;) {
    const c = text[i];
    if (c === undefined || c === "\n" || c === "\r") {
      throw syntaxError(
        Codes.EqlUnterminatedString,
        'unterminated string: expected closing " on the same line',
        lines.span(start, i),
        'use """raw""" strings or \\n for line breaks',
      );
    }
    if (c === '"') return { value, end: i + 1 };
    if (c !== "\\") {
      value += c;
      i++;
      continue;
    }
    const e = text[i + 1];
    switch (e) {
      case "t":
        value += "\t";
        break;
      case "b":
        value += "\b";
        break;
      case "f":
        value += "\f";
        break;
      case "n":
        value += "\n";
        break;
      case "r":
        value += "\r";
        break;
      case '"':
        value += '"';
        break;
      case "'":
        value += "'";
        break;
      case "\\":
        value += "\\";
        break;
      case "u": {
        const m = /^\\u\{([0-9a-fA-F]*)\}/.exec(text.slice(i, i + 14));
        if (!m) {
          throw syntaxError(
            Codes.EqlBadEscape,
            "invalid unicode escape: expected \\u{XX} with 2 to 8 hex digits",
            lines.span(i, i + 2),
          );
        }
        const hex = m[1] as string;
        const code = Number.parseInt(hex, 16);
        if (hex.length < 2 || hex.length > 8) {
          throw syntaxError(
            Codes.EqlBadEscape,
            `unicode sequence should use [2-8] hex digits, [${m[0]}] has [${hex.length}]`,
            lines.span(i, i + m[0].length),
          );
        }
        if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) {
          throw syntaxError(
            Codes.EqlBadEscape,
            `invalid unicode character code [${hex}]`,
            lines.span(i, i + m[0].length),
          );
        }
        value += String.fromCodePoint(code);
        i += m[0].length;
        continue;
      }
      case undefined:
      case "\n":
      case "\r":
        throw syntaxError(
          Codes.EqlUnterminatedString,
          'unterminated string: expected closing "',
          lines.span(start, i + 1),
        );
      default:
        // Elasticsearch keeps unknown escapes as written (`\w` stays `\w`), which matters for regex patterns.
        value += `\\${e}`;
    }
    i += 2;
  }
}
