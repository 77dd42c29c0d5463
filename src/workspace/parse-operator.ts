/**
 * The `parse` operator (KQL docs, parse-operator): `T | parse [kind=simple|regex] Expression with * "lit" Col:type …`.
 *
 * From the docs: the pattern is a sequence of string literals, `*` ("matches any number of characters") and
 * column declarations (`Name` or `Name:type`, default string); in the default `simple` kind "all the string
 * delimiters should appear in the parsed string, and all extended columns must match the required types", else
 * every extended column is empty (null for typed columns, "" for strings). The pattern is matched from the start
 * of the string; a column or `*` is the shortest text that lets the rest match, except at the end of the pattern
 * where it takes the rest of the string. `kind=regex` takes the literals as regular expressions, in KQL's syntax
 * (regex.md names `parse` among its users); the columns are groups of their own, so a group inside a literal does
 * not move them.
 */
import { DiagnosticError } from "../diagnostics/index.js";
import { type Ctx, rowScope, spanOf } from "./context.js";
import { semanticError, unsupported } from "./errors.js";
import { regexQuote } from "./parsing.js";
import { compileRegex, regexMatchGroups } from "./regex.js";
import type { Relation, Row } from "./relation.js";
import { compileScalar } from "./scalars.js";
import { elements, kindOf, type Node, resultColumns, simpleName } from "./syntax.js";
import { parseDatetime, type ScalarType, toKqlString, type Value } from "./values.js";

type Part =
  | { readonly kind: "literal"; readonly text: string }
  | { readonly kind: "star" }
  | { readonly kind: "column"; readonly name: string; readonly type: ScalarType };

/**
 * What `*` and a string column match one character of: in the simple kind any character, line ends included; in the
 * regex kind `.`, which crosses a line end only with the `s` flag (parse-operator: "s for matching new line \\n";
 * regex.md: "." is "Any character except new line"), and `flags` are refused here.
 */
const ANY = { simple: "(?s:.)", regex: "." } as const;

/** The regex a typed column captures (KQL docs: int/long "\-\d+|\d+", real "\-\d+(\.\d+)?|\d+(\.\d+)?"). */
function captureOf(type: ScalarType, last: boolean, any: string): string {
  switch (type) {
    case "int":
    case "long":
      return "-\\d+|\\d+";
    case "real":
    case "decimal":
      return "-\\d+(?:\\.\\d+)?|\\d+(?:\\.\\d+)?";
    default:
      return last ? `${any}*` : `${any}*?`;
  }
}

/** The name of the group that captures the i-th column. */
const groupOf = (i: number): string => `parse_column_${i}`;

function convert(text: string, type: ScalarType): Value | undefined {
  switch (type) {
    case "string":
      return text;
    case "int":
    case "long":
    case "real":
    case "decimal": {
      const n = Number(text);
      return text.trim() === "" || Number.isNaN(n) ? undefined : n;
    }
    case "bool":
      return /^(true|false)$/i.test(text) ? text.toLowerCase() === "true" : undefined;
    case "datetime":
      return parseDatetime(text) ?? undefined;
    default:
      return text;
  }
}

function patternParts(op: Node, ctx: Ctx): Part[] {
  const parts: Part[] = [];
  for (const p of elements(op.Patterns)) {
    const k = kindOf(p);
    if (k === "StarExpression") parts.push({ kind: "star" });
    else if (k === "LiteralExpression" || k === "CompoundStringLiteralExpression") {
      parts.push({ kind: "literal", text: String(p.LiteralValue ?? p.ConstantValue ?? "") });
    } else if (k === "NameDeclaration") parts.push({ kind: "column", name: simpleName(p), type: "string" });
    else if (k === "NameAndTypeDeclaration") {
      parts.push({ kind: "column", name: simpleName(p.Name), type: "string" });
    } else throw unsupported(`parse pattern element ${k}`, spanOf(ctx, p));
  }
  return parts;
}

export async function evalParse(op: Node, input: Relation, ctx: Ctx): Promise<Relation> {
  const kindParam = elements(op.Parameters).find((p) => simpleName(p.Name).toLowerCase() === "kind");
  const mode = kindParam
    ? String(kindParam.Expression?.ConstantValue ?? kindParam.Expression?.ToString?.()).trim()
    : "simple";
  if (mode !== "simple" && mode !== "regex") throw unsupported(`parse kind=${mode}`, spanOf(ctx, op));
  if (elements(op.Parameters).some((p) => simpleName(p.Name).toLowerCase() === "flags")) {
    throw unsupported("parse flags", spanOf(ctx, op));
  }
  const out = resultColumns(op);
  const typeOfColumn = new Map(out.map((c) => [c.name, c.type] as const));
  const parts = patternParts(op, ctx).map((p) =>
    p.kind === "column" ? { ...p, type: typeOfColumn.get(p.name) ?? p.type } : p,
  );
  const columns = parts.filter((p): p is Extract<Part, { kind: "column" }> => p.kind === "column");
  const source = rowScope(input.columns);
  const text = (await compileScalar(op.Expression, source, ctx)).fn;
  let column = 0;
  const any = ANY[mode];
  const pattern = `^${parts
    .map((p, i) => {
      const last = i === parts.length - 1;
      if (p.kind === "literal") return mode === "regex" ? `(?:${p.text})` : regexQuote(p.text);
      if (p.kind === "star") return last ? `${any}*` : `${any}*?`;
      return `(?P<${groupOf(column++)}>${captureOf(p.type, last, any)})`;
    })
    .join("")}`;
  try {
    compileRegex(pattern);
  } catch (error) {
    if (error instanceof DiagnosticError) throw error;
    throw semanticError((error as Error).message, spanOf(ctx, op));
  }
  const index = new Map(input.columns.map((c, i) => [c.name, i] as const));
  const slots = out.map((c) => index.get(c.name));
  const at = new Map(columns.map((c, i) => [c.name, i] as const));
  const f = (row: Row): Row => {
    const value = text(row);
    const m = value === null ? null : regexMatchGroups(pattern, toKqlString(value, "string"));
    let parsed: (Value | undefined)[] | null = null;
    if (m) {
      parsed = columns.map((c, i) => convert(m[groupOf(i)] ?? "", c.type));
      if (parsed.some((v) => v === undefined)) parsed = null;
    }
    return out.map((c, i) => {
      const p = at.get(c.name);
      if (p !== undefined) return parsed ? (parsed[p] as Value) : c.type === "string" ? "" : null;
      const s = slots[i];
      return s === undefined ? null : (row[s] as Value);
    });
  };
  return {
    columns: out,
    async *batches() {
      for await (const batch of input.batches()) yield batch.map(f);
    },
  };
}
