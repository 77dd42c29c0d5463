/**
 * `mv-apply x = expr [to typeof(T)] on (subquery)`: for each input row, the expanded values of `expr` form a
 * small table (the row's columns plus `x`), the subquery runs over it, and each of its result rows is output
 * with the input row's other columns. Output columns follow Kusto.Language's schema, filled by name from the
 * subquery's row, else from the input row.
 */
import { type Ctx, type Fn, rowScope, spanOf } from "./context.js";
import { unsupported } from "./errors.js";
import { convertElement, elementsOf } from "./mv-expand.js";
import { type Column, fromRows, materialize, type Relation, type Row } from "./relation.js";
import { compileScalar } from "./scalars.js";
import { elements, kindOf, type Node, resultColumns, simpleName } from "./syntax.js";
import type { ScalarType, Value } from "./values.js";

type ApplyOperator = (op: Node, input: Relation, ctx: Ctx) => Promise<Relation>;

/** Applies a chain of operators with no source (`where … | summarize …`) to `input`. */
async function applyChain(expr: Node, input: Relation, ctx: Ctx, apply: ApplyOperator): Promise<Relation> {
  if (kindOf(expr) === "PipeExpression") {
    const left = await applyChain(expr.Expression, input, ctx, apply);
    return apply(expr.Operator, left, ctx);
  }
  if (kindOf(expr) === "ParenthesizedExpression") return applyChain(expr.Expression, input, ctx, apply);
  return apply(expr, input, ctx);
}

function typeName(toTypeOf: Node): ScalarType | undefined {
  if (!toTypeOf) return undefined;
  const m = /typeof\s*\(\s*(\w+)\s*\)/i.exec(String(toTypeOf.ToString?.() ?? ""));
  const t = m?.[1]?.toLowerCase();
  const known: Record<string, ScalarType> = {
    string: "string",
    long: "long",
    int: "int",
    real: "real",
    double: "real",
    bool: "bool",
    boolean: "bool",
    datetime: "datetime",
    timespan: "timespan",
    guid: "guid",
    dynamic: "dynamic",
  };
  return t ? known[t] : undefined;
}

export async function mvApplyRelation(op: Node, input: Relation, ctx: Ctx, apply: ApplyOperator): Promise<Relation> {
  const out = resultColumns(op);
  for (const p of elements(op.Parameters)) {
    throw unsupported(`mv-apply parameter ${simpleName(p.Name)}`, spanOf(ctx, p));
  }
  if (op.RowLimitClause || op.ContextIdClause) throw unsupported("mv-apply limit/id clause", spanOf(ctx, op));
  const scope = rowScope(input.columns);
  const expanded: { name: string; fn: Fn; type: ScalarType }[] = [];
  for (const e of elements(op.Expressions)) {
    const inner = e.Expression;
    const named = kindOf(inner) === "SimpleNamedExpression";
    const expr = named ? inner.Expression : inner;
    const name = named ? simpleName(inner.Name) : kindOf(expr) === "NameReference" ? simpleName(expr) : undefined;
    if (!name) throw unsupported("mv-apply of an unnamed expression", spanOf(ctx, e));
    expanded.push({ name, fn: (await compileScalar(expr, scope, ctx)).fn, type: typeName(e.ToTypeOf) ?? "dynamic" });
  }
  // The per-row table: the input columns, with the applied names replaced or appended.
  const innerColumns: Column[] = input.columns.map((c) => {
    const x = expanded.find((e) => e.name === c.name);
    return x ? { name: c.name, type: x.type } : c;
  });
  for (const x of expanded) {
    if (!innerColumns.some((c) => c.name === x.name)) innerColumns.push({ name: x.name, type: x.type });
  }
  const inputSlot = new Map(input.columns.map((c, i) => [c.name, i] as const));
  // Where each column of the subquery's input comes from, decided once: an expanded list, or the input row.
  const innerPlan = innerColumns.map((c): { expanded: number; type: ScalarType } | { input: number } => {
    const k = expanded.findIndex((x) => x.name === c.name);
    return k >= 0 ? { expanded: k, type: c.type } : { input: inputSlot.get(c.name) as number };
  });
  const subquery = op.Subquery?.Expression;
  if (!subquery) throw unsupported("mv-apply without a subquery", spanOf(ctx, op));
  return {
    columns: out,
    async *batches() {
      for await (const batch of input.batches()) {
        const rows: Row[] = [];
        for (const row of batch) {
          const lists = expanded.map((x) => elementsOf(x.fn(row), false));
          const n = Math.max(0, ...lists.map((l) => l.length));
          const innerRows: Row[] = [];
          for (let j = 0; j < n; j++) {
            const r: Row = innerPlan.map((p) =>
              "expanded" in p
                ? convertElement((lists[p.expanded] as Value[])[j] ?? null, p.type)
                : (row[p.input] as Value),
            );
            innerRows.push(r);
          }
          // The subquery is planned per row: its closures are cheap, and memoized operators must not be shared.
          const result = await applyChain(subquery, fromRows(innerColumns, innerRows), ctx, apply);
          const resultSlot = new Map(result.columns.map((c, i) => [c.name, i] as const));
          for (const sub of await materialize(result)) {
            rows.push(
              out.map((c) => {
                const s = resultSlot.get(c.name);
                if (s !== undefined) return sub[s] as Value;
                const i = inputSlot.get(c.name);
                return i === undefined ? null : (row[i] as Value);
              }),
            );
          }
        }
        if (rows.length) yield rows;
      }
    },
  };
}
