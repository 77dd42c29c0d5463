/**
 * Access to Kusto.Language syntax nodes. The tree is a Bridge.NET object graph whose classes are told apart at
 * run time by their type name; the engine dispatches on `kindOf(node)` (e.g. "FilterOperator").
 */
import { bridgeTypeName, kqlTypeNamed, listItems } from "../kusto/index.js";
import type { ScalarType } from "./values.js";

// biome-ignore lint/suspicious/noExplicitAny: syntax nodes are Bridge.NET objects dispatched on their run-time type name
export type Node = any;

const PREFIX = "Kusto.Language.Syntax.";

/** `FilterOperator`, `BinaryExpression`, ... */
export function kindOf(node: Node): string {
  const name = bridgeTypeName(node);
  return name.startsWith(PREFIX) ? name.slice(PREFIX.length) : name;
}

/** The elements of a SyntaxList / SeparatedSyntaxList, unwrapping SeparatedElement. */
export function elements(list: Node): Node[] {
  if (!list) return [];
  const out: Node[] = [];
  for (let i = 0; i < list.Count; i++) {
    const item = list.getItem(i);
    out.push(item && item.Element !== undefined ? item.Element : item);
  }
  return out;
}

/** The scalar type Kusto.Language bound to an expression (or a type symbol). */
function scalarTypeOfSymbol(type: Node): ScalarType {
  if (!type) return "dynamic";
  const cls = bridgeTypeName(type);
  if (cls.includes("Dynamic")) return "dynamic";
  return kqlTypeNamed(String(type.Name ?? "")) ?? "dynamic";
}

/** The type name a type expression spells (`typeof(long)` → `long`, lower case), or its whole text. */
export function typeLiteralName(node: Node): string {
  const text = String(node?.ToString?.() ?? "");
  const m = /typeof\s*\(\s*(\w+)\s*\)/i.exec(text);
  return (m?.[1] ?? text).toLowerCase();
}

export function typeOf(expr: Node): ScalarType {
  return scalarTypeOfSymbol(expr?.ResultType);
}

/** The column names (and types) of a node's bound table type. */
export function resultColumns(node: Node): { name: string; type: ScalarType }[] {
  const table = node?.ResultType;
  if (!table?.Columns) return [];
  return listItems(table.Columns as System.Collections.Generic.IReadOnlyList$1<Node>).map((c: Node) => ({
    name: String(c.Name),
    type: scalarTypeOfSymbol(c.Type),
  }));
}

/** The identifier of a NameDeclaration / NameReference / TokenName. */
export function simpleName(node: Node): string {
  if (!node) return "";
  if (typeof node.SimpleName === "string") return node.SimpleName;
  if (node.Name && typeof node.Name.SimpleName === "string") return node.Name.SimpleName;
  return String(node.ToString?.() ?? "");
}
