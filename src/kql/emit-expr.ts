/**
 * EQL expressions → KQL over one source (a table or parser function) of a target, with Elasticsearch's meaning.
 *
 * The condition is first normalised (src/eql/normalize.ts: `not` pushed down to the leaves). Then:
 * - constants fold: a field that is constant on the source (`host.os.type` on audit records), or an optional field
 *   with no counterpart (null), is evaluated at translation time with three-valued logic;
 * - a "query leaf" (a field compared with constants) on a missing value does not match, and its negation does
 *   (Elasticsearch's bool must_not): KQL strings are empty rather than null, so string leaves already behave this
 *   way; non-string columns get an explicit `isnull(c) or not(...)`;
 * - a "script leaf" (functions, arithmetic, two fields) on a missing value is null: neither it nor its negation
 *   matches, so a negated script leaf is guarded with `isnotempty`/`isnotnull` of the fields it reads.
 *
 * State is explicit: the source and the set that collects approximation notes are passed in `ExprContext`.
 */
import {
  type Call,
  type Comparison,
  type ComparisonOp,
  type Expr,
  type FieldRef,
  FLIPPED_COMPARISON,
  type In,
  type LiteralValue,
  type Match,
  walkExpr,
} from "../eql/ast.js";
import { QUERY_FUNCTIONS } from "../eql/functions.js";
import type { CodeRanges } from "../eql/lucene-regex.js";
import { luceneToRegExp, wildcardMatches } from "../eql/patterns.js";
import { javaIntValue } from "../eql/values.js";
import type { KqlType } from "../kusto/schemas.js";
import type { FieldSpec, SourceSpec } from "../targets/target-types.js";
import {
  atom,
  binary,
  call,
  junction,
  type KqlNode,
  list,
  neg,
  notNode,
  num,
  printKql,
  raw,
  str,
  verbatim,
} from "./kql-tree.js";
import { kqlString } from "./literals.js";
import { luceneToRe2, luceneToRe2Within } from "./lucene-re2.js";
import { anchored, re2Literal, wildcardShape, wildcardToRe2 } from "./patterns.js";
import { Refusal } from "./refusal.js";

export interface ExprContext {
  readonly target: string;
  readonly source: SourceSpec;
  /** Column types of the source's schema. */
  readonly columns: ReadonlyMap<string, KqlType>;
  /** Approximation notes, collected for the per-rule report. */
  readonly notes: Set<string>;
}

/** A translated value: a constant folded at translation time, or a KQL expression of a type. */
export type Val =
  | { readonly k: "const"; readonly v: LiteralValue }
  | { readonly k: "kql"; readonly node: KqlNode; readonly type: KqlType; readonly field?: ResolvedField };

/** A translated condition: a constant (null: unknown, which does not match), or a KQL expression. */
export type Cond = { readonly k: "const"; readonly v: boolean | null } | { readonly k: "kql"; readonly node: KqlNode };

interface ResolvedField {
  readonly name: string;
  readonly spec: FieldSpec;
  /** The column or the mapping's expression. */
  readonly node: KqlNode;
  readonly type: KqlType;
}

const TRUE: Cond = { k: "const", v: true };
const FALSE: Cond = { k: "const", v: false };
const UNKNOWN: Cond = { k: "const", v: null };
const kql = (node: KqlNode): Cond => ({ k: "kql", node });
/** `f(x)` as a condition. */
const test = (name: string, x: KqlNode): Cond => kql(call(name, x));
/** An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, or with the five zero groups written out): group 1 is the IPv4. */
const IPV4_MAPPED = "^(?i:::|(?:0{1,4}:){5})ffff:([0-9]{1,3}(?:\\.[0-9]{1,3}){3})$";
/** Characters outside the Basic Multilingual Plane: two UTF-16 units each. */
const ASTRAL = "[\\x{10000}-\\x{10FFFF}]";
const UTF16_NOTE = (fn: string) =>
  `${fn}(): offsets count code points in KQL, UTF-16 units in Elasticsearch; they differ on strings with characters outside the Basic Multilingual Plane (such as emoji)`;
const HEX_NOTE =
  "number(): a value beginning with 0x is hexadecimal in Elasticsearch (no base given); KQL's todouble does not read it as hexadecimal";
const isNumeric = (t: KqlType) => t === "long" || t === "int" || t === "real" || t === "decimal";

// ── Boolean structure ───────────────────────────────────────────────────────

function and(parts: readonly Cond[]): Cond {
  const nodes: KqlNode[] = [];
  let unknown = false;
  for (const p of parts) {
    if (p.k === "const") {
      if (p.v === false) return FALSE;
      if (p.v === null) unknown = true;
    } else nodes.push(p.node);
  }
  // `unknown and x` is unknown or false: it never matches (and `not` is only ever applied to leaves).
  if (unknown) return UNKNOWN;
  const node = junction("and", nodes);
  return node ? kql(node) : TRUE;
}

function or(parts: readonly Cond[]): Cond {
  const nodes: KqlNode[] = [];
  let unknown = false;
  for (const p of parts) {
    if (p.k === "const") {
      if (p.v === true) return TRUE;
      if (p.v === null) unknown = true;
    } else nodes.push(p.node);
  }
  // `unknown or x` matches exactly when x does.
  const node = junction("or", nodes);
  return node ? kql(node) : unknown ? UNKNOWN : FALSE;
}

function not(c: Cond): Cond {
  if (c.k === "const") return c.v === null ? UNKNOWN : { k: "const", v: !c.v };
  return kql(notNode(c.node));
}

// ── Fields ──────────────────────────────────────────────────────────────────

