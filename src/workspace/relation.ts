/** Relations: a schema plus a re-iterable, lazily produced stream of row batches. */
import type { ScalarType, Value } from "./values.js";

export interface Column {
  readonly name: string;
  readonly type: ScalarType;
}

export type Row = Value[];

/** A table value. `batches()` may be called more than once (a `let` table used twice); each call re-reads. */
export interface Relation {
  readonly columns: readonly Column[];
  batches(): AsyncIterable<Row[]>;
  /**
   * The rows for which `keep` is true, when the relation can test it before building whole rows (a table file:
   * only the `reads` slots of a row are converted for the test, the rest only for the rows kept). `keep` reads
   * no other slot. Absent when the relation has no cheaper way than filtering its batches.
   */
  where?(keep: (row: Row) => boolean, reads: ReadonlySet<number>): Relation;
}

export const BATCH = 1024;

export function fromRows(columns: readonly Column[], rows: readonly Row[]): Relation {
  return {
    columns,
    async *batches() {
      for (let i = 0; i < rows.length; i += BATCH) yield rows.slice(i, i + BATCH);
    },
  };
}

/**
 * The relation of `columns` whose rows are those `each` pushes to `out` for each row of `input` (none, one or
 * several), batch by batch; `each` may be async (it is awaited only when it returns a promise).
 */
export function flatMapRows(
  input: Relation,
  columns: readonly Column[],
  each: (row: Row, out: Row[]) => void | Promise<void>,
): Relation {
  return {
    columns,
    async *batches() {
      for await (const batch of input.batches()) {
        const out: Row[] = [];
        for (const row of batch) {
          const pending = each(row, out);
          if (pending) await pending;
        }
        if (out.length) yield out;
      }
    },
  };
}

export async function materialize(relation: Relation): Promise<Row[]> {
  const out: Row[] = [];
  for await (const batch of relation.batches()) for (const row of batch) out.push(row);
  return out;
}

/** A relation computed once on first use and then replayed (for sort, summarize, join sides). */
export function memoized(columns: readonly Column[], compute: () => Promise<Row[]>): Relation {
  let rows: Promise<Row[]> | undefined;
  return {
    columns,
    async *batches() {
      rows ??= compute();
      const all = await rows;
      for (let i = 0; i < all.length; i += BATCH) yield all.slice(i, i + BATCH);
    },
  };
}
