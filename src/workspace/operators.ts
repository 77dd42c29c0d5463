/**
 * Tabular evaluation: every query operator the engine supports, over relations streamed in batches. `where`,
 * `extend`, `project*` and `take` stream; `sort`, `top`, `summarize`, `distinct`, `join` and `scan` materialise.
 */
import { bridgeTypeName } from "../kusto/index.js";
import { type AggregateFactory, aggregateFactory, isArgExtreme } from "./aggregates.js";
import { type Ctx, Env, type Fn, newWindow, type RowScope, rowScope, spanOf, type Window } from "./context.js";
import { semanticError, unsupported } from "./errors.js";
import { mvApplyRelation } from "./mv-apply.js";
import { mvExpandRelation } from "./mv-expand.js";
import { evalParse } from "./parse-operator.js";
import { type Column, fromRows, materialize, memoized, type Relation, type Row } from "./relation.js";
import { compileScalar, literalValue } from "./scalars.js";
import { scanRelation } from "./scan.js";
import { elements, kindOf, type Node, resultColumns, simpleName, typeOf } from "./syntax.js";
import { compareValues, type Value, valueKey } from "./values.js";

/** Evaluates a tabular expression. */
export async function evalTable(node: Node, ctx: Ctx): Promise<Relation> {
  const kind = kindOf(node);
  switch (kind) {
    case "PipeExpression": {
      const input = await evalTable(node.Expression, ctx);
      return applyOperator(node.Operator, input, ctx);
    }
    case "ParenthesizedExpression":
      return evalTable(node.Expression, ctx);
    case "NameReference":
      return evalNamedTable(node, ctx);
    case "FunctionCallExpression":
      return evalFunctionCall(node, ctx);
    case "DataTableExpression":
      return evalDataTable(node, ctx);
    case "PrintOperator":
      return evalPrint(node, ctx);
    case "UnionOperator":
      return evalUnion(node, undefined, ctx);
    case "RangeOperator":
      return evalRange(node, ctx);
    case "MaterializeExpression": {
      const inner = await evalTable(node.Expression, ctx);
      return memoized(inner.columns, () => materialize(inner));
    }
    default:
      throw unsupported(`tabular expression ${kind}`, spanOf(ctx, node));
  }
}

function symbolClass(symbol: Node): string {
  return symbol ? bridgeTypeName(symbol).replace("Kusto.Language.Symbols.", "") : "";
}

async function evalNamedTable(node: Node, ctx: Ctx): Promise<Relation> {
  const name = simpleName(node);
  const symbol = node.ReferencedSymbol;
  const cls = symbolClass(symbol);
  if (cls === "FunctionSymbol") return evalFunctionCall(node, ctx);
  const bound = ctx.env.get(name);
  if (bound?.kind === "table" && cls !== "TableSymbol") return bound.relation;
  if (cls === "TableSymbol" || cls === "") {
    const t = ctx.source.table(name);
    if (t) return conform(t, resultColumns(node));
    if (bound?.kind === "table") return bound.relation;
    // A known table with no data file: empty, with its schema.
    return fromRows(resultColumns(node), []);
  }
  if (bound?.kind === "table") return bound.relation;
  throw unsupported(`table reference '${name}'`, spanOf(ctx, node));
}

/** Reorders/fills a data relation so that it has exactly `columns` (missing columns are null). */
function conform(rel: Relation, columns: readonly Column[]): Relation {
  if (columns.length === 0) return rel;
  const same = columns.length === rel.columns.length && columns.every((c, i) => rel.columns[i]?.name === c.name);
  if (same) return rel;
  const index = new Map(rel.columns.map((c, i) => [c.name, i] as const));
  const picks = columns.map((c) => index.get(c.name));
  const defaults = columns.map((c) => (c.type === "string" ? "" : null));
  return mapRows(columns, rel, (row) =>
    picks.map((p, i) => (p === undefined ? (defaults[i] as Value) : (row[p] as Value))),
  );
}

function mapRows(columns: readonly Column[], input: Relation, f: (row: Row) => Row): Relation {
  return {
    columns,
    async *batches() {
      for await (const batch of input.batches()) yield batch.map(f);
    },
  };
}

/** Arguments of a call by parameter name (positional and `name=value`), with the parameters' defaults. */
function callArguments(node: Node, offset = 0): Map<string, { node?: Node; value?: Value }> {
  const out = new Map<string, { node?: Node; value?: Value }>();
  const signature = node.ReferencedSignature;
  const params: Node[] = [];
  if (signature?.Parameters)
    for (let i = 0; i < signature.Parameters.Count; i++) params.push(signature.Parameters.getItem(i));
  const args = kindOf(node) === "FunctionCallExpression" ? elements(node.ArgumentList?.Expressions) : [];
  args.forEach((arg: Node, i: number) => {
    if (kindOf(arg) === "SimpleNamedExpression") out.set(simpleName(arg.Name), { node: arg.Expression });
    else {
      const p = params[i + offset];
      if (p) out.set(String(p.Name), { node: arg });
    }
  });
  for (const p of params.slice(offset)) {
    const name = String(p.Name);
    if (out.has(name)) continue;
    const def = p.DefaultValue;
    out.set(name, def ? { node: def } : { value: null });
  }
  return out;
}

