/**
 * Rewrites a condition the way Elasticsearch's optimizer does before it runs it, so that a back end (KQL) can
 * keep Elasticsearch's meaning without re-deriving it:
 * - `pred == true` is `pred`, `pred == false` is `not pred` (`!=` the other way round);
 * - `not` is pushed down: De Morgan over `and`/`or`, `not not x` is `x`, `not a < b` is `a >= b` (and so on for
 *   the ordering comparisons).
 * After this, `not` wraps only leaves: `==`/`!=`, `:`, `like`, `regex`, `in`, function calls, fields and literals.
 * A negated leaf that compares a field with constants matches events where the field is missing (bool
 * must_not); see compile-expr.ts.
 */
import type { Comparison, ComparisonOp, Expr } from "./ast.js";

const ORDER_NEGATION: Readonly<Partial<Record<ComparisonOp, ComparisonOp>>> = {
  "<": ">=",
  "<=": ">",
  ">": "<=",
  ">=": "<",
};

const BOOLEAN_KINDS: ReadonlySet<Expr["kind"]> = new Set(["call", "comparison", "match", "in", "logical", "not"]);

/** `pred == true|false` (either side) as `{ expr, negate }`, or null. */
function booleanEquality(expr: Comparison): { expr: Expr; negate: boolean } | null {
  if (expr.op !== "==" && expr.op !== "!=") return null;
  const [subject, literal] = expr.right.kind === "literal" ? [expr.left, expr.right] : [expr.right, expr.left];
  if (literal.kind !== "literal" || typeof literal.value !== "boolean" || !BOOLEAN_KINDS.has(subject.kind)) return null;
  return { expr: subject, negate: (expr.op === "==") !== literal.value };
}

/** The condition with `not` pushed down to the leaves and boolean equalities removed (spans kept). */
export function normalizeCondition(expr: Expr): Expr {
  switch (expr.kind) {
    case "logical":
      return { ...expr, left: normalizeCondition(expr.left), right: normalizeCondition(expr.right) };
    case "not":
      return negate(expr.operand);
    case "comparison": {
      const bare = booleanEquality(expr);
      if (bare) return bare.negate ? negate(bare.expr) : normalizeCondition(bare.expr);
      return expr;
    }
    default:
      return expr;
  }
}

function negate(expr: Expr): Expr {
  switch (expr.kind) {
    case "logical":
      return { ...expr, op: expr.op === "and" ? "or" : "and", left: negate(expr.left), right: negate(expr.right) };
    case "not":
      return normalizeCondition(expr.operand);
    case "comparison": {
      const bare = booleanEquality(expr);
      if (bare) return bare.negate ? normalizeCondition(bare.expr) : negate(bare.expr);
      const op = ORDER_NEGATION[expr.op];
      if (op) return { ...expr, op };
      return { kind: "not", operand: expr, span: expr.span };
    }
    default:
      return { kind: "not", operand: expr, span: expr.span };
  }
}