export function resolveField(ref: FieldRef, ctx: ExprContext): Val {
  // (An own field only: `constructor`, `toString`… of a query are fields with no counterpart, not Object's.)
  const spec =
    (Object.hasOwn(ctx.source.fields, ref.name) ? ctx.source.fields[ref.name] : undefined) ??
    (ref.name === "@timestamp" ? { column: ctx.source.time } : undefined);
  if (!spec) {
    if (ref.optional) return { k: "const", v: null };
    throw new Refusal("field", ref.name, `no counterpart on ${ctx.target} (${ctx.source.from})`);
  }
  if (spec.approximation) ctx.notes.add(`${ref.name}: ${spec.approximation}`);
  if (spec.constant !== undefined) return { k: "const", v: spec.constant };
  if (spec.column !== undefined) {
    const type = ctx.columns.get(spec.column);
    if (!type)
      throw new Error(`mapping ${ctx.target}: column ${spec.column} not in the schema of ${ctx.source.schema}`);
    const node = atom(spec.column);
    return { k: "kql", node, type, field: { name: ref.name, spec, node, type } };
  }
  if (spec.expr !== undefined) {
    const type = spec.type ?? "string";
    const node = raw(spec.expr);
    return { k: "kql", node, type, field: { name: ref.name, spec, node, type } };
  }
  throw new Error(`mapping ${ctx.target}: field ${ref.name} has no column, expr or constant`);
}

// ── Conditions ──────────────────────────────────────────────────────────────

export function cond(expr: Expr, ctx: ExprContext): Cond {
  switch (expr.kind) {
    case "logical":
      return logical(expr.op, expr.left, expr.right, ctx);
    case "not":
      return negated(expr.operand, ctx);
    case "comparison":
    case "match":
    case "in":
    case "call":
      if (isNullCheck(expr)) return leafCond(expr, ctx);
      return isQueryLeaf(expr) ? queryLeafCond(expr, ctx) : and([...scriptGuards(expr, ctx), leafCond(expr, ctx)]);
    case "literal":
      return typeof expr.value === "boolean" ? { k: "const", v: expr.value } : UNKNOWN;
    case "field": {
      const v = resolveField(expr, ctx);
      if (v.k === "const") return typeof v.v === "boolean" ? { k: "const", v: v.v } : UNKNOWN;
      if (v.type !== "bool")
        throw new Refusal("construct", "non-boolean field as condition", `${expr.name} is not boolean`);
      return kql(binary(v.node, "==", atom("true")));
    }
    default:
      throw new Refusal("construct", `${expr.kind} as condition`);
  }
}

/**
 * `a and b`, `a or b`. When one side refuses but the other decides the result (false for `and`, true for `or`),
 * the decided result stands: the refused part could not change what matches.
 */
function logical(op: "and" | "or", left: Expr, right: Expr, ctx: ExprContext): Cond {
  const decisive = op !== "and";
  const sides: Cond[] = [];
  let refusal: Refusal | undefined;
  for (const side of [left, right]) {
    try {
      const c = cond(side, ctx);
      if (c.k === "const" && c.v === decisive) return c;
      sides.push(c);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      refusal ??= error;
    }
  }
  if (refusal) throw refusal;
  return op === "and" ? and(sides) : or(sides);
}

/** `x == null`, `x != null`: existence checks, true or false but never null. */
function isNullCheck(expr: Expr): boolean {
  if (expr.kind !== "comparison" || (expr.op !== "==" && expr.op !== "!=")) return false;
  const isNull = (e: Expr) => e.kind === "literal" && e.value === null;
  return isNull(expr.left) || isNull(expr.right);
}

function leafCond(expr: Comparison | Match | In | Call, ctx: ExprContext): Cond {
  switch (expr.kind) {
    case "comparison":
      return comparison(expr, ctx);
    case "match":
      return match(expr, ctx);
    case "in":
      return inList(expr, ctx);
    case "call":
      return callCond(expr, ctx);
  }
}

/**
 * A query leaf as Elasticsearch runs it: a field missing from the event has no value to match, so the leaf is false
 * there, and its negation (must_not) true (docs/eql.md). A missing KQL string is "" instead: a leaf that holds on ""
 * (`== ""`, a pattern or regex matching "", an empty needle) gets `isnotempty` on its string fields, and a `!=` that
 * fails on "" gets `isempty` as an alternative, so "" reads as missing. (A field present and "" cannot be told from a
 * missing one in Log Analytics: docs/kql.md, known differences.)
 */
function queryLeafCond(expr: Comparison | Match | In | Call, ctx: ExprContext): Cond {
  const c = leafCond(expr, ctx);
  if (c.k === "const") return c;
  const onEmpty = emptyMeaning(expr, ctx);
  if (onEmpty === undefined) return c;
  const strings = leafFields(expr, ctx).filter((f) => f.type === "string");
  if (strings.length === 0) return c;
  return onEmpty === "holds"
    ? and([...strings.map((f) => test("isnotempty", f.node)), c])
    : or([...strings.map((f) => test("isempty", f.node)), c]);
}

/**
 * Whether a query leaf holds on "" where it must not ("holds": the leaf needs its field present), or fails on ""
 * where it must hold (`f != ""`, "fails"); undefined when "" is not special for it.
 */
function emptyMeaning(expr: Comparison | Match | In | Call, ctx: ExprContext): "holds" | "fails" | undefined {
  const constants = (exprs: readonly Expr[]) =>
    exprs.flatMap((e) => {
      const v = val(e, ctx);
      return v.k === "const" && typeof v.v === "string" ? [v.v] : [];
    });
  switch (expr.kind) {
    case "comparison": {
      if (expr.op !== "==" && expr.op !== "!=") return undefined;
      const side = expr.left.kind === "field" ? expr.right : expr.left;
      if (!constants([side]).includes("")) return undefined;
      return expr.op === "==" ? "holds" : "fails";
    }
    case "in":
      return constants(expr.values).includes("") ? "holds" : undefined;
    case "match": {
      const patterns = constants(expr.patterns);
      const ci = expr.caseInsensitive;
      const matchesEmpty = (p: string) => {
        if (expr.op !== "regex") return wildcardMatches(p, "", ci);
        try {
          return luceneToRegExp(p, ci).test("");
        } catch {
          return false; // a regex the translator refuses anyway
        }
      };
      return patterns.some(matchesEmpty) ? "holds" : undefined;
    }
    case "call": {
      if (expr.name !== "startswith" && expr.name !== "endswith" && expr.name !== "stringcontains") return undefined;
      return constants(expr.args.slice(1)).includes("") ? "holds" : undefined;
    }
  }
}

