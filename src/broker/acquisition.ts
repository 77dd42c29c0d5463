/**
 * An acquisition: the broker's attempt to fetch one file, recorded in the state store (`acquisition` records,
 * partition `file`, key the file's identity) so that each file is fetched once and every step can be shown:
 * - `requested`: wanted, no live response session started yet (waiting for a slot, or for a retry); with
 *   `startAttemptedAt` once runliveresponse was called, whose action the API may have accepted unrecorded;
 * - `queued`: a GetFile machine action runs or waits for its device (`actionStatus` says which);
 * - `retrieved`: downloaded, hash-checked, stored (`sha256`, `bytes`);
 * - `failed`: the API's reason (`reason`, e.g. the action's error or `TimeOut`); not tried again;
 * - `skipped`: why it is not fetched (signed, prevalent, no device or path).
 */
import { hostPathKey, type SampleNames } from "../store/sample-index.js";
import type { StateStore } from "../store/state-store.js";

const ACQUISITION_STATUSES = ["requested", "queued", "retrieved", "failed", "skipped"] as const;
export type AcquisitionStatus = (typeof ACQUISITION_STATUSES)[number];

export interface AcquisitionEvent {
  readonly at: string;
  readonly status: AcquisitionStatus;
  readonly reason?: string;
}

export interface Acquisition {
  readonly key: string;
  readonly status: AcquisitionStatus;
  readonly reason?: string;
  /** What the hit knows of the file. */
  readonly names: SampleNames;
  /** The hit that asked for it first. */
  readonly hitKey: string;
  readonly ruleId: string;
  readonly machineId?: string;
  /**
   * When the broker last called runliveresponse for the file, written before the call: a record still `requested`
   * with it may have a machine action the API accepted but the record missed (a process killed in between, an answer
   * lost), which the next start looks for on the device before asking again.
   */
  readonly startAttemptedAt?: string;
  readonly actionId?: string;
  /** The machine action's last status (Pending while the device is offline). */
  readonly actionStatus?: string;
  /** Retrieved: the file's SHA-256 and size. */
  readonly sha256?: string;
  readonly bytes?: number;
  /** Transient errors (429 past the retries, 5xx, network) so far; after the limit the acquisition fails. */
  readonly transientErrors: number;
  readonly lastError?: string;
  readonly requestedAt: string;
  readonly updatedAt: string;
  readonly history: readonly AcquisitionEvent[];
}

export const ACQUISITION_PARTITION = "file";

/** A file's identity: its SHA-256 when the hit names one, else the host and path; undefined without either. */
export function acquisitionKey(names: SampleNames): string | undefined {
  if (names.sha256) return `sha256:${names.sha256.toLowerCase()}`;
  if (names.host && names.path) return `path:${hostPathKey(names.host, names.path)}`;
  return undefined;
}

/**
 * The keys a hit's acquisition may be under, best first: its names' key, then (when it names a SHA-256 and a host
 * and path) the host and path's: a hit that waited by location was asked for so and got the file's SHA-256 since.
 */
export function acquisitionKeysOf(names: SampleNames, locatedFirst = false): string[] {
  const { sha256: _sha256, ...located } = names;
  const keys = [acquisitionKey(names), acquisitionKey(located)];
  if (locatedFirst) keys.reverse();
  return [...new Set(keys)].filter((k): k is string => k !== undefined);
}

/** The acquisition of each hit, by the hit's names (one listing of the records, then lookups in memory). */
export async function acquisitionsFor<H>(
  store: StateStore,
  hits: readonly H[],
  namesOf: (hit: H) => SampleNames,
  locatedOf: (hit: H) => boolean = () => false,
): Promise<Array<Acquisition | undefined>> {
  const records = await store.list<Acquisition>("acquisition", ACQUISITION_PARTITION);
  if (records.length === 0) return hits.map(() => undefined);
  const byKey = new Map(records.map((r) => [r.key, r.value]));
  return hits.map((hit) => {
    for (const key of acquisitionKeysOf(namesOf(hit), locatedOf(hit))) {
      const found = byKey.get(key);
      if (found) return found;
    }
    return undefined;
  });
}

export const finalAcquisitionStatuses: ReadonlySet<AcquisitionStatus> = new Set(["retrieved", "failed", "skipped"]);

/** The record moved to `status` (with a history entry when the status or reason changed). */
export function advance(
  record: Acquisition,
  status: AcquisitionStatus,
  at: Date,
  changes: Partial<Omit<Acquisition, "key" | "status" | "history">> = {},
): Acquisition {
  const reason = changes.reason;
  const changed = status !== record.status || (reason !== undefined && reason !== record.reason);
  // A new status does not keep the old one's reason.
  const { reason: _old, ...base } = record;
  return {
    ...(status === record.status ? record : base),
    ...changes,
    status,
    updatedAt: at.toISOString(),
    history: changed
      ? [...record.history, { at: at.toISOString(), status, ...(reason ? { reason } : {}) }]
      : record.history,
  };
}
