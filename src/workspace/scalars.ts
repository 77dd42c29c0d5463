/**
 * Compiles Kusto.Language scalar expressions into closures `(row) => value`, once per query, so evaluating a
 * predicate over a million rows walks no tree. Semantics follow the Kusto docs (../shared/reference/kusto-docs):
 * string operators with their case rules, three-valued logic with nulls, long division, datetime arithmetic.
 */

import { DiagnosticError } from "../diagnostics/index.js";
import { bridgeTypeName, kqlTypeNamed } from "../kusto/index.js";
import { type Ctx, Env, type Fn, type RowScope, spanOf } from "./context.js";
import { semanticError, unsupported } from "./errors.js";
import { callFunction } from "./functions.js";
import { compileRegex, regexTest } from "./regex.js";
import { materialize } from "./relation.js";
import { elements, kindOf, type Node, simpleName, typeLiteralName, typeOf } from "./syntax.js";
import {
  hasTerm,
  parseDatetime,
  parseJsonValue,
  parseTimespan,
  type ScalarType,
  toKqlString,
  type Value,
} from "./values.js";

export interface Compiled {
  readonly fn: Fn;
  readonly type: ScalarType;
}

const constant = (value: Value, type: ScalarType): Compiled => ({ fn: () => value, type });

/** Compiles a scalar expression against a row scope. */
export async function compileScalar(node: Node, scope: RowScope, ctx: Ctx): Promise<Compiled> {
  const kind = kindOf(node);
  switch (kind) {
    case "LiteralExpression":
      return constant(literalValue(node, ctx), typeOf(node));
    case "ParenthesizedExpression":
      return compileScalar(node.Expression, scope, ctx);
    case "DynamicExpression": {
      const value = node.ConstantValue;
      return constant(
        value === null || value === undefined ? null : parseJsonValue(dynamicText(String(value))),
        "dynamic",
      );
    }
    case "NameReference":
      return compileName(node, scope, ctx);
    case "BracketedExpression":
      return compileScalar(node.Expression, scope, ctx);
    case "PathExpression":
    case "ElementExpression":
      return compilePath(node, scope, ctx);
    case "BinaryExpression":
      return compileBinary(node, scope, ctx);
    case "PrefixUnaryExpression": {
      const op = String(node.ReferencedSymbol?.Name ?? "");
      const inner = await compileScalar(node.Expression, scope, ctx);
      if (op === "UnaryMinus") {
        const f = inner.fn;
        return { fn: (r) => negate(f(r)), type: inner.type };
      }
      if (op === "UnaryPlus") return inner;
      throw unsupported(`unary operator ${op}`, spanOf(ctx, node));
    }
    case "InExpression":
      return compileIn(node, scope, ctx);
    case "HasAnyExpression":
    case "HasAllExpression":
      return compileHasAnyAll(node, scope, ctx, kind === "HasAllExpression");
    case "BetweenExpression":
      return compileBetween(node, scope, ctx);
    case "FunctionCallExpression":
      return compileCall(node, scope, ctx);
    case "ToScalarExpression":
      return compileToScalar(node.Expression, ctx);
    default:
      throw unsupported(`expression ${kind}`, spanOf(ctx, node));
  }
}

/** Kusto.Language's dynamic literal text `{'a':1}` as JSON. */
function dynamicText(text: string): string {
  // Kusto allows single-quoted strings in dynamic literals; turn them into JSON strings.
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === "'") {
      let s = "";
      i++;
      while (i < text.length && text[i] !== "'") {
        if (text[i] === "\\" && i + 1 < text.length) {
          s += text[i] as string;
          i++;
        }
        s += text[i] as string;
        i++;
      }
      out += `"${s.replace(/"/g, '\\"')}"`;
    } else if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
    } else out += ch;
  }
  return out;
}