async function evalFunctionCall(node: Node, ctx: Ctx): Promise<Relation> {
  const name = simpleName(kindOf(node) === "FunctionCallExpression" ? node.Name : node);
  const symbol = node.ReferencedSymbol;
  if (symbolClass(symbol) !== "FunctionSymbol") throw unsupported(`call of ${name}`, spanOf(ctx, node));
  const args = callArguments(node);
  const site = spanOf(ctx, node);
  // Evaluate arguments in the caller's context.
  const env = new Env(ctx.env);
  const scalarArgs = new Map<string, Value>();
  for (const [param, arg] of args) {
    if (arg.node?.ResultType && symbolClass(arg.node.ResultType) === "TableSymbol") {
      env.set(param, { kind: "table", relation: await evalTable(arg.node, ctx) });
      continue;
    }
    const value = arg.node ? (await compileScalar(arg.node, rowScope([]), ctx)).fn([]) : (arg.value ?? null);
    scalarArgs.set(param, value);
    env.set(param, { kind: "scalar", value, type: arg.node ? typeOf(arg.node) : "dynamic" });
  }
  const columns = resultColumns(node);
  const data = ctx.source.functionData(name, scalarArgs, columns);
  if (data) return conform(data, columns);
  const body = node.GetExpansion?.();
  if (!body) throw unsupported(`function ${name}() (no body available)`, site);
  const inner: Ctx = { ...ctx, env, site: site ?? ctx.site };
  return evalBody(body, inner);
}

/** A function body: `let` statements, then the result expression. */
async function evalBody(body: Node, ctx: Ctx): Promise<Relation> {
  for (const stmt of elements(body.Statements)) await evalLet(stmt, ctx);
  return evalTable(body.Expression, ctx);
}

/** Binds a `let` statement in ctx.env (scalar values are computed now, tables lazily). */
export async function evalLet(stmt: Node, ctx: Ctx): Promise<void> {
  const kind = kindOf(stmt);
  if (kind !== "LetStatement") throw unsupported(`statement ${kind}`, spanOf(ctx, stmt));
  const name = simpleName(stmt.Name);
  const expr = stmt.Expression;
  const ek = kindOf(expr);
  if (ek === "FunctionDeclaration") return; // calls are evaluated through Kusto.Language's expansion
  if (expr.ResultType && symbolClass(expr.ResultType) === "TableSymbol") {
    // Bound lazily, as Kusto does: each use re-reads its sources (bounded memory); `materialize()` caches.
    ctx.env.set(name, { kind: "table", relation: await evalTable(expr, ctx) });
    return;
  }
  const c = await compileScalar(expr, rowScope([]), ctx);
  ctx.env.set(name, { kind: "scalar", value: c.fn([]), type: c.type });
}

async function evalDataTable(node: Node, ctx: Ctx): Promise<Relation> {
  const columns = resultColumns(node);
  const values = elements(node.Values);
  const scope = rowScope([]);
  const cells: Value[] = [];
  for (const v of values) {
    const c = kindOf(v) === "LiteralExpression" ? literalValue(v, ctx) : (await compileScalar(v, scope, ctx)).fn([]);
    cells.push(c);
  }
  const rows: Row[] = [];
  for (let i = 0; i + columns.length <= cells.length; i += columns.length)
    rows.push(cells.slice(i, i + columns.length));
  if (cells.length % Math.max(1, columns.length) !== 0) {
    throw semanticError("datatable values do not fill whole rows", spanOf(ctx, node));
  }
  return fromRows(columns, rows);
}

/** `range x from a to b step s` (numbers, datetimes with a timespan step). */
async function evalRange(node: Node, ctx: Ctx): Promise<Relation> {
  const columns = resultColumns(node);
  const scope = rowScope([]);
  const from = (await compileScalar(node.From, scope, ctx)).fn([]);
  const to = (await compileScalar(node.To, scope, ctx)).fn([]);
  const step = (await compileScalar(node.Step, scope, ctx)).fn([]);
  if (typeof from !== "number" || typeof to !== "number" || typeof step !== "number" || step === 0) {
    throw semanticError("range needs numeric from/to and a non-zero step", spanOf(ctx, node));
  }
  const rows: Row[] = [];
  for (let v = from; step > 0 ? v <= to : v >= to; v += step) {
    rows.push([v]);
    if (rows.length > 10_000_000) throw semanticError("range produces too many rows", spanOf(ctx, node));
  }
  return fromRows(columns, rows);
}

async function evalPrint(node: Node, ctx: Ctx): Promise<Relation> {
  const columns = resultColumns(node);
  const exprs = elements(node.Expressions);
  const scope = rowScope([]);
  const row: Row = [];
  for (const e of exprs) {
    const inner = kindOf(e) === "SimpleNamedExpression" ? e.Expression : e;
    row.push((await compileScalar(inner, scope, ctx)).fn([]));
  }
  return fromRows(columns, [row]);
}

