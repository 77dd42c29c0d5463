/** The state store of a process killed at a write, for the broker's tests of a kill between two of its steps. */
import type { StateKind, StateOp, StateRecord, StateStore } from "../../src/store/state-store.js";

/**
 * The state store of a process killed at a write: the first write with an operation `killAt` matches does not land,
 * and from then on every call throws (reads too), as for a process gone. What landed before is in `disk`, where the
 * next process finds it.
 */
export class KilledProcessStore implements StateStore {
  private dead = false;

  constructor(
    private readonly disk: StateStore,
    private readonly killAt: (op: StateOp) => boolean,
  ) {}

  get<T>(kind: StateKind, partition: string, key: string): Promise<T | undefined> {
    this.alive();
    return this.disk.get<T>(kind, partition, key);
  }
  list<T>(kind: StateKind, partition?: string): Promise<ReadonlyArray<StateRecord<T>>> {
    this.alive();
    return this.disk.list<T>(kind, partition);
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
  batch(ops: readonly StateOp[]): Promise<boolean[]> {
    this.alive();
    if (ops.some(this.killAt)) {
      this.dead = true;
      this.alive();
    }
    return this.disk.batch(ops);
  }
  damaged() {
    return this.disk.damaged();
  }
  private alive(): void {
    if (this.dead) throw new Error("killed: the process is gone");
  }
}