/**
 * A script leaf on a missing value is null in Elasticsearch (no match, negated or not); KQL strings are empty
 * instead, so the string fields a script reads must be non-empty for it to match.
 */
function scriptGuards(expr: Expr, ctx: ExprContext): Cond[] {
  return leafFields(expr, ctx)
    .filter((f) => f.type === "string")
    .map((f) => test("isnotempty", f.node));
}

/** `not leaf`, keeping Elasticsearch's must_not (query leaf) or null (script leaf) meaning on missing values. */
function negated(operand: Expr, ctx: ExprContext): Cond {
  const isLeaf =
    operand.kind === "comparison" || operand.kind === "match" || operand.kind === "in" || operand.kind === "call";
  const queryLeaf = isLeaf && isQueryLeaf(operand) && !isNullCheck(operand);
  const inner = queryLeaf ? queryLeafCond(operand, ctx) : isLeaf ? leafCond(operand, ctx) : cond(operand, ctx);
  if (inner.k === "const") return not(inner);
  const fields = leafFields(operand, ctx);
  if (isQueryLeaf(operand)) {
    const nullable = fields.filter((f) => f.type !== "string" && f.type !== "dynamic");
    return or([...nullable.map((f) => test("isnull", f.node)), not(inner)]);
  }
  return and([...fields.map((f) => test(f.type === "string" ? "isnotempty" : "isnotnull", f.node)), not(inner)]);
}

function leafFields(expr: Expr, ctx: ExprContext): ResolvedField[] {
  const out: ResolvedField[] = [];
  for (const node of walkExpr(expr)) {
    if (node.kind !== "field") continue;
    const v = resolveField(node, ctx);
    if (v.k === "kql" && v.field && !out.some((f) => f.node === v.field?.node || f.name === v.field?.name))
      out.push(v.field);
  }
  return out;
}

const isConstantExpr = (expr: Expr) => {
  for (const n of walkExpr(expr)) if (n.kind === "field") return false;
  return true;
};

/** Whether Elasticsearch runs this leaf as a query (field against constants) rather than a script. */
function isQueryLeaf(expr: Expr): boolean {
  switch (expr.kind) {
    case "comparison":
      return (
        (expr.left.kind === "field" && isConstantExpr(expr.right)) ||
        (expr.right.kind === "field" && isConstantExpr(expr.left))
      );
    case "match":
    case "in":
      return expr.left.kind === "field";
    case "call":
      return (
        QUERY_FUNCTIONS.has(expr.name) && expr.args[0]?.kind === "field" && expr.args.slice(1).every(isConstantExpr)
      );
    default:
      return false;
  }
}

function comparison(expr: Comparison, ctx: ExprContext): Cond {
  let { left, right, op } = expr;
  if (left.kind !== "field" && right.kind === "field") [left, right, op] = [right, left, FLIPPED_COMPARISON[op]];
  const l = val(left, ctx);
  const r = val(right, ctx);
  // null checks: `f == null`, `f != null` are existence checks; `concat(f, null) == "x"` is not one (isFoldedNull)
  if ((op === "==" || op === "!=") && (isFoldedNull(l, left) || isFoldedNull(r, right))) {
    const other = isFoldedNull(l, left) ? r : l;
    if (other.k === "const") return { k: "const", v: (other.v === null) === (op === "==") };
    // a function or arithmetic is null when a value it reads is (EQL function reference: "If `null`, the function
    // returns `null`"); a missing string is "" in KQL, where strlen, indexof… still return a value, so it is tested
    const otherExpr = isFoldedNull(l, left) ? right : left;
    const guards = otherExpr.kind === "field" ? [] : scriptGuards(otherExpr, ctx);
    const exists = and([...guards, test(other.type === "string" ? "isnotempty" : "isnotnull", other.node)]);
    return op === "==" ? not(exists) : exists;
  }
  if (isNullConst(l) || isNullConst(r)) return UNKNOWN;
  if (l.k === "const" && r.k === "const") return foldCompare(op, l.v, r.v);
  if (l.k === "kql" && l.field && r.k === "const" && (op === "==" || op === "!=")) {
    const mapped = mappedValues(l.field, [r.v], false, ctx);
    if (mapped) return op === "==" ? mapped : not(mapped);
    if (l.field.spec.argsOf) {
      const c = argsMatch(l.field, [exactRe2(r.v)], false);
      return op === "==" ? c : not(c);
    }
  }
  for (const side of [l, r]) {
    if (side.k === "kql" && side.field?.spec.argsOf) {
      throw new Refusal(
        "construct",
        `${op} on argv`,
        `${side.field.name} ${op} a non-constant needs the argument list itself`,
      );
    }
  }
  for (const side of [l, r]) {
    const spec = side.k === "kql" ? side.field?.spec : undefined;
    if (side.k === "kql" && side.field && (spec?.values || spec?.conditions)) {
      throw new Refusal(
        "field",
        side.field.name,
        `${op} with a non-constant or an ordering cannot be mapped through the value map of ${ctx.target}`,
      );
    }
  }
  const { node, ordered } = compareNode(op, l, r);
  // a query leaf `f != c` matches where f is missing (must_not); non-string columns are null there
  if (op === "!=" && l.k === "kql" && l.field && r.k === "const" && l.type !== "string") {
    return or([test("isnull", l.node), kql(node)]);
  }
  // strings order by strcmp; a missing (empty) string is not ordered against anything
  if (ordered) {
    return and([...[l, r].flatMap((v) => (v.k === "kql" ? [test("isnotempty", v.node)] : [])), kql(node)]);
  }
  return kql(node);
}

function isNullConst(v: Val): boolean {
  return v.k === "const" && v.v === null;
}

/**
 * Whether an expression that translated to null is null before any event is read: a literal, a function of literals
 * (`length(null)`), or a field with no value on this target. A function of a field given a null argument
 * (`concat(f, null)`) is null on each event instead (EQL function reference: "If `null`, the function returns
 * `null`"): a script that does not match, negated or not.
 */