/** The value of a literal token, by its bound type. */
export function literalValue(node: Node, ctx: Ctx): Value {
  const text = String(node.Token?.Text ?? "").trim();
  const type = node.ResultType ? typeOf(node) : literalTypeFromText(text);
  const inner = /^\w+\((.*)\)$/s.exec(text)?.[1]?.trim();
  if (inner !== undefined && inner.toLowerCase() === "null") return type === "string" ? "" : null;
  switch (type) {
    case "string": {
      const v = node.LiteralValue;
      return typeof v === "string" ? v : String(v ?? "");
    }
    case "bool":
      return /true/i.test(text);
    case "long":
    case "int":
    case "real":
    case "decimal": {
      const body = inner ?? text;
      if (/^0x[0-9a-f]+$/i.test(body)) return Number.parseInt(body, 16);
      if (type === "long" || type === "int") return wholeLiteral(node, text, ctx);
      const n = Number(body);
      if (Number.isNaN(n) && !/nan/i.test(body)) throw unsupported(`numeric literal ${text}`, spanOf(ctx, node));
      return n;
    }
    case "datetime": {
      const v = parseDatetime(inner ?? text);
      if (v === null) throw unsupported(`datetime literal ${text}`, spanOf(ctx, node));
      return v;
    }
    case "timespan": {
      // timespan data type: "timespan(n) | A time interval in days. | timespan(2) | 2 days"
      if (inner !== undefined && /^-?\d+(?:\.\d+)?$/.test(inner)) return Number(inner) * 86_400_000;
      const v = parseTimespan(inner ?? text);
      if (v === null) throw unsupported(`timespan literal ${text}`, spanOf(ctx, node));
      return v;
    }
    case "guid":
      return (inner ?? text).toLowerCase();
    default:
      throw unsupported(`literal ${text}`, spanOf(ctx, node));
  }
}

/**
 * A `long` or `int` literal as Kusto.Language reads it (its LiteralValue): a value outside the type's range, or one
 * that is not a whole decimal number (`long(99999999999999999999)`, `int(3000000000)`, `long(1.5)`), is 0 there,
 * not the number its digits spell, and no diagnostic says so; the engine takes the same value.
 */
function wholeLiteral(node: Node, text: string, ctx: Ctx): Value {
  const v = node.LiteralValue;
  if (v === null || v === undefined) throw unsupported(`numeric literal ${text}`, spanOf(ctx, node));
  // an Int64 (Bridge.NET object) prints its exact decimal digits; an int is a JavaScript number
  return Number(typeof v === "number" ? v : String(v));
}

