/**
 * The state store: small JSON records addressed by (kind, partition, key). Two implementations behind one
 * interface: local files (local-state-store.ts) and Azure Table storage (table-state-store.ts).
 *
 * The operations are chosen so the hunt protocol (docs/service.md) can be made idempotent and crash-safe:
 * `create` is an atomic create-if-absent (the basis of every "at most once" guarantee), `put` is an atomic
 * whole-record replace, `delete` of a missing record succeeds, `swap` replaces a record only if it still holds the
 * value the caller read (compare-and-swap: local, under the journal's lock; Azure Table, an ETag-conditional
 * update), the basis of the hunt's lease; a `delete` given `expected` removes it only on the same condition
 * (compare-and-delete, the same way: a lease given up leaves no record, and never removes another holder's).
 *
 * `batch` carries out many such operations as one durable write (local: one journal append and one fsync; Azure
 * Table: one entity group transaction per partition, 100 operations and 4 MiB). Each operation keeps its own meaning
 * and atomicity; the batch as a whole is not atomic: a crash may leave a prefix of the order it is written in. Local
 * and in memory, that order is the batch's. On Azure Table the batch is sent partition by partition, in the order
 * each partition first appears in it, each partition's operations in their order: an operation may land before
 * operations of other partitions given before it, never before an earlier one of its own partition, nor before
 * those of a partition that appears wholly before its own. Callers order their batches so: what must land first
 * goes in an earlier batch, or before every operation of the partitions that follow.
 */

/**
 * `quarantine`: records set aside as damaged (partition: their kind; key: `<partition>/<key>`); `lease`: who runs a
 * rule's hunt on a target now, until when; `signals`: the hits alerted against a rule's max_signals in its window.
 * `sampleindex`: samples by SHA-1, MD5 and host + path (sample-index.ts). `acquisition`: the sample broker's
 * fetches (src/broker). `rescan`: how far the rescan of stored samples with the current YARA rules has come
 * (src/hunt/rescan.ts). `hitstatus`: the statuses a hunt batch gave the hits it recorded `new` (one record per
 * batch, not a write per hit).
 */
export const stateKinds = [
  "checkpoint",
  "hit",
  "pending",
  "verdict",
  "incident",
  "quarantine",
  "lease",
  "signals",
  "sampleindex",
  "acquisition",
  "hitstatus",
  "rescan",
] as const;

export type StateKind = (typeof stateKinds)[number];

export interface StateRecord<T> {
  readonly partition: string;
  readonly key: string;
  readonly value: T;
}

/** One write of a batch. */
export type StateOp =
  | {
      readonly op: "create";
      readonly kind: StateKind;
      readonly partition: string;
      readonly key: string;
      readonly value: unknown;
    }
  | {
      readonly op: "put";
      readonly kind: StateKind;
      readonly partition: string;
      readonly key: string;
      readonly value: unknown;
    }
  /**
   * Removes the record (a missing one: done). With `expected`, only when it is present and still `expected` (equal
   * as JSON): a compare-and-delete, as a swap compares.
   */
  | {
      readonly op: "delete";
      readonly kind: StateKind;
      readonly partition: string;
      readonly key: string;
      readonly expected?: unknown;
    }
  /** Replaces the record only when it is present and still `expected` (equal as JSON): a compare-and-swap. */
  | {
      readonly op: "swap";
      readonly kind: StateKind;
      readonly partition: string;
      readonly key: string;
      readonly expected: unknown;
      readonly value: unknown;
    };

/** A record that could not be read (truncated, not JSON): skipped by every read, reported here, kept aside. */
export interface DamagedRecord {
  readonly kind: StateKind | "unknown";
  readonly partition?: string;
  readonly key?: string;
  /** Where it was, in words (journal file and byte offset, or table entity). */
  readonly where: string;
  readonly error: string;
}

export interface StateStore {
  /** The record, or undefined when there is none. */
  get<T>(kind: StateKind, partition: string, key: string): Promise<T | undefined>;
  /**
   * The records of `keys` in one partition, in the order of `keys` (undefined where there is none), read together
   * (Azure Table: one query per 14 keys, not a request per key). A store without it is read key by key.
   */
  getMany?<T>(kind: StateKind, partition: string, keys: readonly string[]): Promise<Array<T | undefined>>;
  /** Creates the record only if absent; true when this call created it. Atomic. */
  create<T>(kind: StateKind, partition: string, key: string, value: T): Promise<boolean>;
  /** Creates or replaces the whole record. Atomic: a reader sees the old or the new value, never a mix. */
  put<T>(kind: StateKind, partition: string, key: string, value: T): Promise<void>;
  /** Removes the record; removing a missing record is not an error. */
  delete(kind: StateKind, partition: string, key: string): Promise<void>;
  /** Every record of a kind (in one partition when given), in key order. */
  list<T>(kind: StateKind, partition?: string): Promise<ReadonlyArray<StateRecord<T>>>;
  /**
   * Carries out the operations in order as one durable write; for each, true when it took effect (a create that
   * found the record present is false, so is a swap or a delete given `expected` that found another value or none;
   * put and any other delete are always true).
   */
  batch(ops: readonly StateOp[]): Promise<boolean[]>;
  /** The records found damaged so far (skipped by reads, never stopping the rest). */
  damaged(): readonly DamagedRecord[];
  /** Releases files and timers; the store is not used afterwards. */
  close?(): Promise<void>;
}

/** Is the operation decided by the value it finds (a swap, a delete given `expected`)? */
export function isConditional(
  op: StateOp,
): op is Extract<StateOp, { op: "swap" }> | (Extract<StateOp, { op: "delete" }> & { readonly expected: unknown }) {
  return op.op === "swap" || (op.op === "delete" && op.expected !== undefined);
}

/** What a swap compares: the stored value and the expected one, equal as JSON. */
export function sameValue(stored: unknown, expected: unknown): boolean {
  return JSON.stringify(stored) === JSON.stringify(expected);
}