const isFoldedNull = (v: Val, e: Expr): boolean => isNullConst(v) && (e.kind === "field" || isConstantExpr(e));

function foldCompare(op: ComparisonOp, a: LiteralValue, b: LiteralValue): Cond {
  if (a === null || b === null) return { k: "const", v: op === "!=" ? (a === null) !== (b === null) : false };
  let cmp: number;
  if (typeof a === "number" && typeof b === "number") cmp = a - b;
  else if (typeof a === "string" && typeof b === "string") cmp = a < b ? -1 : a > b ? 1 : 0;
  else cmp = String(a) === String(b) ? 0 : String(a) < String(b) ? -1 : 1;
  const v = { "==": cmp === 0, "!=": cmp !== 0, "<": cmp < 0, "<=": cmp <= 0, ">": cmp > 0, ">=": cmp >= 0 }[op];
  return { k: "const", v };
}

/** The comparison; `ordered` when it is a string ordering through `strcmp`. */
function compareNode(op: ComparisonOp, l: Val, r: Val): { node: KqlNode; ordered: boolean } {
  const lt = typeOf(l);
  const rt = typeOf(r);
  if (op !== "==" && op !== "!=") {
    // strings order ordinally, as Elasticsearch orders keyword terms (KQL's < > are not defined on strings)
    if (lt === "string" && rt === "string") {
      const node = binary(call("strcmp", valueNode(l, "string"), valueNode(r, "string")), op, num(0));
      return { node, ordered: true };
    }
    const ok = (t: KqlType | "null", other: KqlType | "null") =>
      isNumeric(t as KqlType) || t === "datetime" || (t === "string" && other === "datetime");
    if (!ok(lt, rt) || !ok(rt, lt))
      throw new Refusal("construct", "ordering comparison of a string and a non-string", `${op} on ${lt} and ${rt}`);
  }
  const target =
    lt === "datetime" || rt === "datetime" ? "datetime" : lt === "string" || rt === "string" ? "string" : lt;
  return { node: binary(valueNode(l, target), op, valueNode(r, target)), ordered: false };
}

const typeOf = (v: Val): KqlType | "null" => {
  if (v.k === "kql") return v.type;
  if (v.v === null) return "null";
  if (typeof v.v === "number") return Number.isInteger(v.v) ? "long" : "real";
  if (typeof v.v === "boolean") return "bool";
  return "string";
};

/** The KQL text of a value, converted to `want` where needed (see valueNode). */
export function valueText(v: Val, want?: KqlType | "null"): string {
  return printKql(valueNode(v, want));
}

/** A value as KQL, converted to `want` where needed (strings compare with strings, numbers with numbers). */
function valueNode(v: Val, want?: KqlType | "null"): KqlNode {
  if (v.k === "kql") {
    if (want === "string" && v.type !== "string") return call("tostring", v.node);
    return v.node;
  }
  const c = v.v;
  if (c === null) return atom("dynamic(null)");
  if (want === "string") return str(String(c));
  if (want === "datetime") return atom(datetimeText(c));
  if (want && isNumeric(want as KqlType)) {
    const n = typeof c === "number" ? c : typeof c === "string" && c.trim() !== "" ? Number(c) : Number.NaN;
    if (Number.isNaN(n)) throw new Refusal("construct", "string compared with a number", `${JSON.stringify(c)}`);
    return num(n);
  }
  if (typeof c === "number") return num(c);
  if (typeof c === "boolean") return atom(c ? "true" : "false");
  return str(c);
}

/**
 * A constant compared with a date, as Elasticsearch reads it (`strict_date_optional_time||epoch_millis`): a number
 * is epoch milliseconds, a string an ISO-8601 date or date-time (UTC unless it names a zone), four digits a year,
 * other digits epoch milliseconds.
 */
function datetimeText(c: string | number | boolean): string {
  let ms = Number.NaN;
  if (typeof c === "number") ms = c;
  else if (typeof c === "string") {
    const iso = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(c);
    if (iso) ms = Date.parse(c.includes("T") && !iso[1] ? `${c}Z` : c);
    else if (/^\d{4}$/.test(c))
      ms = Date.UTC(Number(c), 0, 1); // a year: strict_date_optional_time, tried first
    else if (/^\d+$/.test(c)) ms = Number(c);
  }
  if (!Number.isFinite(ms)) throw new Refusal("construct", "date compared with a non-date", JSON.stringify(c));
  return `datetime(${new Date(ms).toISOString()})`;
}

/** Elasticsearch's `number(s, base)` of a constant: decimal (base 10), or integer digits of the base (`0x` allowed in 16). */
function parseNumber(text: string, base: number): number | null {
  const t = text.trim();
  if (base === 10) return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : null;
  if (base < 2 || base > 36) return null;
  const sign = t.startsWith("-") ? -1 : 1;
  let digits = /^[+-]/.test(t) ? t.slice(1) : t;
  if (base === 16 && /^0x/i.test(digits)) digits = digits.slice(2);
  const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz".slice(0, base);
  if (digits === "" || [...digits.toLowerCase()].some((d) => !alphabet.includes(d))) return null;
  return sign * Number.parseInt(digits, base);
}

// ── Mapped values ───────────────────────────────────────────────────────────

/**
 * For a field with a `values` or `conditions` map: the condition "field is any of `values`" on the target, or
 * undefined for a field without such a map. A value absent from the map refuses, naming field and value.
 */
function mappedValues(
  field: ResolvedField,
  values: readonly LiteralValue[],
  caseInsensitive: boolean,
  ctx: ExprContext,
): Cond | undefined {
  const { spec } = field;
  if (!spec.values && !spec.conditions) return undefined;
  const table: Readonly<Record<string, unknown>> = spec.values ?? spec.conditions ?? {};
  const parts: Cond[] = [];
  const targetValues: string[] = [];
  for (const v of values) {
    if (v === null) continue;
    const key = lookupKey(table, String(v), caseInsensitive);
    if (key === undefined) {
      throw new Refusal("field", field.name, `value ${JSON.stringify(String(v))} has no counterpart on ${ctx.target}`);
    }
    if (spec.conditions) parts.push(kql(raw(spec.conditions[key] as string)));
    else {
      const mapped = spec.values?.[key] ?? [];
      if (mapped.length === 0) {
        ctx.notes.add(`${field.name} ${JSON.stringify(key)}: not recorded on ${ctx.target}; matches nothing there`);
      }
      for (const m of mapped) if (!targetValues.includes(m)) targetValues.push(m);
    }
  }
  if (targetValues.length === 1) parts.push(kql(binary(field.node, "==", str(targetValues[0] as string))));
  else if (targetValues.length > 1) parts.push(kql(binary(field.node, "in", list(targetValues.map(str)))));
  return or(parts);
}

