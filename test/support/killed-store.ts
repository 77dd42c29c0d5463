/**
 * A state store that dies like a killed process, for the tests of what a kill between two writes leaves: the crash
 * sweep (every write, every prefix), the broker's kill between the API's answer and its record, a run killed at its
 * n-th hit. Every write is counted, a single create, put or delete as a write of one operation.
 */
import type { StateKind, StateOp, StateRecord, StateStore } from "../../src/store/state-store.js";

/**
 * Where the process dies: given a write's operations and its number (from 1), the operations of it that land before
 * the process is gone (none: `[]`), or undefined when the write lands whole and the process lives on.
 */
export type KillPoint = (ops: readonly StateOp[], write: number) => readonly StateOp[] | undefined;

/**
 * A real store that dies at its kill point: what lands there is written, then that write throws and so does every
 * call after it (reads too), as for a process gone. What landed is in `inner`, where the next process finds it.
 */
export class KilledStore implements StateStore {
  /** The kinds of the operations of each write so far, in the batch's order (a census of the writes). */
  readonly writes: Array<readonly StateKind[]> = [];
  dead = false;

  constructor(
    private readonly inner: StateStore,
    private readonly killAt: KillPoint = () => undefined,
  ) {}

  get<T>(kind: StateKind, partition: string, key: string): Promise<T | undefined> {
    this.alive();
    return this.inner.get<T>(kind, partition, key);
  }
  async getMany<T>(kind: StateKind, partition: string, keys: readonly string[]): Promise<Array<T | undefined>> {
    this.alive();
    if (this.inner.getMany) return this.inner.getMany<T>(kind, partition, keys);
    return Promise.all(keys.map((key) => this.inner.get<T>(kind, partition, key)));
  }
  list<T>(kind: StateKind, partition?: string): Promise<ReadonlyArray<StateRecord<T>>> {
    this.alive();
    return this.inner.list<T>(kind, partition);
  }
  async create<T>(kind: StateKind, partition: string, key: string, value: T): Promise<boolean> {
    const [created] = await this.batch([{ op: "create", kind, partition, key, value }]);
    return created === true;
  }
  async put<T>(kind: StateKind, partition: string, key: string, value: T): Promise<void> {
    await this.batch([{ op: "put", kind, partition, key, value }]);
  }
  async delete(kind: StateKind, partition: string, key: string): Promise<void> {
    await this.batch([{ op: "delete", kind, partition, key }]);
  }
  async batch(ops: readonly StateOp[]): Promise<boolean[]> {
    this.alive();
    if (ops.length === 0) return [];
    this.writes.push(ops.map((op) => op.kind));
    const write = this.writes.length;
    const landed = this.killAt(ops, write);
    if (landed === undefined) return this.inner.batch(ops);
    this.dead = true;
    if (landed.length > 0) await this.inner.batch(landed);
    throw new Error(`killed at write ${write} after ${landed.length} of its ${ops.length} operations`);
  }
  damaged() {
    return this.inner.damaged();
  }
  private alive(): void {
    if (this.dead) throw new Error("killed: the process is gone");
  }
}

/** Dies at the first write with an operation `matches` says is the one, none of that write landed. */
export const killAtFirst =
  (matches: (op: StateOp) => boolean): KillPoint =>
  (ops) =>
    ops.some(matches) ? [] : undefined;

/** Dies where its `n`-th write of a `kind` record (a create or a put) would be: the operations before it land. */
export function killAtNth(kind: StateKind, n: number): KillPoint {
  let seen = 0;
  return (ops) => {
    const at = ops.findIndex((op) => op.op !== "delete" && op.kind === kind && ++seen === n);
    return at < 0 ? undefined : ops.slice(0, at);
  };
}
