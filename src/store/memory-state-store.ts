/**
 * State in memory: the StateStore contract without any I/O or serialisation. Records are kept as given (callers
 * treat records as immutable values, as the hunt does); for tests and the benchmark's "state in memory" figure.
 * Nothing survives the process.
 */
import {
  type DamagedRecord,
  isConditional,
  type StateKind,
  type StateOp,
  type StateRecord,
  type StateStore,
  sameValue,
} from "./state-store.js";

export class MemoryStateStore implements StateStore {
  /** Records by kind, partition, then key: a partition is listed without looking at the others. */
  private readonly kinds = new Map<StateKind, Map<string, Map<string, unknown>>>();

  async get<T>(kind: StateKind, partition: string, key: string): Promise<T | undefined> {
    return this.kinds.get(kind)?.get(partition)?.get(key) as T | undefined;
  }

  async getMany<T>(kind: StateKind, partition: string, keys: readonly string[]): Promise<Array<T | undefined>> {
    const records = this.kinds.get(kind)?.get(partition);
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
    const partitions = this.kinds.get(kind);
    if (partition !== undefined) take(partition, partitions?.get(partition));
    else for (const [p, records] of partitions ?? []) take(p, records);
    return out.sort((a, b) => compare(a.partition, b.partition) || compare(a.key, b.key));
  }

  async batch(ops: readonly StateOp[]): Promise<boolean[]> {
    return ops.map((op) => this.apply(op));
  }

  damaged(): readonly DamagedRecord[] {
    return [];
  }

  /** The partition's records, made when `create` is set and there are none. */
  private partitionOf(kind: StateKind, partition: string, create: boolean): Map<string, unknown> | undefined {
    let partitions = this.kinds.get(kind);
    if (!partitions) {
      if (!create) return undefined;
      partitions = new Map();
      this.kinds.set(kind, partitions);
    }
    let records = partitions.get(partition);
    if (!records && create) {
      records = new Map();
      partitions.set(partition, records);
    }
    return records;
  }

  private apply(op: StateOp): boolean {
    if (isConditional(op)) {
      const records = this.partitionOf(op.kind, op.partition, false);
      if (!records?.has(op.key) || !sameValue(records.get(op.key), op.expected)) return false;
    }
    switch (op.op) {
      case "create": {
        const records = this.partitionOf(op.kind, op.partition, true)!;
        if (records.has(op.key)) return false;
        records.set(op.key, op.value);
        return true;
      }
      case "put":
        this.partitionOf(op.kind, op.partition, true)!.set(op.key, op.value);
        return true;
      case "delete": {
        const records = this.partitionOf(op.kind, op.partition, false);
        records?.delete(op.key);
        if (records?.size === 0) this.kinds.get(op.kind)?.delete(op.partition);
        return true;
      }
      case "swap":
        this.partitionOf(op.kind, op.partition, false)!.set(op.key, op.value);
        return true;
    }
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
