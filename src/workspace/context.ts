/** What compiling a query needs: the source text (for positions), the clock, variables, and the table evaluator. */
import { LineMap, type Span } from "../diagnostics/index.js";
import type { Column, Relation, Row } from "./relation.js";
import type { Node } from "./syntax.js";
import type { ScalarType, Value } from "./values.js";

export type Fn = (row: Row) => Value;

export type Binding =
  | { readonly kind: "scalar"; readonly value: Value; readonly type: ScalarType }
  | { readonly kind: "table"; readonly relation: Relation }
  /** A parameter of a user-defined scalar function, bound to the caller's compiled argument. */
  | { readonly kind: "expr"; readonly fn: Fn; readonly type: ScalarType };

/** Lexical variables (`let`, function parameters), innermost first. */
export class Env {
  private readonly vars = new Map<string, Binding>();
  constructor(readonly parent?: Env) {}
  set(name: string, binding: Binding): void {
    this.vars.set(name, binding);
  }
  get(name: string): Binding | undefined {
    return this.vars.get(name) ?? this.parent?.get(name);
  }
}

/** Where column names resolve to row slots; scan adds state columns and `step.column` references. */
/**
 * The serialized row set that window functions (prev, next, row_number, row_cumsum) see: the operator that
 * compiled them materialises its input into `rows` and sets `index` before evaluating each row.
 */
export interface Window {
  rows: readonly Row[];
  index: number;
  /** Set when a window function was compiled against this scope. */
  used: boolean;
}

export interface RowScope {
  readonly columns: readonly Column[];
  slot(name: string): number | undefined;
  /** `s1.col` inside scan steps. */
  stepColumn?(step: string, column: string): Fn | undefined;
  /** Present where window functions may be used (extend, project, where). */
  readonly window?: Window;
}

export function rowScope(columns: readonly Column[], window?: Window): RowScope {
  const index = new Map<string, number>();
  columns.forEach((c, i) => {
    index.set(c.name, i);
  });
  return { columns, slot: (name) => index.get(name), ...(window ? { window } : {}) };
}

export function newWindow(): Window {
  return { rows: [], index: 0, used: false };
}

/** Where table names and data-backed workspace functions (ASIM parsers, _GetWatchlist) get their rows. */
export interface TableSource {
  table(name: string): Relation | undefined;
  /** Rows of a function whose body is not KQL here; `args` are the evaluated arguments by parameter name. */
  functionData(name: string, args: ReadonlyMap<string, Value>, columns: readonly Column[]): Relation | undefined;
}

export interface Ctx {
  readonly source: TableSource;
  readonly lines: LineMap;
  /** The call site when compiling inside a function body (positions there refer to another text). */
  readonly site?: Span;
  readonly now: number;
  readonly env: Env;
  /** Evaluates a tabular expression (for toscalar(), `in (subquery)`, and table arguments). */
  evalTable(node: Node, ctx: Ctx): Promise<Relation>;
}

export function spanOf(ctx: Ctx, node: Node): Span | undefined {
  if (ctx.site) return ctx.site;
  if (!node || typeof node.TextStart !== "number") return undefined;
  const start = node.TextStart as number;
  const end = Math.max(start, node.End as number);
  if (end > ctx.lines.text.length) return undefined;
  return ctx.lines.span(start, end);
}

export function newLines(text: string): LineMap {
  return new LineMap(text);
}
