/**
 * `mv-expand`: one output row per element of the expanded dynamic array(s) (several columns expand in step,
 * shorter ones padded with null); a property bag expands to one single-property bag per key (`kind=array`: to
 * [key, value] pairs); a scalar stays one row; an empty array, empty bag or null yields no row.
 * `to typeof(T)` converts the elements; `with_itemindex` adds the element index; `limit` caps rows per input row.
 */
import { type Ctx, type Fn, type RowScope, rowScope, spanOf } from "./context.js";
import { unsupported } from "./errors.js";
import { flatMapRows, type Relation, type Row } from "./relation.js";
import { compileScalar } from "./scalars.js";
import { elements, kindOf, type Node, resultColumns, simpleName } from "./syntax.js";
import { parseDatetime, parseTimespan, type ScalarType, toKqlString, type Value } from "./values.js";

function elementsOf(v: Value, asArrays: boolean): Value[] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v as Value[];
  if (typeof v === "object") {
    return Object.entries(v).map(([k, x]) => (asArrays ? [k, x] : { [k]: x }) as Value);
  }
  return [v];
}

export function convertElement(v: Value, type: ScalarType): Value {
  if (v === null || v === undefined) return type === "string" ? "" : null;
  switch (type) {
    case "dynamic":
      return v;
    case "string":
      return typeof v === "string" ? v : toKqlString(v, "dynamic");
    case "datetime":
      return typeof v === "string" ? parseDatetime(v) : typeof v === "number" ? v : null;
    case "timespan":
      return typeof v === "string" ? parseTimespan(v) : typeof v === "number" ? v : null;
    case "bool":
      return typeof v === "boolean" ? v : null;
    case "guid":
      return typeof v === "string" ? v.toLowerCase() : null;
    default: {
      const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : Number.NaN;
      if (Number.isNaN(n)) return null;
      return type === "long" || type === "int" ? Math.trunc(n) : n;
    }
  }
}

/** One expanded expression of `mv-expand` / `mv-apply`: its column name, its value per input row, its `to typeof(T)`. */
interface Expansion {
  readonly name: string;
  readonly fn: Fn;
  readonly toTypeOf: Node;
}

/** The expressions an `mv-expand` / `mv-apply` expands (`name = expr`, or a column), compiled over the input row. */
export async function expansionsOf(op: Node, scope: RowScope, ctx: Ctx, operator: string): Promise<Expansion[]> {
  const expanded: Expansion[] = [];
  for (const e of elements(op.Expressions)) {
    const inner = e.Expression;
    const named = kindOf(inner) === "SimpleNamedExpression";
    const expr = named ? inner.Expression : inner;
    const name = named ? simpleName(inner.Name) : kindOf(expr) === "NameReference" ? simpleName(expr) : undefined;
    if (!name) throw unsupported(`${operator} of an unnamed expression`, spanOf(ctx, e));
    expanded.push({ name, fn: (await compileScalar(expr, scope, ctx)).fn, toTypeOf: e.ToTypeOf });
  }
  return expanded;
}

/** The element lists of one input row and how many rows they make (the longest list, at most `limit`). */
export function expandRow(
  expanded: readonly Expansion[],
  row: Row,
  asArrays: boolean,
  limit = Number.POSITIVE_INFINITY,
): { lists: Value[][]; n: number } {
  const lists = expanded.map((x) => elementsOf(x.fn(row), asArrays));
  return { lists, n: Math.min(limit, Math.max(0, ...lists.map((l) => l.length))) };
}

export async function mvExpandRelation(op: Node, input: Relation, ctx: Ctx): Promise<Relation> {
  const out = resultColumns(op);
  let asArrays = false;
  let indexColumn: string | undefined;
  for (const p of elements(op.Parameters)) {
    const name = simpleName(p.Name).toLowerCase();
    const value = String(p.Expression?.ToString?.() ?? "").trim();
    if (name === "kind") asArrays = value.toLowerCase() === "array";
    else if (name === "with_itemindex") indexColumn = value;
    else if (name !== "bagexpansion") throw unsupported(`mv-expand parameter ${name}`, spanOf(ctx, p));
    if (name === "bagexpansion") asArrays = value.toLowerCase() === "array";
  }
  const scope = rowScope(input.columns);
  const index = new Map(input.columns.map((c, i) => [c.name, i] as const));
  const expanded = await expansionsOf(op, scope, ctx, "mv-expand");
  let limit = Number.POSITIVE_INFINITY;
  if (op.RowLimitClause) {
    const v = (await compileScalar(op.RowLimitClause.RowLimit, rowScope([]), ctx)).fn([]);
    if (typeof v === "number") limit = v;
  }
  const expandedAt = new Map(expanded.map((x, i) => [x.name, i] as const));
  // Each output column: an expanded value, the item index, or an input column.
  const plan = out.map((c) => {
    const k = expandedAt.get(c.name);
    if (k !== undefined) return { kind: "expanded" as const, k, type: c.type };
    if (c.name === indexColumn) return { kind: "index" as const };
    const i = index.get(c.name);
    if (i === undefined) throw unsupported(`mv-expand output column ${c.name}`, spanOf(ctx, op));
    return { kind: "input" as const, i };
  });
  return flatMapRows(input, out, (row, rows) => {
    const { lists, n } = expandRow(expanded, row, asArrays, limit);
    for (let j = 0; j < n; j++) {
      rows.push(
        plan.map((p) => {
          if (p.kind === "input") return row[p.i] as Value;
          if (p.kind === "index") return j;
          return convertElement(lists[p.k]?.[j] ?? null, p.type);
        }),
      );
    }
  });
}