/** Applies one query operator to its input. */
async function applyOperator(op: Node, input: Relation, ctx: Ctx): Promise<Relation> {
  const kind = kindOf(op);
  switch (kind) {
    case "FilterOperator":
      return evalWhere(op, input, ctx);
    case "ExtendOperator":
      return evalExtend(op, input, ctx);
    case "ProjectOperator":
      return evalProject(op, input, ctx);
    case "ProjectAwayOperator":
    case "ProjectKeepOperator":
    case "ProjectReorderOperator":
    case "ProjectRenameOperator":
      return evalProjectByName(op, input, ctx);
    case "TakeOperator":
      return evalTake(op, input, ctx);
    case "SortOperator":
      return evalSort(op, input, ctx);
    case "TopOperator":
      return evalTop(op, input, ctx);
    case "SummarizeOperator":
      return evalSummarize(op, input, ctx);
    case "DistinctOperator":
      return evalDistinct(op, input, ctx);
    case "CountOperator":
      return memoized(resultColumns(op), async () => {
        let n = 0;
        for await (const b of input.batches()) n += b.length;
        return [[n]];
      });
    case "JoinOperator":
      return evalJoin(op, input, ctx);
    case "LookupOperator":
      return evalLookup(op, input, ctx);
    case "UnionOperator":
      return evalUnion(op, input, ctx);
    case "ParseOperator":
      return evalParse(op, input, ctx);
    case "ScanOperator":
      return scanRelation(op, input, ctx);
    case "InvokeOperator":
      return evalInvoke(op, input, ctx);
    case "MvExpandOperator":
      return mvExpandRelation(op, input, ctx);
    case "MvApplyOperator":
      return mvApplyRelation(op, input, ctx, applyOperator);
    case "SerializeOperator":
      if (elements(op.Expressions).length > 0) return evalExtend(op, input, ctx);
      return input;
    default:
      throw unsupported(`operator ${String(op.GetFirstToken?.()?.Text ?? kind)} (${kind})`, spanOf(ctx, op));
  }
}

/**
 * Rows mapped by `f` (null drops the row). With window functions in use, the input is materialised (it is a
 * serialized row set) and each row is evaluated with its position set in the window.
 */
function mapWindowed(
  columns: readonly Column[],
  input: Relation,
  window: Window,
  f: (row: Row) => Row | null,
): Relation {
  return {
    columns,
    async *batches() {
      const rows = await materialize(input);
      window.rows = rows;
      const out: Row[] = [];
      for (let i = 0; i < rows.length; i++) {
        window.index = i;
        const r = f(rows[i] as Row);
        if (r) out.push(r);
      }
      window.rows = [];
      for (let i = 0; i < out.length; i += 1024) yield out.slice(i, i + 1024);
    },
  };
}

async function evalWhere(op: Node, input: Relation, ctx: Ctx): Promise<Relation> {
  const window = newWindow();
  const reads = readsOf(rowScope(input.columns, window));
  const pred = (await compileScalar(op.Condition, reads.scope, ctx)).fn;
  if (window.used) return mapWindowed(input.columns, input, window, (row) => (pred(row) === true ? row : null));
  // A table file tests the condition on the columns it reads before building whole rows.
  const slots = reads.slots;
  if (input.where && slots) return input.where((row) => pred(row) === true, new Set(slots));
  return {
    columns: input.columns,
    async *batches() {
      for await (const batch of input.batches()) {
        const out: Row[] = [];
        for (const row of batch) if (pred(row) === true) out.push(row);
        if (out.length) yield out;
      }
    },
  };
}

/**
 * `scope` as the compiler sees it, noting the slots it resolves; `slots` is undefined when the compiled code may
 * read any slot (it asked for the column list: `*`, `pack_all()`, ...).
 */
function readsOf(scope: RowScope): { readonly scope: RowScope; readonly slots: ReadonlySet<number> | undefined } {
  const slots = new Set<number>();
  let whole = false;
  const watched: RowScope = {
    get columns() {
      whole = true;
      return scope.columns;
    },
    slot(name) {
      const i = scope.slot(name);
      if (i !== undefined) slots.add(i);
      return i;
    },
    ...(scope.window ? { window: scope.window } : {}),
  };
  return {
    scope: watched,
    get slots() {
      return whole ? undefined : slots;
    },
  };
}

/** The name an unnamed projected/extended expression gets (a column keeps its name; `a.b` becomes `a_b`). */
function expressionName(e: Node): string | undefined {
  const k = kindOf(e);
  if (k === "SimpleNamedExpression") return simpleName(e.Name);
  if (k === "NameReference") return simpleName(e);
  if (k === "PathExpression") {
    const base = expressionName(e.Expression);
    return base ? `${base}_${simpleName(e.Selector)}` : undefined;
  }
  return undefined;
}