/** The type of a literal that Kusto.Language left unbound (e.g. a `scan declare` default). */
function literalTypeFromText(text: string): ScalarType {
  const fn = /^(\w+)\(/.exec(text)?.[1];
  const named = fn === undefined ? undefined : kqlTypeNamed(fn);
  if (named) return named;
  if (/^(true|false)$/i.test(text)) return "bool";
  if (/^-?\d+$/.test(text) || /^0x[0-9a-f]+$/i.test(text)) return "long";
  if (/^-?\d*\.\d+(e[+-]?\d+)?$/i.test(text) || /^-?\d+e[+-]?\d+$/i.test(text)) return "real";
  if (/^-?\d+(\.\d+)?[a-z]+$/i.test(text)) return "timespan";
  return "string";
}

function negate(v: Value): Value {
  return typeof v === "number" ? -v : null;
}

function compileName(node: Node, scope: RowScope, ctx: Ctx): Compiled {
  const name = simpleName(node);
  const type = typeOf(node);
  const symbolClass = node.ReferencedSymbol ? kindOfSymbol(node.ReferencedSymbol) : "";
  if (symbolClass !== "VariableSymbol" && symbolClass !== "ParameterSymbol") {
    const slot = scope.slot(name);
    if (slot !== undefined) return { fn: (r) => r[slot] as Value, type };
  }
  const bound = ctx.env.get(name);
  if (bound?.kind === "scalar") return constant(bound.value, bound.type);
  if (bound?.kind === "expr") return { fn: bound.fn, type: bound.type };
  const slot = scope.slot(name);
  if (slot !== undefined) return { fn: (r) => r[slot] as Value, type };
  throw unsupported(`name '${name}' in this position`, spanOf(ctx, node));
}

function kindOfSymbol(symbol: Node): string {
  return bridgeTypeName(symbol).replace("Kusto.Language.Symbols.", "");
}

/** `d.a.b`, `d["a"]`, `d[0]`: dynamic member and element access (null when absent). */
async function compilePath(node: Node, scope: RowScope, ctx: Ctx): Promise<Compiled> {
  const kind = kindOf(node);
  // scan: `s1.col` refers to the state of an earlier step.
  if (kind === "PathExpression" && kindOf(node.Expression) === "NameReference" && scope.stepColumn) {
    const step = simpleName(node.Expression);
    const f = scope.stepColumn(step, simpleName(node.Selector));
    if (f) return { fn: f, type: typeOf(node) };
  }
  const base = await compileScalar(node.Expression, scope, ctx);
  let key: Fn;
  if (kind === "PathExpression") {
    const selector = node.Selector;
    const k = kindOf(selector) === "BracketedExpression" ? undefined : simpleName(selector);
    if (k !== undefined) key = () => k;
    else key = (await compileScalar(selector.Expression, scope, ctx)).fn;
  } else {
    key = (await compileScalar(node.Selector.Expression ?? node.Selector, scope, ctx)).fn;
  }
  const b = base.fn;
  return {
    fn: (r) => {
      let v = b(r) as unknown;
      if (typeof v === "string" && base.type !== "string") v = parseJsonValue(v);
      const k = key(r);
      if (v === null || typeof v !== "object") return null;
      if (Array.isArray(v)) {
        if (typeof k !== "number") return null;
        const idx = k < 0 ? v.length + k : k;
        return (v[idx] ?? null) as Value;
      }
      if (typeof k !== "string") return null;
      return ((v as Record<string, unknown>)[k] ?? null) as Value;
    },
    type: "dynamic",
  };
}

/** Coerces a dynamic value to a comparable scalar (strings stay strings, numbers numbers). */
function asString(v: Value, type: ScalarType): string | null {
  if (v === null || v === undefined) return type === "string" ? "" : null;
  return toKqlString(v, type);
}

type StrPred = (hay: string, needle: string) => boolean;

const STRING_OPS: Readonly<Record<string, { pred: StrPred; negate: boolean }>> = {
  EqualTilde: { pred: (a, b) => a.toLowerCase() === b.toLowerCase(), negate: false },
  BangTilde: { pred: (a, b) => a.toLowerCase() === b.toLowerCase(), negate: true },
  Has: { pred: (a, b) => hasTerm(a, b, false), negate: false },
  NotHas: { pred: (a, b) => hasTerm(a, b, false), negate: true },
  HasCs: { pred: (a, b) => hasTerm(a, b, true), negate: false },
  NotHasCs: { pred: (a, b) => hasTerm(a, b, true), negate: true },
  Contains: { pred: (a, b) => a.toLowerCase().includes(b.toLowerCase()), negate: false },
  NotContains: { pred: (a, b) => a.toLowerCase().includes(b.toLowerCase()), negate: true },
  ContainsCs: { pred: (a, b) => a.includes(b), negate: false },
  NotContainsCs: { pred: (a, b) => a.includes(b), negate: true },
  StartsWith: { pred: (a, b) => a.toLowerCase().startsWith(b.toLowerCase()), negate: false },
  NotStartsWith: { pred: (a, b) => a.toLowerCase().startsWith(b.toLowerCase()), negate: true },
  StartsWithCs: { pred: (a, b) => a.startsWith(b), negate: false },
  NotStartsWithCs: { pred: (a, b) => a.startsWith(b), negate: true },
  EndsWith: { pred: (a, b) => a.toLowerCase().endsWith(b.toLowerCase()), negate: false },
  NotEndsWith: { pred: (a, b) => a.toLowerCase().endsWith(b.toLowerCase()), negate: true },
  EndsWithCs: { pred: (a, b) => a.endsWith(b), negate: false },
  NotEndsWithCs: { pred: (a, b) => a.endsWith(b), negate: true },
  HasPrefix: { pred: (a, b) => hasAffix(a.toLowerCase(), b.toLowerCase(), true), negate: false },
  NotHasPrefix: { pred: (a, b) => hasAffix(a.toLowerCase(), b.toLowerCase(), true), negate: true },
  HasPrefixCs: { pred: (a, b) => hasAffix(a, b, true), negate: false },
  NotHasPrefixCs: { pred: (a, b) => hasAffix(a, b, true), negate: true },
  HasSuffix: { pred: (a, b) => hasAffix(a.toLowerCase(), b.toLowerCase(), false), negate: false },
  NotHasSuffix: { pred: (a, b) => hasAffix(a.toLowerCase(), b.toLowerCase(), false), negate: true },
  HasSuffixCs: { pred: (a, b) => hasAffix(a, b, false), negate: false },
  NotHasSuffixCs: { pred: (a, b) => hasAffix(a, b, false), negate: true },
};

/** hasprefix / hassuffix: some term of `hay` starts (ends) with `needle`. */
function hasAffix(hay: string, needle: string, prefix: boolean): boolean {
  const terms = hay.split(/[^\p{L}\p{N}]+/u).filter((t) => t.length > 0);
  return terms.some((t) => (prefix ? t.startsWith(needle) : t.endsWith(needle)));
}

async function compileBinary(node: Node, scope: RowScope, ctx: Ctx): Promise<Compiled> {
  const op = String(node.ReferencedSymbol?.Name ?? "");
  const left = await compileScalar(node.Left, scope, ctx);
  const right = await compileScalar(node.Right, scope, ctx);
  const l = left.fn;
  const r = right.fn;
  const type = typeOf(node);
  const strOp = STRING_OPS[op];
  if (strOp) {
    const { pred, negate: neg } = strOp;
    const lt = left.type;
    const rt = right.type;
    return {
      fn: (row) => {
        const a = asString(l(row), lt);
        const b = asString(r(row), rt);
        if (a === null || b === null) return neg;
        return pred(a, b) !== neg;
      },
      type: "bool",
    };
  }
  switch (op) {
    case "And":
      return {
        fn: (row) => {
          const a = l(row);
          if (a === false) return false;
          const b = r(row);
          if (b === false) return false;
          return a === null || b === null ? null : true;
        },
        type: "bool",
      };
    case "Or":
      return {
        fn: (row) => {
          const a = l(row);
          if (a === true) return true;
          const b = r(row);
          if (b === true) return true;
          return a === null || b === null ? null : false;
        },
        type: "bool",
      };
    case "Equal":
    case "NotEqual": {
      const neg = op === "NotEqual";
      const eq = equality(left.type, right.type);
      return {
        fn: (row) => {
          const a = l(row);
          const b = r(row);
          // null-values: two nulls compare as bool(null); a null and a non-null value are unequal (== false, != true)
          if (a === null || b === null) return a === b ? null : neg;
          return eq(a, b) !== neg;
        },
        type: "bool",
      };
    }
    case "LessThan":
    case "LessThanOrEqual":
    case "GreaterThan":
    case "GreaterThanOrEqual": {
      const test =
        op === "LessThan"
          ? (c: number) => c < 0
          : op === "LessThanOrEqual"
            ? (c: number) => c <= 0
            : op === "GreaterThan"
              ? (c: number) => c > 0
              : (c: number) => c >= 0;
      return {
        fn: (row) => {
          const a = l(row);
          const b = r(row);
          if (a === null || b === null) return null;
          const c = orderCompare(a, b);
          return c === null ? null : test(c);
        },
        type: "bool",
      };
    }
    case "MatchRegex": {
      const lt = left.type;
      if (r.length === 0) {
        // A constant pattern is compiled now, so a bad one is reported at its position.
        const pattern = r([]);
        try {
          if (typeof pattern === "string") compileRegex(pattern);
        } catch (error) {
          if (error instanceof DiagnosticError) throw error;
          throw semanticError((error as Error).message, spanOf(ctx, node.Right));
        }
      }
      return {
        fn: (row) => {
          const a = asString(l(row), lt);
          const p = r(row);
          if (a === null || typeof p !== "string") return null;
          return regexTest(p, a);
        },
        type: "bool",
      };
    }
    case "Add":
    case "Subtract":
    case "Multiply":
    case "Divide":
    case "Modulo":
      return { fn: arithmetic(op, l, r, left.type, right.type, type), type };
    default:
      throw unsupported(`operator ${op || String(node.Operator?.Text ?? "?")}`, spanOf(ctx, node));
  }
}

function orderCompare(a: Value, b: Value): number | null {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "number" && typeof b === "string") {
    const n = Number(b);
    return Number.isNaN(n) ? null : a - n;
  }
  if (typeof a === "string" && typeof b === "number") {
    const n = Number(a);
    return Number.isNaN(n) ? null : n - b;
  }
  return null;
}

