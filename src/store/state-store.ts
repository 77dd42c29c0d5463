/**
 * The state store: small JSON records addressed by (kind, partition, key). Two implementations behind one
 * interface: local files (local-state-store.ts) and Azure Table storage (table-state-store.ts).
 *
 * The operations are chosen so the hunt protocol (docs/service.md) can be made idempotent and crash-safe:
 * `create` is an atomic create-if-absent (the basis of every "at most once" guarantee), `put` is an atomic
 * whole-record replace, `delete` of a missing record succeeds. No operation is a read-modify-write.
 */

export type StateKind = "checkpoint" | "hit" | "pending" | "verdict" | "incident";

export const stateKinds: readonly StateKind[] = ["checkpoint", "hit", "pending", "verdict", "incident"];

export interface StateRecord<T> {
  readonly partition: string;
  readonly key: string;
  readonly value: T;
}

export interface StateStore {
  /** The record, or undefined when there is none. */
  get<T>(kind: StateKind, partition: string, key: string): Promise<T | undefined>;
  /** Creates the record only if absent; true when this call created it. Atomic. */
  create<T>(kind: StateKind, partition: string, key: string, value: T): Promise<boolean>;
  /** Creates or replaces the whole record. Atomic: a reader sees the old or the new value, never a mix. */
  put<T>(kind: StateKind, partition: string, key: string, value: T): Promise<void>;
  /** Removes the record; removing a missing record is not an error. */
  delete(kind: StateKind, partition: string, key: string): Promise<void>;
  /** Every record of a kind (in one partition when given), in key order. */
  list<T>(kind: StateKind, partition?: string): Promise<ReadonlyArray<StateRecord<T>>>;
}
