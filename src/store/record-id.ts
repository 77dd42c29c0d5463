/**
 * A record's name in a store's in-memory maps (the local journal's batch in writing, the Azure Table store's ETags):
 * its kind, its partition's length, its partition, then its key, so that every (kind, partition, key) has its own id
 * whatever characters the names hold (NUL too).
 */
import type { StateKind } from "./state-store.js";

const SEPARATOR = "\u0000";

export function recordId(kind: StateKind, partition: string, key: string): string {
  return `${kind}${SEPARATOR}${partition.length}${SEPARATOR}${partition}${key}`;
}