/** `==` between two values of the bound types (dynamic compares by JSON value). */
function equality(lt: ScalarType, rt: ScalarType): (a: Value, b: Value) => boolean {
  if (lt === "dynamic" || rt === "dynamic") {
    return (a, b) => {
      if (typeof a === "object" || typeof b === "object") return JSON.stringify(a) === JSON.stringify(b);
      if (typeof a === "string" && typeof b !== "string") return a === toKqlString(b, rt);
      if (typeof b === "string" && typeof a !== "string") return b === toKqlString(a, lt);
      return a === b;
    };
  }
  return (a, b) => a === b;
}

function isIntegral(t: ScalarType): boolean {
  return t === "long" || t === "int";
}

function arithmetic(op: string, l: Fn, r: Fn, lt: ScalarType, rt: ScalarType, out: ScalarType): Fn {
  const integral = isIntegral(lt) && isIntegral(rt);
  const num = (v: Value): number | null => (typeof v === "number" ? v : null);
  switch (op) {
    case "Add":
      if (lt === "string" || rt === "string") return () => null;
      return (row) => {
        const a = num(l(row));
        const b = num(r(row));
        return a === null || b === null ? null : a + b;
      };
    case "Subtract":
      return (row) => {
        const a = num(l(row));
        const b = num(r(row));
        return a === null || b === null ? null : a - b;
      };
    case "Multiply":
      return (row) => {
        const a = num(l(row));
        const b = num(r(row));
        if (a === null || b === null) return null;
        return integral ? Math.trunc(a * b) : a * b;
      };
    case "Divide":
      return (row) => {
        const a = num(l(row));
        const b = num(r(row));
        if (a === null || b === null) return null;
        if (lt === "timespan" && rt === "timespan") return a / b;
        if (integral || (out !== "real" && out !== "timespan" && isIntegral(out))) {
          return b === 0 ? null : Math.trunc(a / b);
        }
        return a / b;
      };
    default:
      // numerical-operators: the modulo is "a small non-negative number", 0 <= N % D < abs(D) (-14 % 12 is 10)
      return (row) => {
        const a = num(l(row));
        const b = num(r(row));
        if (a === null || b === null || b === 0) return null;
        const m = a % b;
        return m < 0 ? m + Math.abs(b) : m === 0 ? 0 : m;
      };
  }
}