async function evalExtend(op: Node, input: Relation, ctx: Ctx): Promise<Relation> {
  const out = resultColumns(op);
  const window = newWindow();
  const scope = rowScope(input.columns, window);
  const inputNames = new Set(input.columns.map((c) => c.name));
  const byName = new Map<string, Fn>();
  const fresh = out.filter((c) => !inputNames.has(c.name)).map((c) => c.name);
  let freshAt = 0;
  for (const e of elements(op.Expressions)) {
    const k = kindOf(e);
    if (k === "SimpleNamedExpression" && kindOf(e.Name) === "NameDeclaration") {
      byName.set(simpleName(e.Name), (await compileScalar(e.Expression, scope, ctx)).fn);
      continue;
    }
    if (k === "SimpleNamedExpression" || k === "CompoundNamedExpression") {
      throw unsupported("tuple assignment in extend", spanOf(ctx, e));
    }
    let name = expressionName(e);
    if (!name || (!inputNames.has(name) && !fresh.includes(name))) name = fresh[freshAt];
    if (name && !inputNames.has(name)) freshAt++;
    if (!name) throw unsupported("unnamed extend expression", spanOf(ctx, e));
    byName.set(name, (await compileScalar(e, scope, ctx)).fn);
  }
  const index = new Map(input.columns.map((c, i) => [c.name, i] as const));
  const fns: Fn[] = out.map((c) => {
    const f = byName.get(c.name);
    if (f) return f;
    const i = index.get(c.name);
    if (i === undefined) throw semanticError(`extend: no value for column ${c.name}`, spanOf(ctx, op));
    return (row) => row[i] as Value;
  });
  if (window.used) return mapWindowed(out, input, window, (row) => fns.map((f) => f(row)));
  return mapRows(out, input, (row) => fns.map((f) => f(row)));
}

async function evalProject(op: Node, input: Relation, ctx: Ctx): Promise<Relation> {
  const out = resultColumns(op);
  const exprs = elements(op.Expressions);
  if (exprs.length !== out.length) throw unsupported("project with wildcards", spanOf(ctx, op));
  const window = newWindow();
  const scope = rowScope(input.columns, window);
  const fns: Fn[] = [];
  for (const e of exprs) {
    const inner = kindOf(e) === "SimpleNamedExpression" ? e.Expression : e;
    fns.push((await compileScalar(inner, scope, ctx)).fn);
  }
  if (window.used) return mapWindowed(out, input, window, (row) => fns.map((f) => f(row)));
  return mapRows(out, input, (row) => fns.map((f) => f(row)));
}

/** project-away / project-keep / project-reorder / project-rename: output columns picked from input by name. */
async function evalProjectByName(op: Node, input: Relation, ctx: Ctx): Promise<Relation> {
  const out = resultColumns(op);
  const renamed = new Map<string, string>();
  if (kindOf(op) === "ProjectRenameOperator") {
    for (const e of elements(op.Expressions)) renamed.set(simpleName(e.Name), simpleName(e.Expression));
  }
  const index = new Map(input.columns.map((c, i) => [c.name, i] as const));
  const picks = out.map((c) => {
    const i = index.get(renamed.get(c.name) ?? c.name);
    if (i === undefined) throw semanticError(`no input column for ${c.name}`, spanOf(ctx, op));
    return i;
  });
  return mapRows(out, input, (row) => picks.map((i) => row[i] as Value));
}

async function constantNumber(node: Node, ctx: Ctx): Promise<number> {
  const v = (await compileScalar(node, rowScope([]), ctx)).fn([]);
  if (typeof v !== "number") throw semanticError("expected a number", spanOf(ctx, node));
  return v;
}

async function evalTake(op: Node, input: Relation, ctx: Ctx): Promise<Relation> {
  const n = await constantNumber(op.Expression, ctx);
  return {
    columns: input.columns,
    async *batches() {
      let left = n;
      if (left <= 0) return;
      for await (const batch of input.batches()) {
        if (batch.length >= left) {
          yield batch.slice(0, left);
          return;
        }
        left -= batch.length;
        yield batch;
      }
    },
  };
}

interface SortKey {
  readonly fn: Fn;
  readonly desc: boolean;
  readonly nullsFirst: boolean;
}

async function sortKeys(exprs: Node[], input: Relation, ctx: Ctx): Promise<SortKey[]> {
  const scope = rowScope(input.columns);
  const keys: SortKey[] = [];
  for (const e of exprs) {
    const isOrdered = kindOf(e) === "OrderedExpression";
    const inner = isOrdered ? e.Expression : e;
    const ordering = isOrdered ? e.Ordering : undefined;
    const dir = String(ordering?.AscOrDescKeyword?.Text ?? "desc").toLowerCase();
    const desc = dir !== "asc";
    const nulls = String(ordering?.NullsClause?.FirstOrLastKeyword?.Text ?? "").toLowerCase();
    const nullsFirst = nulls ? nulls === "first" : !desc;
    keys.push({ fn: (await compileScalar(inner, scope, ctx)).fn, desc, nullsFirst });
  }
  return keys;
}