function lookupKey(
  table: Readonly<Record<string, unknown>>,
  value: string,
  caseInsensitive: boolean,
): string | undefined {
  if (Object.hasOwn(table, value)) return value;
  if (!caseInsensitive) return undefined;
  const lower = value.toLowerCase();
  return Object.keys(table).find((k) => k.toLowerCase() === lower);
}

// ── argv approximated from a command line ───────────────────────────────────

function exactRe2(v: LiteralValue): string {
  let out = "";
  for (const c of String(v)) out += re2Literal(c);
  return out;
}

/**
 * How one argument is delimited in an argv field's string: by whitespace (a command line) or by a newline (the
 * real argv joined by newlines). `char` is the RE2 class of one character inside an argument, `sep` of the
 * separator, `splits` tells whether a value could never be one argument (it holds a separator).
 */
function argvSyntax(field: ResolvedField): {
  sep: string;
  char: string;
  splits: (v: string) => boolean;
  excluded: CodeRanges;
} {
  return field.spec.argsOf === "lines"
    ? { sep: "\\n", char: "[^\\n]", splits: (v) => v.includes("\n"), excluded: [[0x0a, 0x0a]] }
    : { sep: "\\s", char: "\\S", splits: (v) => /\s/.test(v), excluded: WHITE_SPACE };
}

/**
 * What KQL's `\s` matches: `\p{White_Space}` (../shared/reference/kusto-docs/regex.md, "Perl character classes":
 * "`\s` Whitespace (`\p{White_Space}`)"), the code points of Unicode's PropList.txt White_Space property.
 */
const WHITE_SPACE: CodeRanges = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0x85, 0x85],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
];

/** Any one argument of the argv field matches one of the RE2 alternatives. */
function argsMatch(field: ResolvedField, alternatives: readonly string[], caseInsensitive: boolean): Cond {
  if (alternatives.length === 0) return FALSE;
  const { sep } = argvSyntax(field);
  const body = alternatives.length === 1 ? alternatives[0] : alternatives.map((a) => `(?:${a})`).join("|");
  const re = `(?${caseInsensitive ? "i" : ""}s)(?:^|${sep})(?:${body})(?:${sep}|$)`;
  return kql(binary(field.node, "matches regex", verbatim(re)));
}

const longest = (parts: readonly string[]): string => parts.reduce((a, b) => (b.length > a.length ? b : a), "");

/**
 * `(col contains "lit" or …) and <regex>`: a regex over a whole command line scans every row, while `contains`
 * is served by the term index; each literal is a part every match of its alternative holds (issue 10, section 6).
 * Kept out when some alternative has no literal of 3 characters or more.
 */
function withPrefilter(field: ResolvedField, literals: readonly string[], ci: boolean, regex: Cond): Cond {
  if (regex.k === "const" || literals.length === 0 || literals.some((l) => l.length < 3)) return regex;
  const op = ci ? "contains" : "contains_cs";
  return and([or([...new Set(literals)].map((l) => kql(binary(field.node, op, str(l))))), regex]);
}

// ── Pattern matching ────────────────────────────────────────────────────────

function constantStrings(exprs: readonly Expr[], what: string, ctx: ExprContext): (string | null)[] {
  return exprs.map((e) => {
    const v = val(e, ctx);
    if (v.k !== "const") throw new Refusal("construct", `${what} with a non-constant pattern`);
    return v.v === null ? null : String(v.v);
  });
}

function match(expr: Match, ctx: ExprContext): Cond {
  const left = val(expr.left, ctx);
  const what = expr.op === ":" ? ":" : `${expr.op}${expr.caseInsensitive ? "~" : ""}`;
  const patterns = constantStrings(expr.patterns, what, ctx).filter((p): p is string => p !== null);
  const ci = expr.caseInsensitive;
  if (left.k === "const") {
    if (left.v === null) return isFoldedNull(left, expr.left) ? FALSE : UNKNOWN;
    if (expr.op === "regex") throw new Refusal("construct", "regex on a constant field");
    const text = String(left.v);
    return {
      k: "const",
      v: patterns.some((p) => wildcardMatches(p, text, ci)),
    };
  }
  const field = left.field;
  if (field && (field.spec.values || field.spec.conditions)) {
    if (expr.op === "regex" || patterns.some((p) => /[*?]/.test(p))) {
      throw new Refusal(
        "field",
        field.name,
        `a ${what} pattern cannot be mapped through the value map of ${ctx.target}`,
      );
    }
    return mappedValues(field, patterns, ci, ctx) ?? FALSE;
  }
  if (field?.spec.argsOf) {
    // A wildcard must not cross into the next argument, and a pattern holding a separator matches no argument
    // (issue 10, bug 4; Elastic's EQL docs: `:` on a multi-valued field matches when any one value does).
    const { char, splits, excluded } = argvSyntax(field);
    if (expr.op === "regex") {
      return argsMatch(
        field,
        patterns.map((p) => luceneToRe2Within(p, excluded)),
        ci,
      );
    }
    const kept = patterns.filter((p) => !splits(p));
    return withPrefilter(
      field,
      kept.map((p) => longest(p.split(/[*?]/))),
      ci,
      argsMatch(
        field,
        kept.map((p) => wildcardToRe2(p, `${char}*`, char)),
        ci,
      ),
    );
  }
  const subject = valueNode(left, "string");
  if (expr.op === "regex") {
    if (patterns.length === 0) return FALSE;
    const alts = patterns.map(luceneToRe2);
    const body = alts.length === 1 ? (alts[0] as string) : alts.map((a) => `(?:${a})`).join("|");
    return kql(binary(subject, "matches regex", verbatim(anchored(body, ci))));
  }
  return wildcardConds(subject, patterns, ci);
}

