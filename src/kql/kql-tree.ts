/**
 * A small KQL expression tree and its one printer. The emitter builds trees; the printer decides every
 * parenthesis from precedence, once, so nothing re-reads emitted text (which was quadratic in the size of the
 * condition).
 *
 * Precedence, loosest first (KQL's, as in the query-language docs: `or` < `and` < comparison and string
 * operators < additive < multiplicative): comparison operators (`==`, `in`, `has`, `matches regex`, …) do not
 * chain, so a comparison inside another is parenthesised; inside `and`/`or` a nested junction is always
 * parenthesised for the reader, though `and` binds tighter.
 *
 * Printing recurses once per tree level. The tree is as deep as the EQL expression it comes from, which the EQL
 * parser bounds (MAX_EXPRESSION_DEPTH, with `and`/`or` chains flattened here), so the recursion is bounded.
 * Each node's text is computed once and remembered, so printing is linear in the size of the tree's text.
 */
import { kqlNumber, kqlString, kqlVerbatim, topLevelIndexes } from "./literals.js";

const Prec = { or: 1, and: 2, compare: 3, add: 4, mul: 5, atom: 9 } as const;
type PrecLevel = (typeof Prec)[keyof typeof Prec];

export type KqlNode =
  /** Text printed as is, with its precedence (a column, a literal, a mapping's expression). */
  | { readonly k: "text"; readonly text: string; readonly prec: PrecLevel }
  | { readonly k: "and" | "or"; readonly parts: readonly KqlNode[] }
  /** `not(x)`: KQL's `not` is a function. */
  | { readonly k: "not"; readonly operand: KqlNode }
  /** `-(x)` */
  | { readonly k: "neg"; readonly operand: KqlNode }
  | { readonly k: "call"; readonly name: string; readonly args: readonly KqlNode[] }
  | { readonly k: "binary"; readonly op: string; readonly left: KqlNode; readonly right: KqlNode }
  /** `(a, b, c)`: the right-hand side of `in`. */
  | { readonly k: "list"; readonly items: readonly KqlNode[] };

const ARITHMETIC: Readonly<Record<string, PrecLevel>> = {
  "+": Prec.add,
  "-": Prec.add,
  "*": Prec.mul,
  "/": Prec.mul,
  "%": Prec.mul,
};

// ── Builders ────────────────────────────────────────────────────────────────

export const atom = (text: string): KqlNode => ({ k: "text", text, prec: Prec.atom });
export const str = (value: string): KqlNode => atom(kqlString(value));
export const verbatim = (value: string): KqlNode => atom(kqlVerbatim(value));
export const num = (value: number): KqlNode => atom(kqlNumber(value));
export const call = (name: string, ...args: KqlNode[]): KqlNode => ({ k: "call", name, args });
export const binary = (left: KqlNode, op: string, right: KqlNode): KqlNode => ({ k: "binary", op, left, right });
export const list = (items: readonly KqlNode[]): KqlNode => ({ k: "list", items });
export const notNode = (operand: KqlNode): KqlNode => ({ k: "not", operand });
export const neg = (operand: KqlNode): KqlNode => ({ k: "neg", operand });

/**
 * KQL text written by hand in a mapping (a column expression, a condition): its precedence is read once from
 * its top-level operators, so that it is parenthesised where it needs to be.
 */
export function raw(text: string): KqlNode {
  const has = (needle: string) => !topLevelIndexes(text, needle).next().done;
  const prec = has(" or ") ? Prec.or : has(" and ") ? Prec.and : has(" ") ? Prec.compare : Prec.atom;
  return { k: "text", text, prec };
}

/**
 * `a and b and …` / `a or b or …`: nested junctions of the same kind are flattened and repeated operands
 * (same text) dropped. Returns the single operand when only one is left, null when none is.
 */
export function junction(conj: "and" | "or", parts: readonly KqlNode[]): KqlNode | null {
  const out: KqlNode[] = [];
  const seen = new Set<string>();
  const add = (p: KqlNode) => {
    const key = printKql(p);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(p);
  };
  for (const p of parts) {
    if (p.k === conj) for (const q of p.parts) add(q);
    else add(p);
  }
  if (out.length === 0) return null;
  if (out.length === 1) return out[0] as KqlNode;
  return { k: conj, parts: out };
}

// ── Printer ─────────────────────────────────────────────────────────────────

function precOf(node: KqlNode): PrecLevel {
  switch (node.k) {
    case "text":
      return node.prec;
    case "or":
      return Prec.or;
    case "and":
      return Prec.and;
    case "binary":
      return ARITHMETIC[node.op] ?? Prec.compare;
    default:
      return Prec.atom;
  }
}

const printed = new WeakMap<KqlNode, string>();

/** The KQL text of a node (without parentheses around it). */
export function printKql(node: KqlNode): string {
  let text = printed.get(node);
  if (text === undefined) {
    text = print(node);
    printed.set(node, text);
  }
  return text;
}

const wrap = (node: KqlNode, parens: boolean) => (parens ? `(${printKql(node)})` : printKql(node));

/** A junction's operand: nested junctions are parenthesised. */
const operand = (node: KqlNode) => wrap(node, precOf(node) <= Prec.and);

function print(node: KqlNode): string {
  switch (node.k) {
    case "text":
      return node.text;
    case "and":
    case "or":
      return joinGrouped(node.parts.map(operand), ` ${node.k} `);
    case "not":
      return `not(${printKql(node.operand)})`;
    case "neg":
      return `-(${printKql(node.operand)})`;
    case "call":
      return `${node.name}(${node.args.map(printKql).join(", ")})`;
    case "list":
      return `(${node.items.map(printKql).join(", ")})`;
    case "binary": {
      const p = precOf(node);
      // comparisons do not chain; arithmetic is left-associative
      const left = wrap(node.left, precOf(node.left) < p || (p === Prec.compare && precOf(node.left) === p));
      const right = wrap(node.right, precOf(node.right) <= p);
      return `${left} ${node.op} ${right}`;
    }
  }
}

/**
 * The most operands a printed `and`/`or` has: longer junctions are printed as parenthesised groups of this many
 * (and groups of groups). Kusto parses `a or b or …` as a left-deep tree and refuses one a few hundred operands
 * long (KS245 "Query syntax depth exceeds maximum safe limit"); grouped, 2,000 operands are about 100 deep.
 */
export const MAX_JUNCTION_OPERANDS = 64;

function joinGrouped(texts: readonly string[], sep: string): string {
  let level = texts;
  while (level.length > MAX_JUNCTION_OPERANDS) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += MAX_JUNCTION_OPERANDS) {
      const group = level.slice(i, i + MAX_JUNCTION_OPERANDS);
      next.push(group.length === 1 ? (group[0] as string) : `(${group.join(sep)})`);
    }
    level = next;
  }
  return level.join(sep);
}

/** A `where` condition: a top-level `and` is split over lines, one operand (or group of operands) per line. */
export function printCondition(node: KqlNode, indent: string): string {
  if (node.k !== "and") return printKql(node);
  return joinGrouped(node.parts.map(operand), `\n${indent}and `);
}
