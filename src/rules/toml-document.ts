/**
 * A TOML file read with positions: the plain value (as `getStaticTOMLValue` gives it) plus, for every key
 * path, where its key and its value are in the file. Paths are written as in diagnostics:
 * `rule.threat[0].technique[1].id`.
 */
import { type AST, getStaticTOMLValue, ParseError, parseTOML } from "toml-eslint-parser";
import { Codes, type Diagnostic, firstNotUtf8, LineMap, type Span } from "../diagnostics/index.js";

export type PathSegment = string | number;
export type TomlPath = readonly PathSegment[];

/** Where one key path is in the file: the key as written (or the table header) and its value. */
interface Located {
  readonly key: Span;
  readonly value: Span;
  /** The value node, when the path names a key/value or an array element (not a table header). */
  readonly node?: AST.TOMLContentNode;
}

export interface TomlDocument {
  readonly file: string;
  readonly text: string;
  readonly lines: LineMap;
  /** The whole document as plain data: tables are objects, arrays are arrays, dates are Date objects. */
  readonly value: Record<string, unknown>;
  /** The key or value at `path`, or at its nearest ancestor that the file spells out (a missing key). */
  locate(path: TomlPath): Located;
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/** `rule.threat[0].technique[1].id`; keys that are not bare are quoted: `a["odd key"]`. */
export function formatPath(path: TomlPath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (BARE_KEY.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/**
 * A TOML file's bytes as text. TOML 1.0: "A TOML file must be a valid UTF-8 encoded Unicode document"; a byte that is
 * not UTF-8 is a RULE200 at its line and column (decoding with replacement would load the rule with U+FFFD in place
 * of what the file says). A leading byte order mark is kept (parseTomlDocument drops it).
 */
export function decodeTomlFile(file: string, bytes: Uint8Array): { text: string } | { diagnostics: Diagnostic[] } {
  const invalid = firstNotUtf8(bytes);
  if (!invalid) return { text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8") };
  const shown = [...bytes.subarray(invalid.offset, invalid.offset + 4)]
    .map((b) => `0x${b.toString(16).toUpperCase().padStart(2, "0")}`)
    .join(" ");
  return {
    diagnostics: [
      {
        code: Codes.RuleToml,
        severity: "error",
        message: `TOML: the file is not valid UTF-8 (bytes ${shown} at byte offset ${invalid.offset}); a TOML file must be UTF-8`,
        file,
        span: invalid.span,
      },
    ],
  };
}

/** Parses TOML text; a syntax error becomes a RULE200 diagnostic at its line and column. */
export function parseTomlDocument(
  file: string,
  source: string,
): { document: TomlDocument; diagnostics: [] } | { document?: undefined; diagnostics: Diagnostic[] } {
  // A leading byte order mark is not part of the document (toml-test valid/utf8-bom-*), and editors do not count it
  // as a column: positions are those of the text after it.
  const text = source.startsWith("\uFEFF") ? source.slice(1) : source;
  const lines = new LineMap(text);
  // TOML's newline is LF or CRLF; a CR alone is allowed nowhere (toml-test invalid/control/bare-cr), and the parser
  // lets one through at the end of the file.
  const bareCr = /\r(?!\n)/.exec(text);
  if (bareCr) {
    const at = lines.position(bareCr.index);
    return {
      diagnostics: [
        {
          code: Codes.RuleToml,
          severity: "error",
          message: "TOML syntax: a carriage return (CR) is allowed only in a CRLF line ending",
          file,
          span: { start: at, end: lines.position(bareCr.index + 1) },
        },
      ],
    };
  }
  let ast: AST.TOMLProgram;
  try {
    // TOML 1.0 (toml.io/en/v1.0.0), as Elastic's tooling reads rule files: the parser's default is 1.1, which would
    // accept what 1.0 refuses (newlines and a trailing comma in inline tables, `\x` escapes, times without seconds).
    ast = parseTOML(text, { tomlVersion: "1.0" });
  } catch (error) {
    if (error instanceof ParseError) {
      const at = lines.position(Math.min(error.index, text.length));
      return {
        diagnostics: [
          {
            code: Codes.RuleToml,
            severity: "error",
            message: `TOML syntax: ${error.message}`,
            file,
            span: { start: at, end: at },
          },
        ],
      };
    }
    throw error;
  }
  const spans = new Map<string, Located>();
  const spanOf = (node: { range: [number, number] }): Span => lines.span(node.range[0], node.range[1]);

  const recordValue = (path: PathSegment[], keySpan: Span, node: AST.TOMLContentNode): void => {
    spans.set(formatPath(path), { key: keySpan, value: spanOf(node), node });
    if (node.type === "TOMLArray") {
      node.elements.forEach((element, index) => {
        recordValue([...path, index], spanOf(element), element);
      });
    } else if (node.type === "TOMLInlineTable") {
      for (const kv of node.body) recordKeyValue(path, kv);
    }
  };
  /** The first key named `__proto__` (refused below). */
  let protoKey: Span | undefined;
  const recordKeyValue = (prefix: readonly PathSegment[], kv: AST.TOMLKeyValue): void => {
    const keys = kv.key.keys.map((k) => (k.type === "TOMLBare" ? k.name : k.value));
    if (keys.includes("__proto__")) protoKey ??= spanOf(kv.key);
    // Dotted keys (`a.b = 1`) also define the intermediate tables: point those at the key too.
    for (let i = 1; i < keys.length; i++) {
      const partial = formatPath([...prefix, ...keys.slice(0, i)]);
      if (!spans.has(partial)) spans.set(partial, { key: spanOf(kv.key), value: spanOf(kv) });
    }
    recordValue([...prefix, ...keys], spanOf(kv.key), kv.value);
  };

  const top = ast.body[0];
  for (const item of top.body) {
    if (item.type === "TOMLKeyValue") {
      recordKeyValue([], item);
      continue;
    }
    const header = spanOf(item.key);
    const path = item.resolvedKey;
    if (path.includes("__proto__")) protoKey ??= header;
    // `[[rule.threat]]` resolves to ["rule", "threat", 0]; the array itself points at its first header.
    for (let i = 1; i < path.length; i++) {
      const partial = formatPath(path.slice(0, i));
      if (!spans.has(partial)) spans.set(partial, { key: header, value: header });
    }
    spans.set(formatPath(path), { key: header, value: spanOf(item) });
    for (const kv of item.body) recordKeyValue(path, kv);
  }

  const fileStart: Located = { key: lines.span(0, 0), value: lines.span(0, 0) };
  const locate = (path: TomlPath): Located => {
    for (let n = path.length; n > 0; n--) {
      const found = spans.get(formatPath(path.slice(0, n)));
      if (found) return found;
    }
    return fileStart;
  };
  // A key `__proto__` would be assigned as the prototype of the table holding it, by the TOML library's plain
  // objects: the prototype of every object of the process, from one rule file or one /translate request.
  if (protoKey) {
    return {
      diagnostics: [
        {
          code: Codes.RuleToml,
          severity: "error",
          message: "TOML: a key named __proto__ is not allowed",
          file,
          span: protoKey,
        },
      ],
    };
  }
  const value = getStaticTOMLValue(ast) as Record<string, unknown>;
  return { document: { file, text, lines, value, locate }, diagnostics: [] };
}

/**
 * Maps each character of a TOML string value back to its offset in the file, so a span found inside the
 * value (an EQL error in `rule.query`) points at the right place even across escapes and line continuations.
 * Returns `length + 1` offsets (the last one is the end of the content).
 */
export function stringContentOffsets(text: string, node: AST.TOMLStringValue): number[] {
  const [start, end] = node.range;
  const quote = node.multiline ? 3 : 1;
  let i = start + quote;
  const stop = end - quote;
  if (node.multiline) {
    // A newline right after the opening delimiter is trimmed.
    if (text.startsWith("\r\n", i)) i += 2;
    else if (text[i] === "\n") i += 1;
  }
  const offsets: number[] = [];
  // The parser gives a multi-line string's CRLF as one LF (TOML 1.0 lets it normalise newlines): one character of the
  // value, two of the file.
  const crlfAt = (at: number) => node.multiline && text[at] === "\r" && text[at + 1] === "\n";
  if (node.style === "literal") {
    for (; i < stop; i += crlfAt(i) ? 2 : 1) offsets.push(i);
    offsets.push(stop);
    return offsets.slice(0, node.value.length + 1);
  }
  while (i < stop) {
    const ch = text[i];
    if (crlfAt(i)) {
      offsets.push(i);
      i += 2;
      continue;
    }
    if (ch !== "\\") {
      // Characters outside the BMP take two UTF-16 units both in the file and in the value.
      offsets.push(i);
      i++;
      continue;
    }
    const next = text[i + 1] ?? "";
    if (node.multiline && /[ \t\r\n]/.test(next)) {
      // Line-ending backslash: drops all whitespace and newlines up to the next other character.
      i++;
      while (i < stop && /[ \t\r\n]/.test(text[i] ?? "")) i++;
      continue;
    }
    const width = next === "u" ? 6 : next === "U" ? 10 : next === "x" ? 4 : 2;
    const produced = next === "U" ? String.fromCodePoint(Number.parseInt(text.slice(i + 2, i + 10), 16)).length : 1;
    for (let k = 0; k < produced; k++) offsets.push(i);
    i += width;
  }
  offsets.push(stop);
  return offsets;
}