function comparator(keys: readonly SortKey[]): (a: Row, b: Row) => number {
  return (a, b) => {
    for (const k of keys) {
      const x = k.fn(a);
      const y = k.fn(b);
      const xn = x === null || x === undefined;
      const yn = y === null || y === undefined;
      if (xn || yn) {
        if (xn && yn) continue;
        return (xn ? -1 : 1) * (k.nullsFirst ? 1 : -1);
      }
      const c = compareValues(x, y);
      if (c !== 0) return k.desc ? -c : c;
    }
    return 0;
  };
}

async function evalSort(op: Node, input: Relation, ctx: Ctx): Promise<Relation> {
  const cmp = comparator(await sortKeys(elements(op.Expressions), input, ctx));
  return memoized(input.columns, async () => (await materialize(input)).sort(cmp));
}

async function evalTop(op: Node, input: Relation, ctx: Ctx): Promise<Relation> {
  const n = await constantNumber(op.Expression, ctx);
  const cmp = comparator(await sortKeys([op.ByExpression], input, ctx));
  return memoized(input.columns, async () => (await materialize(input)).sort(cmp).slice(0, Math.max(0, n)));
}

interface AggregatePlan {
  readonly factory: AggregateFactory;
  readonly width: number;
}

async function evalSummarize(op: Node, input: Relation, ctx: Ctx): Promise<Relation> {
  const out = resultColumns(op);
  const scope = rowScope(input.columns);
  const byExprs = elements(op.ByClause?.Expressions);
  const byFns: Fn[] = [];
  for (const e of byExprs) {
    const inner = kindOf(e) === "SimpleNamedExpression" ? e.Expression : e;
    byFns.push((await compileScalar(inner, scope, ctx)).fn);
  }
  const aggs = elements(op.Aggregates);
  const callOf = (a: Node): Node => (kindOf(a) === "SimpleNamedExpression" ? a.Expression : a);
  const isStar = (call: Node): boolean =>
    isArgExtreme(simpleName(call.Name)) &&
    elements(call.ArgumentList?.Expressions).some((n: Node) => kindOf(n) === "StarExpression");
  const fixedWidth = (call: Node): number =>
    isArgExtreme(simpleName(call.Name)) ? elements(call.ArgumentList?.Expressions).length : 1;
  const stars = aggs.filter((a) => isStar(callOf(a))).length;
  if (stars > 1) throw unsupported("more than one arg_max/arg_min(*, ...) in one summarize", spanOf(ctx, op));
  const known = aggs.filter((a) => !isStar(callOf(a))).reduce((n, a) => n + fixedWidth(callOf(a)), 0);
  const starWidth = out.length - byFns.length - known;
  const plans: AggregatePlan[] = [];
  let at = byFns.length;
  for (const a of aggs) {
    const call = callOf(a);
    if (kindOf(call) !== "FunctionCallExpression") throw unsupported("aggregate expression", spanOf(ctx, a));
    const name = simpleName(call.Name);
    const argNodes = elements(call.ArgumentList?.Expressions);
    const argFns: Fn[] = [];
    const returns: Fn[] = [];
    let width = 1;
    if (isArgExtreme(name)) {
      const first = argNodes[0];
      if (first) argFns.push((await compileScalar(first, scope, ctx)).fn);
      const rest = argNodes.slice(1);
      width = isStar(call) ? starWidth : 1 + rest.length;
      const cols = out.slice(at + 1, at + width);
      const index = new Map(input.columns.map((c, i) => [c.name, i] as const));
      let ri = 0;
      for (const col of cols) {
        const explicit = rest[ri];
        if (explicit && kindOf(explicit) !== "StarExpression") {
          const inner = kindOf(explicit) === "SimpleNamedExpression" ? explicit.Expression : explicit;
          returns.push((await compileScalar(inner, scope, ctx)).fn);
          ri++;
          continue;
        }
        let i = index.get(col.name);
        if (i === undefined) {
          const base = /^(.*?)\d+$/.exec(col.name)?.[1];
          i = base !== undefined ? index.get(base) : undefined;
        }
        if (i === undefined) throw unsupported(`arg_max/arg_min output column ${col.name}`, spanOf(ctx, a));
        const slot = i;
        returns.push((row) => row[slot] as Value);
      }
    } else {
      for (const n of argNodes) {
        if (kindOf(n) === "StarExpression") continue;
        argFns.push((await compileScalar(n, scope, ctx)).fn);
      }
    }
    const factory = aggregateFactory(name, { args: argFns, returns });
    if (!factory) throw unsupported(`aggregate function ${name}()`, spanOf(ctx, call));
    plans.push({ factory, width });
    at += width;
  }
  if (at !== out.length) throw unsupported("summarize output shape", spanOf(ctx, op));
  return memoized(out, async () => {
    const groups = new Map<string, { keys: Value[]; accs: ReturnType<AggregateFactory>[] }>();
    for await (const batch of input.batches()) {
      for (const row of batch) {
        const keys = byFns.map((f) => f(row));
        const k = keys.length === 1 ? valueKey(keys[0] as Value) : keys.map(valueKey).join("\u0001");
        let g = groups.get(k);
        if (!g) {
          g = { keys, accs: plans.map((p) => p.factory()) };
          groups.set(k, g);
        }
        for (const acc of g.accs) acc.add(row);
      }
    }
    if (groups.size === 0 && byFns.length === 0) {
      groups.set("", { keys: [], accs: plans.map((p) => p.factory()) });
    }
    // null-values: "The string data type doesn't support null values", so an aggregate that found nothing (arg_max
    // with no row to take its columns from) gives a string column "".
    const strings = out.map((c) => c.type === "string");
    const rows: Row[] = [];
    for (const g of groups.values()) {
      const row = [...g.keys, ...g.accs.flatMap((a) => a.result())];
      rows.push(row.map((v, i) => (v === null && strings[i] ? "" : v)));
    }
    return rows;
  });
}

