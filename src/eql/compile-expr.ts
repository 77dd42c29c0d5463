/**
 * Compiles EQL expressions to closures over one event, with Elasticsearch's semantics.
 *
 * Elasticsearch runs an EQL condition as a query: `and`/`or`/`not` become a bool query, and each leaf is either
 * a Lucene query (a field compared with constants: `==`, `!=`, `<`.., `:`, `like`, `regex`, `in`, `startsWith`,
 * `cidrMatch`, `== null`) or a script (everything else: functions, arithmetic, two fields). The difference shows
 * with missing fields:
 * - a query leaf on a missing field does not match, and `not`/`!=` of it DOES match (bool must_not), so
 *   `process.parent.name != "x"` and `not process.parent.name : "x"` match events without a parent name; but
 *   `not` is first pushed down (normalize.ts: De Morgan; `not f > 5` becomes `f <= 5`, which a missing f
 *   does not match);
 *   a multi-valued field matches a query leaf when any of its values does;
 * - a script evaluates with three-valued logic (null propagates: `length(f) > 1`, `not length(f) > 1` are both
 *   null, i.e. no match, when `f` is missing); on a multi-valued field it matches when it holds for any value.
 * `x == null` / `x != null` are existence checks (never null), and an optional field `?f` that is absent acts as
 * the literal null (so `?x == ?y` holds when both are absent), as in Elasticsearch.
 */
import type { ComparisonOp, Expr, FieldRef } from "./ast.js";
import { FLIPPED_COMPARISON, walkExpr } from "./ast.js";
import { callFunction, QUERY_FUNCTIONS } from "./functions.js";
import { normalizeCondition } from "./normalize.js";
import { luceneToRegExp, wildcardMatches } from "./patterns.js";
import { arithmetic, compareValues, type FieldType, isNumber, toText, type Value } from "./values.js";

/** Field access for one event: every value of a field (multi-valued fields flattened, nulls dropped). */
export interface EventView {
  values(field: string): readonly Value[];
}

type ValueFn = (event: EventView) => Value;
type PredicateFn = (event: EventView) => boolean;

interface CompileContext {
  /** Type of a field (after alias resolution), when known. */
  fieldType(name: string): FieldType | undefined;
  /**
   * Whether a field exists in the data searched (its mapping lists it, or some event holds it). An optional field
   * that does not is the literal null (EQL syntax reference: "If an optional field doesn't exist, the query replaces
   * it with `null`"). Without it, every field exists.
   */
  fieldExists?(name: string): boolean;
}

const EMPTY_EVENT: EventView = { values: () => [] };

/** At most this many value combinations of multi-valued fields are tried per script and event. */
const MAX_COMBINATIONS = 4096;

const isConstant = (expr: Expr): boolean => {
  for (const node of walkExpr(expr)) if (node.kind === "field") return false;
  return true;
};

/** Whether an expression yields a decimal at compile time (a decimal literal is involved). */
const isDecimal = (expr: Expr): boolean => {
  for (const node of walkExpr(expr)) if (node.kind === "literal" && node.numberKind === "decimal") return true;
  return false;
};

const first = (values: readonly Value[]): Value => (values.length === 0 ? null : (values[0] as Value));

function compareHolds(op: ComparisonOp, cmp: number | null): boolean {
  if (cmp === null) return op === "!=";
  switch (op) {
    case "==":
      return cmp === 0;
    case "!=":
      return cmp !== 0;
    case "<":
      return cmp < 0;
    case "<=":
      return cmp <= 0;
    case ">":
      return cmp > 0;
    case ">=":
      return cmp >= 0;
  }
}

export class ExprCompiler {
  constructor(private readonly ctx: CompileContext) {}

  private typeOf(expr: Expr): FieldType | undefined {
    return expr.kind === "field" ? this.ctx.fieldType(expr.name) : undefined;
  }

  /**
   * An optional field that exists nowhere: "If an optional field doesn't exist, the query replaces it with `null`
   * instead of returning an error" (EQL syntax reference), so a condition on it is one on the literal null, a script
   * whose value is null, never a query on a missing field (whose negation would match every event).
   */
  private missingOptional(expr: Expr): boolean {
    return expr.kind === "field" && expr.optional && this.ctx.fieldExists?.(expr.name) === false;
  }

  /** A constant's value, folded once. */
  private constantValue(expr: Expr): Value {
    return this.value(expr)(EMPTY_EVENT);
  }

  // ── predicates (the query level) ───────────────────────────────────────────

  /** A condition at the query level (after Elasticsearch's rewrites, see normalize.ts). */
  predicate(expr: Expr): PredicateFn {
    return this.condition(normalizeCondition(expr));
  }

  private condition(expr: Expr): PredicateFn {
    switch (expr.kind) {
      case "logical": {
        const left = this.condition(expr.left);
        const right = this.condition(expr.right);
        return expr.op === "and" ? (e) => left(e) && right(e) : (e) => left(e) || right(e);
      }
      case "not": {
        // after normalization, `not` wraps a leaf: a script stays three-valued, a query becomes must_not
        if (this.isScript(expr.operand)) return this.scriptPredicate(expr);
        const operand = this.condition(expr.operand);
        return (e) => !operand(e);
      }
      case "literal": {
        const holds = expr.value === true;
        return () => holds;
      }
      case "field": {
        const name = expr.name;
        return (e) => e.values(name).some((v) => v === true);
      }
      default:
        return this.queryLeaf(expr) ?? this.scriptPredicate(expr);
    }
  }