/** The values of an `in` list: literals, dynamic arrays (flattened), or a subquery's first column. */
async function listValues(list: Node, scope: RowScope, ctx: Ctx): Promise<{ fns: Fn[]; types: ScalarType[] }> {
  const items = kindOf(list) === "ExpressionList" ? elements(list.Expressions) : [list];
  const fns: Fn[] = [];
  const types: ScalarType[] = [];
  for (const item of items) {
    if (item.ResultType && kindOfSymbol(item.ResultType) === "TableSymbol") {
      const rel = await ctx.evalTable(item, ctx);
      const rows = await materialize(rel);
      const t = rel.columns[0]?.type ?? "dynamic";
      for (const row of rows) {
        const v = row[0] as Value;
        fns.push(() => v);
        types.push(t);
      }
      continue;
    }
    const c = await compileScalar(item, scope, ctx);
    fns.push(c.fn);
    types.push(c.type);
  }
  return { fns, types };
}

function flatten(values: Value[]): Value[] {
  const out: Value[] = [];
  for (const v of values) {
    if (Array.isArray(v)) out.push(...(v as Value[]));
    else out.push(v);
  }
  return out;
}

async function compileIn(node: Node, scope: RowScope, ctx: Ctx): Promise<Compiled> {
  // Decided on the operator token: `in`, `in~` (case-insensitive), `!in`, `!in~`.
  const tilde = String(node.Operator?.Text ?? "").includes("~");
  const neg = String(node.Operator?.Text ?? "").startsWith("!");
  const left = await compileScalar(node.Left, scope, ctx);
  const { fns, types } = await listValues(node.Right, scope, ctx);
  const lt = left.type;
  const l = left.fn;
  const norm = (v: Value, t: ScalarType): string | null => {
    if (v === null) return null;
    const s = t === "string" || typeof v === "string" ? String(v) : `${typeof v}:${toKqlString(v, t)}`;
    return tilde ? s.toLowerCase() : s;
  };
  /**
   * The list's values keyed as the left value is: each item with its own type (a datetime column's value as a
   * datetime, not as the number it is held as), the elements of a dynamic array as dynamic values.
   */
  const keysOf = (row: Parameters<Fn>[0]): Array<string | null> => {
    const out: Array<string | null> = [];
    for (let i = 0; i < fns.length; i++) {
      const v = fns[i]!(row);
      if (Array.isArray(v))
        for (const e of v as Value[]) out.push(norm(e, typeof e === "string" ? "string" : "dynamic"));
      else out.push(norm(v, typeof v === "string" ? "string" : (types[i] ?? "dynamic")));
    }
    return out;
  };
  const allConstant = fns.every((f) => f.length === 0);
  const constSet = allConstant ? new Set(keysOf([])) : undefined;
  return {
    fn: (row) => {
      const a = l(row);
      if (a === null) return neg;
      const key = norm(a, typeof a === "string" ? "string" : lt);
      const found = constSet ? constSet.has(key) : keysOf(row).includes(key);
      return found !== neg;
    },
    type: "bool",
  };
}