async function evalDistinct(op: Node, input: Relation, ctx: Ctx): Promise<Relation> {
  const out = resultColumns(op);
  const exprs = elements(op.Expressions);
  const scope = rowScope(input.columns);
  let fns: Fn[];
  if (exprs.length === 1 && kindOf(exprs[0]) === "StarExpression") {
    fns = input.columns.map((_, i) => (row: Row) => row[i] as Value);
  } else {
    fns = [];
    for (const e of exprs) {
      const inner = kindOf(e) === "SimpleNamedExpression" ? e.Expression : e;
      fns.push((await compileScalar(inner, scope, ctx)).fn);
    }
  }
  return memoized(out, async () => {
    const seen = new Set<string>();
    const rows: Row[] = [];
    for await (const batch of input.batches()) {
      for (const row of batch) {
        const vals = fns.map((f) => f(row));
        const k = vals.map(valueKey).join("\u0001");
        if (seen.has(k)) continue;
        seen.add(k);
        rows.push(vals);
      }
    }
    return rows;
  });
}

function parameterValue(op: Node, name: string): string | undefined {
  for (const p of elements(op.Parameters)) {
    if (simpleName(p.Name).toLowerCase() === name) return String(p.Expression?.ToString?.() ?? "").trim();
  }
  return undefined;
}

/** Join keys: `on A, B`, `on $left.A == $right.B`, combined with `and`. */
function joinKeys(op: Node, ctx: Ctx, clause: Node = op.ConditionClause): { left: string; right: string }[] {
  const keys: { left: string; right: string }[] = [];
  if (kindOf(clause) !== "JoinOnClause") throw unsupported("join without 'on'", spanOf(ctx, op));
  const visit = (e: Node): void => {
    const k = kindOf(e);
    if (k === "NameReference") {
      keys.push({ left: simpleName(e), right: simpleName(e) });
      return;
    }
    if (k === "ParenthesizedExpression") {
      visit(e.Expression);
      return;
    }
    if (k === "BinaryExpression") {
      // Kusto.Language binds no operator symbol to an `and` between join keys (its operands are key names, not
      // bools): the token decides.
      const token = String(e.Operator?.Text ?? "").toLowerCase();
      const opName = String(e.ReferencedSymbol?.Name ?? "");
      if (opName === "And" || token === "and") {
        visit(e.Left);
        visit(e.Right);
        return;
      }
      if (opName === "Equal") {
        const side = (x: Node): { side: string; name: string } | undefined => {
          if (kindOf(x) !== "PathExpression") return undefined;
          const s = String(x.Expression?.ToString?.() ?? "").trim();
          return { side: s, name: simpleName(x.Selector) };
        };
        const a = side(e.Left);
        const b = side(e.Right);
        if (a && b) {
          if (a.side === "$left" && b.side === "$right") keys.push({ left: a.name, right: b.name });
          else if (a.side === "$right" && b.side === "$left") keys.push({ left: b.name, right: a.name });
          else throw unsupported("join condition", spanOf(ctx, e));
          return;
        }
      }
    }
    throw unsupported(`join condition ${String(e.ToString?.() ?? k).trim()}`, spanOf(ctx, e));
  };
  for (const e of elements(clause.Expressions)) visit(e);
  return keys;
}

/** The slots of the join keys on each side; `notFound` makes the error when a key names no column. */
function keySlots(
  keys: readonly { left: string; right: string }[],
  left: Relation,
  right: Relation,
  notFound: () => Error,
): { lk: number[]; rk: number[] } {
  const li = new Map(left.columns.map((c, i) => [c.name, i] as const));
  const ri = new Map(right.columns.map((c, i) => [c.name, i] as const));
  const lk = keys.map((k) => li.get(k.left));
  const rk = keys.map((k) => ri.get(k.right));
  if (lk.some((i) => i === undefined) || rk.some((i) => i === undefined)) throw notFound();
  return { lk: lk as number[], rk: rk as number[] };
}