/** `*` and `?` wildcards as the cheapest KQL operators: `in`/`in~`, `startswith`, `endswith`, `contains`, regex. */
function wildcardConds(subject: KqlNode, patterns: readonly string[], ci: boolean): Cond {
  const cs = ci ? "" : "_cs";
  const equals: string[] = [];
  const regexes: string[] = [];
  const parts: Cond[] = [];
  for (const p of patterns) {
    const shape = wildcardShape(p);
    switch (shape.kind) {
      case "equals":
        equals.push(shape.text);
        break;
      case "any":
        parts.push(test("isnotempty", subject));
        break;
      case "regex":
        regexes.push(shape.source);
        break;
      default:
        parts.push(kql(binary(subject, `${shape.kind}${cs}`, str(shape.text))));
    }
  }
  if (equals.length === 1) parts.unshift(kql(binary(subject, ci ? "=~" : "==", str(equals[0] as string))));
  else if (equals.length > 1) parts.unshift(kql(binary(subject, ci ? "in~" : "in", list(equals.map(str)))));
  if (regexes.length > 0) {
    const body = regexes.length === 1 ? (regexes[0] as string) : regexes.map((r) => `(?:${r})`).join("|");
    parts.push(kql(binary(subject, "matches regex", verbatim(anchored(body, ci)))));
  }
  return or(parts);
}

function inList(expr: In, ctx: ExprContext): Cond {
  const left = val(expr.left, ctx);
  const values = expr.values.map((e) => {
    // a decimal literal is a constant too (val keeps it as `real(...)` for arithmetic)
    if (e.kind === "literal") return e.value;
    const v = val(e, ctx);
    if (v.k !== "const") throw new Refusal("construct", "in with a non-constant value");
    return v.v;
  });
  const present = values.filter((v) => v !== null);
  let c: Cond;
  if (left.k === "const") {
    if (left.v === null) return isFoldedNull(left, expr.left) ? { k: "const", v: expr.negated } : UNKNOWN;
    const lv = left.v;
    const eq = (v: LiteralValue) =>
      expr.caseInsensitive ? String(v).toLowerCase() === String(lv).toLowerCase() : String(v) === String(lv);
    c = { k: "const", v: present.some(eq) };
  } else if (left.field && (left.field.spec.values || left.field.spec.conditions)) {
    c = mappedValues(left.field, present, expr.caseInsensitive, ctx) ?? FALSE;
  } else if (left.field?.spec.argsOf) {
    // A value holding a separator matches no argument (issue 10, bug 4).
    const { splits } = argvSyntax(left.field);
    const kept = present.map(String).filter((v) => !splits(v));
    c = withPrefilter(
      left.field,
      kept,
      expr.caseInsensitive,
      argsMatch(left.field, kept.map(exactRe2), expr.caseInsensitive),
    );
  } else if (present.length === 0) {
    c = FALSE;
  } else {
    const t = left.type;
    const items = present.map((v) => valueNode({ k: "const", v }, t === "string" || !isNumeric(t) ? "string" : t));
    const subject = t === "string" || isNumeric(t) ? left.node : call("tostring", left.node);
    const op = expr.caseInsensitive && !isNumeric(t) ? "in~" : "in";
    c = kql(binary(subject, op, list(items)));
  }
  if (!expr.negated) return c;
  if (c.k === "const") return not(c);
  const nullable = left.k === "kql" && left.type !== "string" && left.type !== "dynamic";
  return or([...(nullable ? [test("isnull", left.node)] : []), not(c)]);
}

// ── Functions ───────────────────────────────────────────────────────────────

const STRING_PREDICATES: Readonly<Record<string, string>> = {
  startswith: "startswith",
  endswith: "endswith",
  stringcontains: "contains",
};

function callCond(expr: Call, ctx: ExprContext): Cond {
  const op = STRING_PREDICATES[expr.name];
  if (op) {
    const [a, b] = expr.args.map((x) => val(x, ctx)) as [Val, Val];
    if (a.k === "const" || b.k === "const") {
      if ((a.k === "const" && a.v === null) || (b.k === "const" && b.v === null)) return UNKNOWN;
    }
    if (a.k === "const" && b.k === "const") {
      const [x, y] = expr.caseInsensitive
        ? [String(a.v).toLowerCase(), String(b.v).toLowerCase()]
        : [String(a.v), String(b.v)];
      const v = op === "startswith" ? x.startsWith(y) : op === "endswith" ? x.endsWith(y) : x.includes(y);
      return { k: "const", v };
    }
    if (a.k === "kql" && a.field?.spec.argsOf && b.k === "const") {
      const { char, splits } = argvSyntax(a.field);
      if (splits(String(b.v))) return FALSE;
      const lit = exactRe2(b.v);
      const any = `${char}*`;
      const re = op === "startswith" ? `${lit}${any}` : op === "endswith" ? `${any}${lit}` : `${any}${lit}${any}`;
      return argsMatch(a.field, [re], expr.caseInsensitive);
    }
    return kql(binary(valueNode(a, "string"), `${op}${expr.caseInsensitive ? "" : "_cs"}`, valueNode(b, "string")));
  }
  if (expr.name === "cidrmatch") return cidrMatch(expr, ctx);
  const v = callValue(expr, ctx);
  if (v.k === "const") return typeof v.v === "boolean" ? { k: "const", v: v.v } : UNKNOWN;
  if (v.type !== "bool") throw new Refusal("construct", `${expr.name} as condition`);
  return kql(v.node);
}

