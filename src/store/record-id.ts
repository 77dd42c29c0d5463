/**
 * A record's name in a store's in-memory maps (the local journal's index, the Azure Table store's ETags): its kind,
 * its partition's length, its partition, then its key, so that every (kind, partition, key) has its own id whatever
 * characters the names hold (NUL too), and the ids of one partition are those that start with its prefix.
 */
import type { StateKind } from "./state-store.js";

const SEPARATOR = "\u0000";

export function recordId(kind: StateKind, partition: string, key: string): string {
  return `${kind}${SEPARATOR}${partition.length}${SEPARATOR}${partition}${key}`;
}

/** What the ids of a kind's records start with, or of one partition's: no other record's id starts with it. */
export function recordIdPrefix(kind: StateKind, partition?: string): string {
  return partition === undefined
    ? `${kind}${SEPARATOR}`
    : `${kind}${SEPARATOR}${partition.length}${SEPARATOR}${partition}`;
}

/** The partition and key of a record id made by `recordId`. */
export function recordNames(id: string): { readonly partition: string; readonly key: string } {
  const lengthAt = id.indexOf(SEPARATOR) + 1;
  const partitionAt = id.indexOf(SEPARATOR, lengthAt) + 1;
  const keyAt = partitionAt + Number(id.slice(lengthAt, partitionAt - 1));
  return { partition: id.slice(partitionAt, keyAt), key: id.slice(keyAt) };
}
