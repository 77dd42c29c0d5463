/**
 * The EQL abstract syntax tree (Elasticsearch dialect). Immutable; every node carries its span.
 * Derived facts (types, resolved fields) live beside the tree, never in it.
 *
 * This file is the contract between the parser (producer), the evaluator and the KQL emitter (consumers).
 */
import type { Span } from "../diagnostics/span.js";

interface Node {
  readonly span: Span;
}

// ── Expressions ──────────────────────────────────────────────────────────────

export type LiteralValue = string | number | boolean | null;

export interface Literal extends Node {
  readonly kind: "literal";
  readonly value: LiteralValue;
  /** `number` literals keep whether they were written as integers (`5`) or decimals (`5.0`). */
  readonly numberKind?: "integer" | "decimal";
}

/** A field reference: `process.executable`, `?process.parent.name` (optional), `` `odd name` ``. */
export interface FieldRef extends Node {
  readonly kind: "field";
  /** The full dotted name as written, without the `?` and backquotes: `process.parent.name`. */
  readonly name: string;
  /** `?field`: a field absent from the mapping is null rather than an error. */
  readonly optional: boolean;
}

export interface Not extends Node {
  readonly kind: "not";
  readonly operand: Expr;
}

export interface Logical extends Node {
  readonly kind: "logical";
  readonly op: "and" | "or";
  readonly left: Expr;
  readonly right: Expr;
}

export type ComparisonOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

/** The operator that holds with its operands swapped (`a < b` is `b > a`). */
export const FLIPPED_COMPARISON: Readonly<Record<ComparisonOp, ComparisonOp>> = {
  "==": "==",
  "!=": "!=",
  "<": ">",
  "<=": ">=",
  ">": "<",
  ">=": "<=",
};

export interface Comparison extends Node {
  readonly kind: "comparison";
  readonly op: ComparisonOp;
  readonly left: Expr;
  readonly right: Expr;
}

/**
 * Pattern matching: `f : "a*"` (case-insensitive, wildcards), `f like "a*"`, `f like~ "a*"`,
 * `f regex "a.*"`, `f regex~ "a.*"`. Each takes one pattern or a parenthesised list (any matches).
 * `:` with no wildcard in the pattern is case-insensitive equality.
 */
export interface Match extends Node {
  readonly kind: "match";
  readonly op: ":" | "like" | "regex";
  readonly caseInsensitive: boolean;
  readonly left: Expr;
  readonly patterns: readonly Expr[];
}

/** `f in (...)`, `f in~ (...)`, `f not in (...)`, `f not in~ (...)`. */
export interface In extends Node {
  readonly kind: "in";
  readonly negated: boolean;
  readonly caseInsensitive: boolean;
  readonly left: Expr;
  readonly values: readonly Expr[];
}

export interface Arithmetic extends Node {
  readonly kind: "arithmetic";
  readonly op: "+" | "-" | "*" | "/" | "%";
  readonly left: Expr;
  readonly right: Expr;
}

export interface Negate extends Node {
  readonly kind: "negate";
  readonly operand: Expr;
}

/**
 * A function call. `name` is the canonical lower-case name without `~` (`startswith`, `cidrmatch`);
 * `caseInsensitive` is true for the `~` variants (`startsWith~`).
 */
export interface Call extends Node {
  readonly kind: "call";
  readonly name: string;
  readonly caseInsensitive: boolean;
  readonly args: readonly Expr[];
}

export type Expr = Literal | FieldRef | Not | Logical | Comparison | Match | In | Arithmetic | Negate | Call;

// ── Queries ──────────────────────────────────────────────────────────────────

export interface Duration extends Node {
  readonly value: number;
  readonly unit: "ms" | "s" | "m" | "h" | "d";
  /** The duration in milliseconds. */
  readonly milliseconds: number;
}

/** `category where condition`; `category` is null for `any`. */
export interface EventFilter extends Node {
  readonly category: string | null;
  readonly condition: Expr;
}

export interface Pipe extends Node {
  readonly kind: "head" | "tail";
  readonly count: number;
}

export interface EventQuery extends Node {
  readonly kind: "event";
  readonly filter: EventFilter;
  readonly pipes: readonly Pipe[];
}

/** One step of a sequence or sample: `[process where ...] by a, b with runs=3`, or a missing event `![...]`. */
export interface SequenceStep extends Node {
  readonly filter: EventFilter;
  readonly by: readonly Expr[];
  /** `with runs=N`: the step repeats N times in a row (default 1). */
  readonly runs: number;
  /** `![ ... ]`: the event must NOT occur at this position. */
  readonly missing: boolean;
}

export interface SequenceQuery extends Node {
  readonly kind: "sequence";
  /** `sequence by a, b`: join keys shared by all steps (prepended to each step's own `by`). */
  readonly by: readonly Expr[];
  readonly maxspan: Duration | null;
  readonly steps: readonly SequenceStep[];
  readonly until: SequenceStep | null;
  readonly pipes: readonly Pipe[];
}

export interface SampleQuery extends Node {
  readonly kind: "sample";
  readonly by: readonly Expr[];
  readonly steps: readonly SequenceStep[];
  readonly pipes: readonly Pipe[];
}

export type Query = EventQuery | SequenceQuery | SampleQuery;

/** The direct subexpressions of `expr`, in source order. */
export function childrenOf(expr: Expr): readonly Expr[] {
  switch (expr.kind) {
    case "not":
    case "negate":
      return [expr.operand];
    case "logical":
    case "comparison":
    case "arithmetic":
      return [expr.left, expr.right];
    case "match":
      return [expr.left, ...expr.patterns];
    case "in":
      return [expr.left, ...expr.values];
    case "call":
      return expr.args;
    case "literal":
    case "field":
      return [];
  }
}

/**
 * Walks every expression below `expr` (pre-order), including `expr`. With an explicit stack: a recursive generator
 * passes each node up through every level above it (`yield*`), so a walk of a 250-deep `1 + 1 + …` cost its depth
 * per node, and the evaluator's walk per arithmetic node made a 16 KiB query take 8 s to compile.
 */
export function* walkExpr(expr: Expr): Generator<Expr> {
  const stack: Expr[] = [expr];
  for (let node = stack.pop(); node; node = stack.pop()) {
    yield node;
    const children = childrenOf(node);
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as Expr);
  }
}

/** The field names a query reads, in order of first use. */
export function fieldsOf(query: Query): string[] {
  const seen = new Set<string>();
  const visit = (e: Expr) => {
    for (const node of walkExpr(e)) if (node.kind === "field") seen.add(node.name);
  };
  if (query.kind === "event") visit(query.filter.condition);
  else {
    for (const k of query.by) visit(k);
    const steps = query.kind === "sequence" && query.until ? [...query.steps, query.until] : query.steps;
    for (const s of steps) {
      visit(s.filter.condition);
      for (const k of s.by) visit(k);
    }
  }
  return [...seen];
}