/** A row's join key at the slots `idx`, as one string; undefined when a key is null (null keys never match). */
function keyOf(row: Row, idx: readonly number[]): string | undefined {
  const parts: string[] = [];
  for (const i of idx) {
    const v = row[i] as Value;
    if (v === null) return undefined;
    parts.push(valueKey(v));
  }
  return parts.join("\u0001");
}

async function evalJoin(op: Node, left: Relation, ctx: Ctx): Promise<Relation> {
  const kind = (parameterValue(op, "kind") ?? "innerunique").toLowerCase();
  const supported = [
    "inner",
    "innerunique",
    "leftouter",
    "leftanti",
    "leftantisemi",
    "leftsemi",
    "rightouter",
    "rightanti",
    "rightantisemi",
    "rightsemi",
    "fullouter",
    "anti",
    "semi",
  ];
  if (!supported.includes(kind)) throw unsupported(`join kind=${kind}`, spanOf(ctx, op));
  for (const p of elements(op.Parameters)) {
    const n = simpleName(p.Name).toLowerCase();
    if (n !== "kind" && n !== "hint.strategy" && n !== "hint.remote" && n !== "hint.shufflekey") {
      throw unsupported(`join parameter ${n}`, spanOf(ctx, p));
    }
  }
  const right = await evalTable(op.Expression, ctx);
  const { lk, rk } = keySlots(joinKeys(op, ctx), left, right, () =>
    semanticError("join key column not found", spanOf(ctx, op)),
  );
  const out = resultColumns(op);
  const lw = left.columns.length;
  const rw = right.columns.length;
  const nullRow = (w: number, cols: readonly Column[]): Row =>
    Array.from({ length: w }, (_, i) => (cols[i]?.type === "string" ? "" : null));
  const k =
    kind === "anti"
      ? "leftanti"
      : kind === "semi"
        ? "leftsemi"
        : kind === "leftantisemi"
          ? "leftanti"
          : kind === "rightantisemi"
            ? "rightanti"
            : kind;
  const expectedWidth =
    k === "leftanti" || k === "leftsemi" ? lw : k === "rightanti" || k === "rightsemi" ? rw : lw + rw;
  if (out.length !== expectedWidth) throw unsupported(`join output shape (${out.length} columns)`, spanOf(ctx, op));
  return memoized(out, async () => {
    let lrows = await materialize(left);
    const rrows = await materialize(right);
    if (k === "innerunique") {
      const seen = new Set<string>();
      lrows = lrows.filter((r) => {
        const key = keyOf(r, lk);
        if (key === undefined) return true;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    }
    const index = new Map<string, Row[]>();
    for (const r of rrows) {
      const key = keyOf(r, rk);
      if (key === undefined) continue;
      const list = index.get(key);
      if (list) list.push(r);
      else index.set(key, [r]);
    }
    const rows: Row[] = [];
    const matchedRight = new Set<Row>();
    for (const l of lrows) {
      const key = keyOf(l, lk);
      const matches = key === undefined ? undefined : index.get(key);
      switch (k) {
        case "leftsemi":
          if (matches) rows.push(l);
          break;
        case "leftanti":
          if (!matches) rows.push(l);
          break;
        case "rightsemi":
        case "rightanti":
        case "rightouter":
          if (matches) for (const r of matches) matchedRight.add(r);
          if (k === "rightouter" && matches) for (const r of matches) rows.push([...l, ...r]);
          break;
        default:
          if (matches) {
            for (const r of matches) {
              matchedRight.add(r);
              rows.push([...l, ...r]);
            }
          } else if (k === "leftouter" || k === "fullouter") rows.push([...l, ...nullRow(rw, right.columns)]);
      }
    }
    if (k === "rightsemi") for (const r of rrows) if (matchedRight.has(r)) rows.push(r);
    if (k === "rightanti") for (const r of rrows) if (!matchedRight.has(r)) rows.push(r);
    if (k === "rightouter" || k === "fullouter") {
      for (const r of rrows) if (!matchedRight.has(r)) rows.push([...nullRow(lw, left.columns), ...r]);
    }
    return rows;
  });
}

/** `lookup [kind=leftouter|inner] (T) on keys`: the left rows extended with the right's non-key columns. */
async function evalLookup(op: Node, left: Relation, ctx: Ctx): Promise<Relation> {
  const kind = (parameterValue(op, "kind") ?? "leftouter").toLowerCase();
  if (kind !== "leftouter" && kind !== "inner") throw unsupported(`lookup kind=${kind}`, spanOf(ctx, op));
  for (const p of elements(op.Parameters)) {
    if (simpleName(p.Name).toLowerCase() !== "kind")
      throw unsupported(`lookup parameter ${simpleName(p.Name)}`, spanOf(ctx, p));
  }
  const right = await evalTable(op.Expression, ctx);
  const { lk, rk } = keySlots(joinKeys(op, ctx, op.LookupClause), left, right, () =>
    semanticError("lookup key column not found", spanOf(ctx, op)),
  );
  const out = resultColumns(op);
  const rightKeys = new Set(rk);
  const carried = right.columns.map((_, i) => i).filter((i) => !rightKeys.has(i));
  if (out.length !== left.columns.length + carried.length) {
    throw unsupported(`lookup output shape (${out.length} columns)`, spanOf(ctx, op));
  }
  const missing = carried.map((i) => (right.columns[i]?.type === "string" ? "" : null));
  let index: Promise<Map<string, Row[]>> | undefined;
  const buildIndex = async () => {
    const m = new Map<string, Row[]>();
    for (const r of await materialize(right)) {
      const key = keyOf(r, rk);
      if (key === undefined) continue;
      const list = m.get(key);
      if (list) list.push(r);
      else m.set(key, [r]);
    }
    return m;
  };
  // The left side streams; only the (usually small) right side is held.
  return {
    columns: out,
    async *batches() {
      index ??= buildIndex();
      const m = await index;
      for await (const batch of left.batches()) {
        const rows: Row[] = [];
        for (const l of batch) {
          const key = keyOf(l, lk);
          const matches = key === undefined ? undefined : m.get(key);
          if (matches) for (const r of matches) rows.push([...l, ...carried.map((i) => r[i] as Value)]);
          else if (kind === "leftouter") rows.push([...l, ...missing]);
        }
        if (rows.length) yield rows;
      }
    },
  };
}

async function evalUnion(op: Node, input: Relation | undefined, ctx: Ctx): Promise<Relation> {
  let sourceColumn: string | undefined;
  for (const p of elements(op.Parameters)) {
    const n = simpleName(p.Name).toLowerCase();
    if (n === "withsource") sourceColumn = simpleName(p.Expression);
    else if (n !== "kind" && n !== "isfuzzy") throw unsupported(`union parameter ${n}`, spanOf(ctx, p));
  }
  const out = resultColumns(op);
  const inputs: Relation[] = input ? [input] : [];
  const sourceNames: string[] = [];
  if (input && sourceColumn !== undefined) throw unsupported("union withsource= after a pipe", spanOf(ctx, op));
  for (const e of elements(op.Expressions)) {
    inputs.push(await evalTable(e, ctx));
    if (sourceColumn !== undefined) {
      if (kindOf(e) !== "NameReference") throw unsupported("union withsource= of an expression", spanOf(ctx, e));
      sourceNames.push(simpleName(e));
    }
  }
  const names = out.map((c) => c.name);
  const kindParam = (parameterValue(op, "kind") ?? "outer").toLowerCase();
  if (kindParam !== "outer" && kindParam !== "inner") throw unsupported(`union kind=${kindParam}`, spanOf(ctx, op));
  const parts = inputs.map((rel, n) => {
    // A column whose type differs between inputs comes out once per type, as `Name_type` (Kusto's rule).
    const index = new Map<string, number>();
    rel.columns.forEach((c, i) => {
      const typed = `${c.name}_${c.type}`;
      const name = names.includes(c.name) ? c.name : names.includes(typed) ? typed : undefined;
      if (name === undefined) {
        if (kindParam === "outer") throw unsupported(`union column ${c.name} (${c.type})`, spanOf(ctx, op));
        return;
      }
      index.set(name, i);
    });
    const picks = out.map((c) => index.get(c.name));
    const defaults: Value[] = out.map((c) => (c.type === "string" ? "" : null));
    if (sourceColumn !== undefined) {
      const at = out.findIndex((c) => c.name === sourceColumn);
      picks[at] = undefined;
      defaults[at] = sourceNames[n] ?? "";
    }
    return { rel, picks, defaults };
  });
  return {
    columns: out,
    async *batches() {
      for (const { rel, picks, defaults } of parts) {
        for await (const batch of rel.batches()) {
          yield batch.map((row) => picks.map((p, i) => (p === undefined ? (defaults[i] as Value) : (row[p] as Value))));
        }
      }
    },
  };
}

async function evalInvoke(op: Node, input: Relation, ctx: Ctx): Promise<Relation> {
  const call = op.Function;
  const body = call?.GetExpansion?.();
  if (!body) throw unsupported("invoke of a function without a KQL body", spanOf(ctx, op));
  const env = new Env(ctx.env);
  // The first parameter of an invoked function is the piped table; the call's arguments fill the others.
  const signature = call.ReferencedSignature;
  const tableParam = signature?.Parameters?.Count ? String(signature.Parameters.getItem(0).Name) : undefined;
  if (!tableParam) throw unsupported("invoke of a function without a table parameter", spanOf(ctx, op));
  env.set(tableParam, { kind: "table", relation: input });
  const args = callArguments(call, 1);
  for (const [param, arg] of args) {
    const value = arg.node ? (await compileScalar(arg.node, rowScope([]), ctx)).fn([]) : (arg.value ?? null);
    env.set(param, { kind: "scalar", value, type: arg.node ? typeOf(arg.node) : "dynamic" });
  }
  return evalBody(body, { ...ctx, env, site: spanOf(ctx, op) ?? ctx.site });
}