  /**
   * A script at the query level: true when it evaluates to true. Like Elasticsearch's multi-value-aware scripts,
   * a field with several values is tried value by value (every combination for several such fields).
   */
  private scriptPredicate(expr: Expr): PredicateFn {
    const value = this.value(expr);
    const fields = [...new Set([...walkExpr(expr)].flatMap((n) => (n.kind === "field" ? [n.name] : [])))];
    return (e) => {
      const multi = fields.filter((f) => e.values(f).length > 1);
      if (multi.length === 0) return value(e) === true;
      const pinned = new Map<string, Value>();
      const view: EventView = { values: (f) => (pinned.has(f) ? [pinned.get(f) as Value] : e.values(f)) };
      let budget = MAX_COMBINATIONS;
      const tryFrom = (i: number): boolean => {
        if (i === multi.length) return budget-- > 0 && value(view) === true;
        const f = multi[i] as string;
        for (const v of e.values(f)) {
          pinned.set(f, v);
          if (tryFrom(i + 1)) return true;
          if (budget <= 0) return false;
        }
        pinned.delete(f);
        return false;
      };
      return tryFrom(0);
    };
  }

  /** Whether Elasticsearch would run this (non-logical) node as a script rather than a query. */
  private isScript(expr: Expr): boolean {
    switch (expr.kind) {
      case "logical":
      case "literal":
      case "field":
        return false;
      case "not":
        return this.isScript(expr.operand);
      default:
        return this.queryLeaf(expr) === null;
    }
  }

  /** The query form of a leaf (field against constants), or null when Elasticsearch would use a script. */
  private queryLeaf(expr: Expr): PredicateFn | null {
    switch (expr.kind) {
      case "comparison": {
        const nullCheck = this.nullCheck(expr.op, expr.left, expr.right);
        if (nullCheck) return nullCheck;
        let op: ComparisonOp = expr.op;
        let field: Expr = expr.left;
        let constant: Expr = expr.right;
        if (field.kind !== "field" && constant.kind === "field") {
          [field, constant] = [constant, field];
          op = FLIPPED_COMPARISON[op];
        }
        if (field.kind !== "field" || !isConstant(constant)) return null;
        if (this.missingOptional(field)) return null;
        const name = field.name;
        const type = this.typeOf(field);
        const c = this.constantValue(constant);
        if (op === "!=") return (e) => !e.values(name).some((v) => compareValues(v, c, type) === 0);
        return (e) => e.values(name).some((v) => compareHolds(op, compareValues(v, c, type)));
      }
      case "match": {
        if (expr.left.kind !== "field" || !expr.patterns.every(isConstant)) return null;
        if (this.missingOptional(expr.left)) return null;
        const name = expr.left.name;
        const test = this.matcher(expr.op, expr.caseInsensitive, expr.patterns);
        return (e) => e.values(name).some(test);
      }
      case "in": {
        if (expr.left.kind !== "field" || !expr.values.every(isConstant)) return null;
        if (this.missingOptional(expr.left)) return null;
        const name = expr.left.name;
        const type = this.typeOf(expr.left);
        const list = expr.values.map((v) => this.constantValue(v)).filter((v) => v !== null);
        const ci = expr.caseInsensitive;
        const inList = (v: Value) =>
          list.some((c) =>
            ci && typeof v === "string" && typeof c === "string"
              ? v.toLowerCase() === c.toLowerCase()
              : compareValues(v, c, type) === 0,
          );
        return expr.negated ? (e) => !e.values(name).some(inList) : (e) => e.values(name).some(inList);
      }
      case "call": {
        const [target, ...rest] = expr.args;
        if (target?.kind !== "field" || !rest.every(isConstant)) return null;
        if (!QUERY_FUNCTIONS.has(expr.name)) return null;
        // an optional field that does not exist is the literal null, and the function of it is null (EQL function
        // reference: `startsWith(null, "regsvr32") // returns null`): a script, not a query on a missing field
        if (this.missingOptional(target)) return null;
        const name = target.name;
        const constants = rest.map((r) => this.constantValue(r));
        // with a null argument the function is null (EQL function reference, e.g. `startsWith("regsvr32.exe", null)
        // // returns null`, `cidrMatch(source.address, null) // returns null`): no query, and its negation is null too
        if (constants.some((c) => c === null)) return null;
        const fn = expr.name;
        const ci = expr.caseInsensitive;
        // As a query, stringContains(field, "") is the wildcard `**` (Elasticsearch queries a field against a
        // constant with `*` + substring + `*`): any value of the field, where the script form returns false.
        if (fn === "stringcontains" && constants[0] === "") return (e) => e.values(name).length > 0;
        return (e) => e.values(name).some((v) => callFunction(fn, ci, [v, ...constants], false) === true);
      }
      default:
        return null;
    }
  }

