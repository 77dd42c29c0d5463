/** The hunt's records in the state store, typed: checkpoints, hits, the pending index, verdicts, local incidents. */
import type { DamagedRecord, StateOp, StateStore } from "../store/state-store.js";
import type { Checkpoint, HitRecord, HitStatus, StoredVerdict } from "./types.js";

/** The pending index: hits waiting for a sample, partitioned by the sample's SHA-256. */
export interface PendingEntry {
  readonly ruleId: string;
  readonly target: string;
  readonly since: string;
}

/** An incident written to local state by the embedded default (no Sentinel configured). */
export interface LocalIncident {
  readonly id: string;
  readonly bookmarkId: string;
  readonly hitKey: string;
  readonly title: string;
  readonly description: string;
  readonly severity: string;
  readonly status: "New";
  readonly labels: readonly string[];
  readonly createdAt: string;
  readonly firstActivityTime: string;
  readonly tactics: readonly string[];
  readonly techniques: readonly string[];
  readonly evidence: {
    readonly query: string;
    readonly queryStart: string;
    readonly queryEnd: string;
    readonly row: Readonly<Record<string, unknown>>;
    readonly entities: ReadonlyArray<{
      readonly entityType: string;
      readonly fieldMappings: ReadonlyArray<{ readonly identifier: string; readonly value: string }>;
    }>;
  };
}

/** A hit's evidence on a local incident (the local counterpart of a Sentinel bookmark): one per hit of the group. */
export interface LocalBookmark {
  readonly id: string;
  readonly hitKey: string;
  readonly title: string;
  readonly eventTime: string;
  readonly labels: readonly string[];
  readonly evidence: LocalIncident["evidence"];
}

const LOCAL = "local";

/** Does a stored value have the shape of its kind? (A record that does not is skipped, reported, quarantined.) */
const shapes = {
  checkpoint: (v: unknown) => isObject(v) && isTime(v.end),
  hit: (v: unknown) =>
    isObject(v) &&
    typeof v.key === "string" &&
    typeof v.ruleId === "string" &&
    typeof v.target === "string" &&
    typeof v.status === "string" &&
    hitStatuses.has(v.status as HitStatus) &&
    isTime(v.firstSeen) &&
    isObject(v.window) &&
    isObject(v.row),
  pending: (v: unknown) => isObject(v) && typeof v.ruleId === "string" && typeof v.target === "string",
  verdict: (v: unknown) =>
    isObject(v) && typeof v.sha256 === "string" && Array.isArray(v.matches) && typeof v.scannedAt === "string",
  incident: (v: unknown) => isObject(v) && typeof v.id === "string" && isTime(v.createdAt),
} as const;