function cidrMatch(expr: Call, ctx: ExprContext): Cond {
  const [ipExpr, ...cidrExprs] = expr.args as [Expr, ...Expr[]];
  const ip = val(ipExpr, ctx);
  const blocks = constantStrings(cidrExprs, "cidrMatch", ctx);
  // a null address or block makes the function null (EQL function reference: `cidrMatch(null, "10.0.0.0/8")` and
  // `cidrMatch(source.address, null)` both "returns null"): neither it nor its negation matches
  if ((ip.k === "const" && ip.v === null) || blocks.includes(null)) return UNKNOWN;
  if (ip.k === "const") throw new Refusal("construct", "cidrMatch on a constant");
  const cidrs = blocks.filter((c): c is string => c !== null);
  const v4 = cidrs.filter((c) => !c.includes(":"));
  const v6 = cidrs.filter((c) => c.includes(":"));
  const subject = valueNode(ip, "string");
  const ranges = (cs: readonly string[]) => atom(`dynamic([${cs.map(kqlString).join(", ")}])`);
  // Elasticsearch's ip type reads an IPv4-mapped IPv6 address (::ffff:10.1.2.3) as the IPv4 address; KQL's
  // ipv4 functions do not parse it (null), so the IPv4 part is taken out first
  const v4Subject = call("coalesce", call("extract", verbatim(IPV4_MAPPED), num(1), subject), subject);
  // the ip functions are null on an address they cannot read (KQL docs, "Returns"): such a value is missing for
  // Elasticsearch (an ip field holds no malformed address), where the query does not match and its negation
  // does, so null reads as false
  const parts: Cond[] = [];
  if (v4.length) parts.push(kql(call("coalesce", call("ipv4_is_in_any_range", v4Subject, ranges(v4)), atom("false"))));
  if (v6.length) parts.push(kql(call("coalesce", call("ipv6_is_in_any_range", subject, ranges(v6)), atom("false"))));
  return or(parts);
}

// ── Values ──────────────────────────────────────────────────────────────────

function val(expr: Expr, ctx: ExprContext): Val {
  switch (expr.kind) {
    case "literal":
      // a decimal literal (`2.0`) keeps arithmetic in reals, as in Elasticsearch
      if (expr.numberKind === "decimal" && typeof expr.value === "number") {
        return { k: "kql", node: call("real", atom(String(expr.value))), type: "real" };
      }
      return { k: "const", v: expr.value };
    case "field":
      // an argv field (`argsOf`) is returned as is: only the leaves that know it (==, :, like, regex, in,
      // startsWith...) accept it; the others refuse it
      return resolveField(expr, ctx);
    case "arithmetic":
      return arithmetic(expr.op, val(expr.left, ctx), val(expr.right, ctx));
    case "negate": {
      const v = val(expr.operand, ctx);
      if (v.k === "const") return { k: "const", v: typeof v.v === "number" ? -v.v : null };
      return { k: "kql", node: neg(v.node), type: v.type };
    }
    case "call":
      return callValue(expr, ctx);
    default: {
      const c = cond(expr, ctx);
      if (c.k === "const") return { k: "const", v: c.v };
      return { k: "kql", node: c.node, type: "bool" };
    }
  }
}

const ARITH_FN: Readonly<Record<string, "+" | "-" | "*" | "/" | "%">> = {
  add: "+",
  subtract: "-",
  multiply: "*",
  divide: "/",
  modulo: "%",
};

function arithmetic(op: "+" | "-" | "*" | "/" | "%", a: Val, b: Val): Val {
  if ((a.k === "const" && a.v === null) || (b.k === "const" && b.v === null)) return { k: "const", v: null };
  if (a.k === "const" && b.k === "const") {
    if (typeof a.v !== "number" || typeof b.v !== "number") return { k: "const", v: null };
    const ints = Number.isInteger(a.v) && Number.isInteger(b.v);
    if ((op === "/" || op === "%") && b.v === 0) return { k: "const", v: null };
    const r =
      op === "+" ? a.v + b.v : op === "-" ? a.v - b.v : op === "*" ? a.v * b.v : op === "/" ? a.v / b.v : a.v % b.v;
    return { k: "const", v: ints && op === "/" ? Math.trunc(r) : r };
  }
  for (const v of [a, b]) {
    if (v.k === "kql" && !isNumeric(v.type))
      throw new Refusal("construct", "arithmetic on a non-number", printKql(v.node));
  }
  const type: KqlType = [a, b].some((v) => typeOf(v) === "real") ? "real" : "long";
  if (op === "%") return { k: "kql", node: remainder(valueNode(a), valueNode(b)), type };
  return { k: "kql", node: binary(valueNode(a), op, valueNode(b)), type };
}

/**
 * EQL's remainder, whose sign is the dividend's (EQL function reference: `modulo(10, -6) // returns 4`,
 * `modulo(-10, -6) // returns -4`), from Kusto's modulo, which is never negative ("0 ≤ (N % D) < abs(D)", numerical
 * operators: `-14 % 12` is 10): a negative dividend's non-zero modulo less abs(divisor).
 */
function remainder(a: KqlNode, b: KqlNode): KqlNode {
  const mod = binary(a, "%", b);
  const negative = binary(binary(a, "<", num(0)), "and", binary(mod, "!=", num(0)));
  return call("iff", negative, binary(mod, "-", call("abs", b)), mod);
}

