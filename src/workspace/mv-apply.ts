/**
 * `mv-apply x = expr [to typeof(T)] on (subquery)`: for each input row, the expanded values of `expr` form a
 * small table (the row's columns plus `x`), the subquery runs over it, and each of its result rows is output
 * with the input row's other columns. Output columns follow Kusto.Language's schema, filled by name from the
 * subquery's row, else from the input row.
 */
import { kqlTypeNamed } from "../kusto/index.js";
import { type Ctx, rowScope, spanOf } from "./context.js";
import { unsupported } from "./errors.js";
import { convertElement, expandRow, expansionsOf } from "./mv-expand.js";
import { type Column, flatMapRows, fromRows, materialize, type Relation, type Row } from "./relation.js";
import { elements, kindOf, type Node, resultColumns, simpleName, typeLiteralName } from "./syntax.js";
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

export async function mvApplyRelation(op: Node, input: Relation, ctx: Ctx, apply: ApplyOperator): Promise<Relation> {
  const out = resultColumns(op);
  for (const p of elements(op.Parameters)) {
    throw unsupported(`mv-apply parameter ${simpleName(p.Name)}`, spanOf(ctx, p));
  }
  if (op.RowLimitClause || op.ContextIdClause) throw unsupported("mv-apply limit/id clause", spanOf(ctx, op));
  const scope = rowScope(input.columns);
  const expanded = (await expansionsOf(op, scope, ctx, "mv-apply")).map((x) => {
    const type: ScalarType = (x.toTypeOf ? kqlTypeNamed(typeLiteralName(x.toTypeOf)) : undefined) ?? "dynamic";
    return { ...x, type };
  });
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
  return flatMapRows(input, out, async (row, rows) => {
    const { lists, n } = expandRow(expanded, row, false);
    const innerRows: Row[] = [];
    for (let j = 0; j < n; j++) {
      innerRows.push(
        innerPlan.map((p) =>
          "expanded" in p ? convertElement(lists[p.expanded]?.[j] ?? null, p.type) : (row[p.input] as Value),
        ),
      );
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
  });
}