async function compileHasAnyAll(node: Node, scope: RowScope, ctx: Ctx, all: boolean): Promise<Compiled> {
  const left = await compileScalar(node.Left, scope, ctx);
  const { fns, types } = await listValues(node.Right, scope, ctx);
  const l = left.fn;
  const lt = left.type;
  return {
    fn: (row) => {
      const a = asString(l(row), lt) ?? "";
      const needles = flatten(fns.map((f) => f(row))).map((v, i) => asString(v, types[i] ?? "dynamic") ?? "");
      return all ? needles.every((n) => hasTerm(a, n, false)) : needles.some((n) => hasTerm(a, n, false));
    },
    type: "bool",
  };
}

async function compileBetween(node: Node, scope: RowScope, ctx: Ctx): Promise<Compiled> {
  const neg = String(node.ReferencedSymbol?.Name ?? "") === "NotBetween";
  const left = await compileScalar(node.Left, scope, ctx);
  const lo = await compileScalar(node.Right.First, scope, ctx);
  const hi = await compileScalar(node.Right.Second, scope, ctx);
  const relative = left.type === "datetime" && hi.type === "timespan";
  const l = left.fn;
  return {
    fn: (row) => {
      const a = l(row);
      const b = lo.fn(row);
      let c = hi.fn(row);
      if (typeof a !== "number" || typeof b !== "number" || typeof c !== "number") return null;
      if (relative) c = b + c;
      return (a >= b && a <= c) !== neg;
    },
    type: "bool",
  };
}

async function compileToScalar(expr: Node, ctx: Ctx): Promise<Compiled> {
  const rel = await ctx.evalTable(expr, ctx);
  const rows = await materialize(rel);
  const v = (rows[0]?.[0] ?? null) as Value;
  return constant(v, rel.columns[0]?.type ?? "dynamic");
}

async function compileCall(node: Node, scope: RowScope, ctx: Ctx): Promise<Compiled> {
  const name = simpleName(node.Name);
  const args = elements(node.ArgumentList?.Expressions);
  if (name === "toscalar") return compileToScalar(args[0], ctx);
  if (name === "pack_all") return compilePackAll(args, scope, ctx);
  if (name === "column_ifexists") return compileColumnIfExists(node, args, scope, ctx);
  if (WINDOW_FUNCTIONS.has(name)) return compileWindowFunction(name, node, args, scope, ctx);
  const compiled: Compiled[] = [];
  for (const a of args) {
    if (kindOf(a) === "PrimitiveTypeExpression" || kindOf(a) === "TypeOfLiteralExpression") {
      compiled.push(constant(typeLiteralName(a), "string"));
      continue;
    }
    compiled.push(await compileScalar(a, scope, ctx));
  }
  const fn = callFunction(name, compiled, typeOf(node), ctx);
  if (fn) return { fn, type: typeOf(node) };
  const body = node.GetExpansion?.();
  if (body) return compileUserScalar(node, body, compiled, scope, ctx);
  throw unsupported(`function ${name}()`, spanOf(ctx, node));
}

/**
 * column_ifexists(columnName, defaultValue). KQL docs (column-ifexists-function): "Displays the column, if the
 * column exists. Otherwise, it returns the default column"; the name is a constant, so it resolves once.
 */
async function compileColumnIfExists(node: Node, args: Node[], scope: RowScope, ctx: Ctx): Promise<Compiled> {
  const nameOf = await compileScalar(args[0], scope, ctx);
  const column = nameOf.fn([]);
  if (typeof column !== "string") throw unsupported("column_ifexists() with a computed column name", spanOf(ctx, node));
  const slot = scope.slot(column);
  if (slot !== undefined) {
    const type = scope.columns[slot]?.type ?? typeOf(node);
    return { fn: (row) => row[slot] ?? null, type };
  }
  return compileScalar(args[1], scope, ctx);
}