function callValue(expr: Call, ctx: ExprContext): Val {
  const name = expr.name;
  const arith = ARITH_FN[name];
  if (arith) return arithmetic(arith, val(expr.args[0] as Expr, ctx), val(expr.args[1] as Expr, ctx));
  if (STRING_PREDICATES[name] || name === "cidrmatch") {
    const c = callCond(expr, ctx);
    return c.k === "const" ? { k: "const", v: c.v } : { k: "kql", node: c.node, type: "bool" };
  }
  const args = expr.args.map((a) => val(a, ctx));
  for (const a of args) {
    if (a.k === "kql" && a.field?.spec.argsOf) {
      throw new Refusal("construct", `${name} of argv`, `${name}(${a.field.name}) needs the argument list itself`);
    }
  }
  const anyNull = args.some((a) => a.k === "const" && a.v === null);
  switch (name) {
    case "length": {
      const [s] = args as [Val];
      if (anyNull) return { k: "const", v: null };
      if (s.k === "const") return { k: "const", v: String(s.v).length };
      // Elasticsearch counts UTF-16 units (Java's String.length), KQL's strlen code points: a character outside
      // the Basic Multilingual Plane is two units, so it is counted once more
      const text = valueNode(s, "string");
      const astral = call("countof", text, verbatim(ASTRAL), str("regex"));
      return { k: "kql", node: binary(call("strlen", text), "+", astral), type: "long" };
    }
    case "string": {
      const [s] = args as [Val];
      if (s.k === "const") return { k: "const", v: s.v === null ? null : String(s.v) };
      return { k: "kql", node: call("tostring", s.node), type: "string" };
    }
    case "number": {
      const [s, base] = args as [Val, Val | undefined];
      if (s.k === "const") {
        // the base is a constant (checked at parse time)
        // without a base (or with a null one), text beginning with 0x is hexadecimal (EQL function reference)
        const text = s.v === null ? null : String(s.v);
        const b = base?.k === "const" && typeof base.v === "number" ? base.v : text?.trim().startsWith("0x") ? 16 : 10;
        return { k: "const", v: text === null ? null : parseNumber(text, b) };
      }
      if (base && !(base.k === "const" && (base.v === 10 || base.v === null))) {
        throw new Refusal("construct", "number with a base other than 10", "only of a constant string");
      }
      if (base?.k !== "const" || base.v === null) ctx.notes.add(HEX_NOTE);
      return { k: "kql", node: call("todouble", s.node), type: "real" };
    }
    case "concat": {
      if (anyNull) return { k: "const", v: null };
      if (args.every((a) => a.k === "const")) {
        return { k: "const", v: args.map((a) => String((a as { v: unknown }).v)).join("") };
      }
      // Elasticsearch: null when any argument is; KQL strings have no null, so a missing string reads as empty
      const missing = args.flatMap((a) =>
        a.k === "kql" ? [call(a.type === "string" ? "isempty" : "isnull", a.node)] : [],
      );
      const joined = call("strcat", ...args.map((a) => valueNode(a, "string")));
      return { k: "kql", node: call("iff", junction("or", missing) as KqlNode, str(""), joined), type: "string" };
    }
    case "substring": {
      const [s, start, end] = args as [Val, Val, Val | undefined];
      if (anyNull) return { k: "const", v: null };
      if (start.k !== "const" || (end && end.k !== "const")) {
        throw new Refusal("construct", "substring with non-constant offsets");
      }
      ctx.notes.add(UTF16_NOTE("substring"));
      const a = Number(start.v);
      const b = end?.k === "const" ? Number(end.v) : undefined;
      const text = valueNode(s, "string");
      const sub = (...xs: KqlNode[]): Val => ({ k: "kql", node: call("substring", text, ...xs), type: "string" });
      if (a >= 0 && (b === undefined || b >= 0))
        return b === undefined ? sub(num(a)) : sub(num(a), num(Math.max(0, b - a)));
      // Elasticsearch slices like Python: a negative offset counts from the end, clamped at 0
      const len = call("strlen", text);
      const at = (c: number) =>
        c >= 0 ? num(c) : call("iff", binary(len, ">", num(-c)), binary(len, "-", num(-c)), num(0));
      if (b === undefined) return sub(at(a));
      const [from, to] = [at(a), at(b)];
      return sub(from, call("iff", binary(to, ">", from), binary(to, "-", from), num(0)));
    }
    case "indexof": {
      const [s, sub, start] = args as [Val, Val, Val | undefined];
      if (anyNull) return { k: "const", v: null };
      ctx.notes.add(UTF16_NOTE("indexOf"));
      const fold = (x: Val) =>
        expr.caseInsensitive ? call("tolower", valueNode(x, "string")) : valueNode(x, "string");
      // Elasticsearch treats a negative start as 0 (EQL function reference: "Negative offsets are treated as `0`");
      // KQL's indexof counts a negative start from the end (indexof-function.md), so it is clamped here. The start
      // is an integer (IndexOf.resolveType: isInteger, so a decimal is refused), of which Elasticsearch takes the
      // intValue() (IndexOfFunctionProcessor.doProcess): 4294967296 starts at 0, as it does here.
      const from = (x: Val): KqlNode => {
        if (x.k === "const") {
          if (typeof x.v !== "number" || !Number.isInteger(x.v)) {
            throw new Refusal("construct", "indexOf start", `${JSON.stringify(x.v)} is not an integer`);
          }
          return num(Math.max(0, javaIntValue(x.v)));
        }
        if (x.type === "real" || x.type === "decimal") {
          throw new Refusal("construct", "indexOf start", `a ${x.type} is not an integer (Elasticsearch refuses it)`);
        }
        const n = isNumeric(x.type) ? x.node : call("tolong", x.node);
        return call("iff", binary(n, ">", num(0)), n, num(0));
      };
      // Elasticsearch returns null where KQL's indexof returns -1 (absent, or start past the end), and where the
      // start is null (EQL function reference: "If this argument is `null` ... the function returns `null`")
      const found = call("indexof", fold(s), fold(sub), ...(start ? [from(start)] : []));
      const holds = binary(found, ">=", num(0));
      const known = start?.k === "kql" ? binary(call("isnotnull", start.node), "and", holds) : holds;
      return { k: "kql", node: call("iff", known, found, atom("long(null)")), type: "long" };
    }
    case "between": {
      const [s, left, right, greedy] = args as [Val, Val, Val, Val | undefined];
      if (anyNull) return { k: "const", v: null };
      if (left.k !== "const" || right.k !== "const" || (greedy && greedy.k !== "const")) {
        throw new Refusal("construct", "between with non-constant delimiters");
      }
      const g = greedy?.k === "const" && greedy.v === true;
      const re = `(?${expr.caseInsensitive ? "i" : ""}s)${exactRe2(left.v)}(.${g ? "*" : "*?"})${exactRe2(right.v)}`;
      return { k: "kql", node: call("extract", verbatim(re), num(1), valueNode(s, "string")), type: "string" };
    }
    default:
      throw new Refusal("construct", `function ${name}`, `no KQL translation of ${name}()`);
  }
}