  /** `x == null`, `x != null` (either side null after folding): existence checks, never null. */
  private nullCheck(op: ComparisonOp, left: Expr, right: Expr): PredicateFn | null {
    if (op !== "==" && op !== "!=") return null;
    const leftNull = isConstant(left) && this.constantValue(left) === null;
    const rightNull = isConstant(right) && this.constantValue(right) === null;
    if (!leftNull && !rightNull) return null;
    const other = this.value(leftNull ? right : left);
    return op === "==" ? (e) => other(e) === null : (e) => other(e) !== null;
  }

  private matcher(
    op: ":" | "like" | "regex",
    caseInsensitive: boolean,
    patterns: readonly Expr[],
  ): (v: Value) => boolean {
    const tests = patterns.map((p) => {
      const pattern = this.constantValue(p);
      if (pattern === null) return () => false;
      const text = toText(pattern);
      if (op !== "regex") return (v: Value) => v !== null && wildcardMatches(text, toText(v), caseInsensitive);
      const re = luceneToRegExp(text, caseInsensitive, p.span);
      return (v: Value) => v !== null && re.test(toText(v));
    });
    return (v) => tests.some((t) => t(v));
  }

  // ── values (the script level, three-valued) ────────────────────────────────

  value(expr: Expr): ValueFn {
    switch (expr.kind) {
      case "literal": {
        const v = expr.value;
        return () => v;
      }
      case "field": {
        const name = expr.name;
        return (e) => first(e.values(name));
      }
      case "not": {
        const operand = this.value(expr.operand);
        return (e) => {
          const v = operand(e);
          return typeof v === "boolean" ? !v : null;
        };
      }
      case "logical": {
        const left = this.value(expr.left);
        const right = this.value(expr.right);
        if (expr.op === "and") {
          return (e) => {
            const l = left(e);
            if (l === false) return false;
            const r = right(e);
            if (r === false) return false;
            return l === true && r === true ? true : null;
          };
        }
        return (e) => {
          const l = left(e);
          if (l === true) return true;
          const r = right(e);
          if (r === true) return true;
          return l === false && r === false ? false : null;
        };
      }
      case "comparison":
        return this.comparisonValue(expr.op, expr.left, expr.right);
      case "match": {
        const left = this.value(expr.left);
        const test = this.matcher(expr.op, expr.caseInsensitive, expr.patterns);
        return (e) => {
          const v = left(e);
          return v === null ? null : test(v);
        };
      }
      case "in": {
        const left = this.value(expr.left);
        const type = this.typeOf(expr.left);
        const values = expr.values.map((v) => this.value(v));
        const ci = expr.caseInsensitive;
        const negated = expr.negated;
        return (e) => {
          const v = left(e);
          if (v === null) return null;
          let sawNull = false;
          for (const item of values) {
            const c = item(e);
            if (c === null) {
              sawNull = true;
              continue;
            }
            const equal =
              ci && typeof v === "string" && typeof c === "string"
                ? v.toLowerCase() === c.toLowerCase()
                : compareValues(v, c, type) === 0;
            if (equal) return !negated;
          }
          return sawNull ? null : negated;
        };
      }
      case "arithmetic": {
        const left = this.value(expr.left);
        const right = this.value(expr.right);
        const op = expr.op;
        const decimal = isDecimal(expr);
        return (e) => arithmetic(op, left(e), right(e), decimal);
      }
      case "negate": {
        const operand = this.value(expr.operand);
        return (e) => {
          const v = operand(e);
          return isNumber(v) ? -v : null;
        };
      }
      case "call": {
        const args = expr.args.map((a) => this.value(a));
        const name = expr.name;
        const ci = expr.caseInsensitive;
        const decimal = isDecimal(expr);
        return (e) =>
          callFunction(
            name,
            ci,
            args.map((a) => a(e)),
            decimal,
          );
      }
    }
  }

  private comparisonValue(op: ComparisonOp, leftExpr: Expr, rightExpr: Expr): ValueFn {
    const nullCheck = this.nullCheck(op, leftExpr, rightExpr);
    if (nullCheck) return (e) => nullCheck(e);
    const left = this.value(leftExpr);
    const right = this.value(rightExpr);
    const type = this.typeOf(leftExpr) ?? this.typeOf(rightExpr);
    const optionalLeft = isOptional(leftExpr) ? leftExpr.name : null;
    const optionalRight = isOptional(rightExpr) ? rightExpr.name : null;
    return (e) => {
      const l = left(e);
      const r = right(e);
      // an absent optional field is the literal null: == / != become existence checks of the other side
      if ((op === "==" || op === "!=") && ((optionalLeft && l === null) || (optionalRight && r === null))) {
        const other = optionalLeft && l === null ? r : l;
        return op === "==" ? other === null : other !== null;
      }
      if (l === null || r === null) return null;
      return compareHolds(op, compareValues(l, r, type));
    };
  }
}

const isOptional = (expr: Expr): expr is FieldRef => expr.kind === "field" && expr.optional;