const WINDOW_FUNCTIONS = new Set(["prev", "next", "row_number", "row_cumsum"]);

/** prev/next/row_number/row_cumsum over the serialized rows of the enclosing extend/project/where. */
async function compileWindowFunction(
  name: string,
  node: Node,
  args: Node[],
  scope: RowScope,
  ctx: Ctx,
): Promise<Compiled> {
  const w = scope.window;
  if (!w) throw unsupported(`${name}() outside extend, project or where`, spanOf(ctx, node));
  w.used = true;
  const c = await Promise.all(args.map((a) => compileScalar(a, scope, ctx)));
  const type = typeOf(node);
  switch (name) {
    case "prev":
    case "next": {
      const value = (c[0] as Compiled).fn;
      const offset = c[1] ? c[1].fn([]) : 1;
      const dflt = c[2]?.fn ?? (() => (type === "string" ? "" : null));
      if (typeof offset !== "number") throw unsupported(`${name}() with a non-constant offset`, spanOf(ctx, node));
      const step = name === "prev" ? -offset : offset;
      return {
        fn: (row) => {
          const other = w.rows[w.index + step];
          return other ? value(other) : dflt(row);
        },
        type,
      };
    }
    case "row_number": {
      const start = c[0] ? c[0].fn([]) : 1;
      const restart = c[1]?.fn;
      if (typeof start !== "number") throw unsupported("row_number() with a non-constant start", spanOf(ctx, node));
      let n = start;
      return {
        fn: (row) => {
          if (w.index === 0 || restart?.(row) === true) n = start;
          else n++;
          return n;
        },
        type,
      };
    }
    default: {
      const term = (c[0] as Compiled).fn;
      const restart = c[1]?.fn;
      let sum = 0;
      return {
        fn: (row) => {
          if (w.index === 0 || restart?.(row) === true) sum = 0;
          const v = term(row);
          if (typeof v === "number") sum += v;
          return sum;
        },
        type,
      };
    }
  }
}

/** `pack_all([ignore_null_empty])`: the row as a property bag (datetimes and timespans as their JSON text). */
async function compilePackAll(args: Node[], scope: RowScope, ctx: Ctx): Promise<Compiled> {
  const skip = args[0] ? (await compileScalar(args[0], scope, ctx)).fn([]) === true : false;
  const cols = scope.columns;
  return {
    fn: (row) => {
      const bag: Record<string, unknown> = {};
      cols.forEach((c, i) => {
        const v = row[i] as Value;
        if (skip && (v === null || v === "")) return;
        bag[c.name] =
          v === null
            ? null
            : c.type === "datetime"
              ? new Date(v as number).toISOString()
              : c.type === "timespan"
                ? toKqlString(v, "timespan")
                : v;
      });
      return bag;
    },
    type: "dynamic",
  };
}

/** A call of a user-defined scalar function: its body compiled with the parameters bound to the arguments. */
async function compileUserScalar(
  node: Node,
  body: Node,
  args: readonly Compiled[],
  scope: RowScope,
  ctx: Ctx,
): Promise<Compiled> {
  const env = new Env(ctx.env);
  const signature = node.ReferencedSignature;
  const count = signature?.Parameters?.Count ?? 0;
  for (let i = 0; i < count; i++) {
    const p = signature.Parameters.getItem(i);
    const arg = args[i];
    if (arg) env.set(String(p.Name), { kind: "expr", fn: arg.fn, type: arg.type });
    else if (p.DefaultValue) {
      const d = await compileScalar(p.DefaultValue, scope, ctx);
      env.set(String(p.Name), { kind: "expr", fn: d.fn, type: d.type });
    } else env.set(String(p.Name), { kind: "scalar", value: null, type: "dynamic" });
  }
  const inner: Ctx = { ...ctx, env, site: spanOf(ctx, node) ?? ctx.site };
  for (const stmt of elements(body.Statements)) {
    if (kindOf(stmt) !== "LetStatement") throw unsupported(`statement ${kindOf(stmt)}`, spanOf(ctx, node));
    const c = await compileScalar(stmt.Expression, scope, inner);
    env.set(simpleName(stmt.Name), { kind: "expr", fn: c.fn, type: c.type });
  }
  return compileScalar(body.Expression, scope, inner);
}
