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
  /** Records by kind and partition, then key: a partition is listed without looking at the others. */
  private readonly partitions = new Map<string, Map<string, unknown>>();

  async get<T>(kind: StateKind, partition: string, key: string): Promise<T | undefined> {
    return this.partitions.get(partitionId(kind, partition))?.get(key) as T | undefined;
  }

  async getMany<T>(kind: StateKind, partition: string, keys: readonly string[]): Promise<Array<T | undefined>> {
    const records = this.partitions.get(partitionId(kind, partition));
    return keys.map((key) => records?.get(key) as T | undefined);
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
    const take = (p: string, records: Map<string, unknown> | undefined) => {
      for (const [key, value] of records ?? []) out.push({ partition: p, key, value: value as T });
    };
    if (partition !== undefined) take(partition, this.partitions.get(partitionId(kind, partition)));
    else {
      const prefix = `${kind}\u0000`;
      for (const [id, records] of this.partitions) if (id.startsWith(prefix)) take(id.slice(prefix.length), records);
    }
    return out.sort((a, b) => compare(a.partition, b.partition) || compare(a.key, b.key));
  }

  async batch(ops: readonly StateOp[]): Promise<boolean[]> {
    return ops.map((op) => this.apply(op));
  }

  damaged(): readonly DamagedRecord[] {
    return [];
  }

  private partitionOf(id: string, records: Map<string, unknown> | undefined): Map<string, unknown> {
    if (records) return records;
    const created = new Map<string, unknown>();
    this.partitions.set(id, created);
    return created;
  }

  private apply(op: StateOp): boolean {
    const id = partitionId(op.kind, op.partition);
    const records = this.partitions.get(id);
    switch (op.op) {
      case "create":
        if (records?.has(op.key)) return false;
        this.partitionOf(id, records).set(op.key, op.value);
        return true;
      case "put":
        this.partitionOf(id, records).set(op.key, op.value);
        return true;
      case "delete":
        records?.delete(op.key);
        if (records?.size === 0) this.partitions.delete(id);
        return true;
      case "swap":
        if (!records?.has(op.key) || !sameValue(records.get(op.key), op.expected)) return false;
        records.set(op.key, op.value);
        return true;
    }
  }
}

const partitionId = (kind: StateKind, partition: string) => `${kind}\u0000${partition}`;

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
