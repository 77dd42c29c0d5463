/**
 * The one place where a rule's query is parsed. EQL queries go through the EQL parser (src/eql); its
 * diagnostics, whose spans are relative to the query text, are moved to the rule file's coordinates.
 * Other languages are kept as text: the translator refuses them.
 */
import type { AST } from "toml-eslint-parser";
import { Codes, type Diagnostic, DiagnosticError, type Span } from "../diagnostics/index.js";
import type { Query } from "../eql/ast.js";
import { parseEql } from "../eql/parser.js";
import { stringContentOffsets, type TomlDocument } from "./toml-document.js";

interface ParsedQuery {
  readonly ast: Query | null;
  /** Where the query's content is in the rule file. */
  readonly span: Span;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Maps spans inside the query string to the file: each offset is looked up, since a basic string may hold escapes and
 * line-ending backslashes, and a multi-line string's CRLF is one character of the query (a shift by the content's
 * origin would be off by one a line in a CRLF file).
 */
function spanMapper(document: TomlDocument, node: AST.TOMLStringValue): { span: Span; map: (inner: Span) => Span } {
  const offsets = stringContentOffsets(document.text, node);
  const first = offsets[0] ?? node.range[0];
  const last = offsets[offsets.length - 1] ?? node.range[1];
  const span = document.lines.span(first, last);
  const at = (offset: number) => offsets[Math.min(Math.max(offset, 0), offsets.length - 1)] ?? last;
  return { span, map: (inner) => document.lines.span(at(inner.start.offset), at(inner.end.offset)) };
}

export function parseRuleQuery(
  document: TomlDocument,
  node: AST.TOMLStringValue,
  language: string,
  field: string,
): ParsedQuery {
  const { span, map } = spanMapper(document, node);
  if (language !== "eql") return { ast: null, span, diagnostics: [] };
  try {
    return { ast: parseEql(node.value), span, diagnostics: [] };
  } catch (error) {
    if (!(error instanceof DiagnosticError)) throw error;
    const diagnostics = error.diagnostics.map(
      (d): Diagnostic => ({
        ...d,
        file: document.file,
        field,
        ...(d.span ? { span: map(d.span) } : { span }),
        code: d.code || Codes.RuleQuery,
      }),
    );
    return { ast: null, span, diagnostics };
  }
}
