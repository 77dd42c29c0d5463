/**
 * A hit whose row names no sample hash but names the file's host and path (an audit record: `exe=`) waits for
 * its sample by that location: its pending-index partition is the locator `hostpath:<host, path>` instead of a
 * SHA-256. When a sample for that host and path arrives (uploaded with `?host=&path=`, or fetched by the sample
 * broker), `attachSample` gives the waiting hits its SHA-256 and moves their index entries to it; the usual
 * verdict sweep then settles them.
 */
import { hostPathKey } from "../store/sample-index.js";
import { huntColumnsOf } from "../targets/index.js";
import type { Row } from "./hit-key.js";
import type { HuntState } from "./hunt-state.js";
import type { HitRecord, HuntPlan, NamedHashes } from "./types.js";

const PREFIX = "hostpath:";

export function locatorOf(host: string, path: string): string {
  return `${PREFIX}${hostPathKey(host, path)}`;
}

/** The locator of a row's file (the target's host columns, the plan's path columns), when the row names both. */
export function sampleLocatorOf(row: Row, plan: HuntPlan): string | undefined {
  const { host, path } = hostAndPathOf(row, plan.target, plan.sampleNameColumns?.path);
  return host && path ? locatorOf(host, path) : undefined;
}

/**
 * The device and the file a row names: the first non-blank value of the target's host columns (trimmed: a device
 * name holds no spaces), and of the path columns, exactly as written: a Linux file name may begin or end with a space
 * (any byte but `/` and NUL), and `/dev/shm/.x ` is another file than `/dev/shm/.x` (the fetch and the locator must
 * name the file the telemetry names, not a decoy beside it).
 */
export function hostAndPathOf(
  row: Row,
  target: string,
  pathColumns: readonly string[] | undefined,
): { host?: string; path?: string } {
  const first = (columns: readonly string[] | undefined) =>
    columns?.map((c) => row[c]).find((v): v is string => typeof v === "string" && v.trim() !== "");
  const host = first(huntColumnsOf(target).host)?.trim();
  const path = first(pathColumns);
  return { ...(host ? { host } : {}), ...(path ? { path } : {}) };
}

/** The SHA-1 and MD5 a row names for its file (the plan's columns; the first well-formed value of each), if any. */
export function namedHashesOf(row: Row, plan: HuntPlan | undefined): NamedHashes | undefined {
  const first = (columns: readonly string[] | undefined, pattern: RegExp) => {
    for (const column of columns ?? []) {
      const value = row[column];
      if (typeof value === "string" && pattern.test(value.trim())) return value.trim().toLowerCase();
    }
    return undefined;
  };
  const sha1 = first(plan?.sampleNameColumns?.sha1, /^[0-9a-f]{40}$/i);
  const md5 = first(plan?.sampleNameColumns?.md5, /^[0-9a-f]{32}$/i);
  return sha1 || md5 ? { ...(sha1 ? { sha1 } : {}), ...(md5 ? { md5 } : {}) } : undefined;
}

/** Whether a sample known by `hashes` is the file a hit names (every hash the hit names, equal). */
export function isNamedFile(expects: NamedHashes | undefined, hashes: NamedHashes): boolean {
  return (!expects?.sha1 || expects.sha1 === hashes.sha1) && (!expects?.md5 || expects.md5 === hashes.md5);
}

/** Where a hit waits in the pending index: its sample's SHA-256, else its locator. */
export function pendingPartitionOf(hit: Pick<HitRecord, "sha256" | "locator">): string | undefined {
  return hit.sha256 ?? hit.locator;
}

/**
 * Gives the hits waiting at `locator` the sample `sha256`: for each, one write puts the hit with its SHA-256 and
 * its index entry under that SHA-256, then drops the locator's entry (a crash in between leaves both entries; the
 * sweep drops the stale one). A hit whose row names other hashes (`expects`) is given the sample only when `isIt`
 * says the sample has them; otherwise it goes on waiting there. Returns how many hits were attached.
 */
export async function attachSample(
  state: HuntState,
  locator: string,
  sha256: string,
  isIt: (expects: NamedHashes) => boolean | Promise<boolean>,
): Promise<number> {
  let attached = 0;
  for (const { key, entry } of await state.pending(locator)) {
    const hit = await state.hit(entry.ruleId, key);
    const waiting = hit?.status === "pending" && hit.sha256 === undefined ? hit : undefined;
    // Another file than the one the row names: the hit goes on waiting here.
    if (waiting?.expects && !(await isIt(waiting.expects))) continue;
    const ops = [];
    if (waiting) {
      ops.push(state.putPendingOp(sha256, key, entry), state.putHitOp({ ...waiting, sha256 }));
      attached++;
    }
    ops.push(state.deletePendingOp(locator, key));
    await state.write(ops);
  }
  return attached;
}
