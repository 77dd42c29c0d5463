/**
 * State in memory: the StateStore contract without any I/O or serialisation. Records are kept as given (callers
 * treat records as immutable values, as the hunt does); for tests and the benchmark's "state in memory" figure.
 * Nothing survives the process.
 */
import {
  type DamagedRecord,
  type StateKind,
  type StateOp,
  type StateRecord,
  type StateStore,
  sameValue,
} from "./state-store.js";

export class MemoryStateStore implements StateStore {
  private readonly records = new Map<string, unknown>();

  async get<T>(kind: StateKind, partition: string, key: string): Promise<T | undefined> {
    return this.records.get(recordId(kind, partition, key)) as T | undefined;
  }

  async create<T>(kind: StateKind, partition: string, key: string, value: T): Promise<boolean> {
    return this.apply({ op: "create", kind, partition, key, value });
  }

  async put<T>(kind: StateKind, partition: string, key: string, value: T): Promise<void> {
    this.apply({ op: "put", kind, partition, key, value });
  }

  async delete(kind: StateKind, partition: string, key: string): Promise<void> {
    this.apply({ op: "delete", kind, partition, key });
  }

  async list<T>(kind: StateKind, partition?: string): Promise<ReadonlyArray<StateRecord<T>>> {
    const out: StateRecord<T>[] = [];
    for (const [id, value] of this.records) {
      const [k, p, key] = id.split("\u0000") as [string, string, string];
      if (k === kind && (partition === undefined || p === partition))
        out.push({ partition: p, key, value: value as T });
    }
    return out.sort((a, b) => compare(a.partition, b.partition) || compare(a.key, b.key));
  }

  async batch(ops: readonly StateOp[]): Promise<boolean[]> {
    return ops.map((op) => this.apply(op));
  }

  damaged(): readonly DamagedRecord[] {
    return [];
  }

  private apply(op: StateOp): boolean {
    const id = recordId(op.kind, op.partition, op.key);
    switch (op.op) {
      case "create":
        if (this.records.has(id)) return false;
        this.records.set(id, op.value);
        return true;
      case "put":
        this.records.set(id, op.value);
        return true;
      case "delete":
        this.records.delete(id);
        return true;
      case "swap":
        if (!this.records.has(id) || !sameValue(this.records.get(id), op.expected)) return false;
        this.records.set(id, op.value);
        return true;
    }
  }
}

const recordId = (kind: StateKind, partition: string, key: string) => `${kind}\u0000${partition}\u0000${key}`;

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