const hitStatuses: ReadonlySet<HitStatus> = new Set(["new", "pending", "alerted", "benign", "unverified", "overflow"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isTime(v: unknown): boolean {
  return typeof v === "string" && Number.isFinite(Date.parse(v));
}

type Kind = keyof typeof shapes;

export class HuntState {
  private readonly shapeDamage: DamagedRecord[] = [];

  constructor(readonly store: StateStore) {}

  /** The record when it has its kind's shape; else undefined, reported and set aside (quarantine). */
  private async checked<T>(kind: Kind, partition: string, key: string, value: unknown): Promise<T | undefined> {
    if (value === undefined || shapes[kind](value)) return value as T | undefined;
    const where = `${kind}/${partition}/${key}`;
    if (!this.shapeDamage.some((d) => d.where === where))
      this.shapeDamage.push({ kind, partition, key, where, error: `not a valid ${kind} record` });
    await this.store
      .batch([
        { op: "put", kind: "quarantine", partition: kind, key: `${partition}/${key}`, value },
        { op: "delete", kind, partition, key },
      ])
      .catch(() => undefined);
    return undefined;
  }

  private async get<T>(kind: Kind, partition: string, key: string): Promise<T | undefined> {
    return this.checked<T>(kind, partition, key, await this.store.get<unknown>(kind, partition, key));
  }

  private async list<T>(kind: Kind, partition?: string): Promise<Array<{ partition: string; key: string; value: T }>> {
    const out: Array<{ partition: string; key: string; value: T }> = [];
    for (const r of await this.store.list<unknown>(kind, partition)) {
      const value = await this.checked<T>(kind, r.partition, r.key, r.value);
      if (value !== undefined) out.push({ partition: r.partition, key: r.key, value });
    }
    return out;
  }

  checkpoint(ruleId: string, target: string): Promise<Checkpoint | undefined> {
    return this.get<Checkpoint>("checkpoint", ruleId, target);
  }
  putCheckpoint(ruleId: string, target: string, checkpoint: Checkpoint): Promise<void> {
    return this.store.put("checkpoint", ruleId, target, checkpoint);
  }

  /** Carries out writes built by the `…Op` methods below as one durable write (see StateStore.batch). */
  write(ops: readonly StateOp[]): Promise<boolean[]> {
    return this.store.batch(ops);
  }
  /** Releases the store's files (local journal); nothing is used afterwards. */
  async close(): Promise<void> {
    await this.store.close?.();
  }
  /** Records the store found damaged and skipped. */
  damaged(): readonly DamagedRecord[] {
    return [...this.store.damaged(), ...this.shapeDamage];
  }

  createHitOp(hit: HitRecord): StateOp {
    return { op: "create", kind: "hit", partition: hit.ruleId, key: hit.key, value: hit };
  }
  putHitOp(hit: HitRecord): StateOp {
    return { op: "put", kind: "hit", partition: hit.ruleId, key: hit.key, value: hit };
  }
  putPendingOp(sha256: string, key: string, entry: PendingEntry): StateOp {
    return { op: "put", kind: "pending", partition: sha256, key, value: entry };
  }
  deletePendingOp(sha256: string, key: string): StateOp {
    return { op: "delete", kind: "pending", partition: sha256, key };
  }
  createIncidentOp(incident: LocalIncident): StateOp {
    return { op: "create", kind: "incident", partition: LOCAL, key: incident.id, value: incident };
  }

  hit(ruleId: string, key: string): Promise<HitRecord | undefined> {
    return this.get<HitRecord>("hit", ruleId, key);
  }
  async createHit(hit: HitRecord): Promise<boolean> {
    return (await this.write([this.createHitOp(hit)]))[0] === true;
  }
  async putHit(hit: HitRecord): Promise<void> {
    await this.write([this.putHitOp(hit)]);
  }
  async hits(ruleId?: string): Promise<HitRecord[]> {
    return (await this.list<HitRecord>("hit", ruleId)).map((r) => r.value);
  }

  async putPending(sha256: string, key: string, entry: PendingEntry): Promise<void> {
    await this.write([this.putPendingOp(sha256, key, entry)]);
  }
  async deletePending(sha256: string, key: string): Promise<void> {
    await this.write([this.deletePendingOp(sha256, key)]);
  }
  async pending(sha256?: string): Promise<Array<{ sha256: string; key: string; entry: PendingEntry }>> {
    return (await this.list<PendingEntry>("pending", sha256)).map((r) => ({
      sha256: r.partition,
      key: r.key,
      entry: r.value,
    }));
  }

  verdict(sha256: string): Promise<StoredVerdict | undefined> {
    return this.get<StoredVerdict>("verdict", sha256.slice(0, 2), sha256);
  }
  putVerdict(verdict: StoredVerdict): Promise<void> {
    return this.store.put("verdict", verdict.sha256.slice(0, 2), verdict.sha256, verdict);
  }

  async createIncident(incident: LocalIncident): Promise<boolean> {
    return (await this.write([this.createIncidentOp(incident)]))[0] === true;
  }
  /** Creates the incidents that do not exist yet, in one write; for each, true when this call created it. */
  createIncidents(incidents: readonly LocalIncident[]): Promise<boolean[]> {
    return this.write(incidents.map((incident) => this.createIncidentOp(incident)));
  }
  /** Bookmarks are `incident` records in the partition of their incident (the incidents are in `local`). */
  createBookmarkOp(incidentId: string, bookmark: LocalBookmark): StateOp {
    return { op: "create", kind: "incident", partition: incidentId, key: bookmark.id, value: bookmark };
  }
  async createBookmark(incidentId: string, bookmark: LocalBookmark): Promise<boolean> {
    return (await this.write([this.createBookmarkOp(incidentId, bookmark)]))[0] === true;
  }
  async bookmarks(incidentId: string): Promise<LocalBookmark[]> {
    return (await this.store.list<LocalBookmark>("incident", incidentId))
      .map((r) => r.value)
      .sort((a, b) => a.eventTime.localeCompare(b.eventTime) || a.id.localeCompare(b.id));
  }
  incident(id: string): Promise<LocalIncident | undefined> {
    return this.get<LocalIncident>("incident", LOCAL, id);
  }
  async incidents(): Promise<LocalIncident[]> {
    return (await this.list<LocalIncident>("incident", LOCAL))
      .map((r) => r.value)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }
}
