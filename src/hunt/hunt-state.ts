/** The hunt's records in the state store, typed: checkpoints, hits, the pending index, verdicts, local incidents. */
import type { StateStore } from "../store/state-store.js";
import type { Checkpoint, HitRecord, StoredVerdict } from "./types.js";

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

export class HuntState {
  constructor(readonly store: StateStore) {}

  checkpoint(ruleId: string, target: string): Promise<Checkpoint | undefined> {
    return this.store.get<Checkpoint>("checkpoint", ruleId, target);
  }
  putCheckpoint(ruleId: string, target: string, checkpoint: Checkpoint): Promise<void> {
    return this.store.put("checkpoint", ruleId, target, checkpoint);
  }

  hit(ruleId: string, key: string): Promise<HitRecord | undefined> {
    return this.store.get<HitRecord>("hit", ruleId, key);
  }
  createHit(hit: HitRecord): Promise<boolean> {
    return this.store.create("hit", hit.ruleId, hit.key, hit);
  }
  putHit(hit: HitRecord): Promise<void> {
    return this.store.put("hit", hit.ruleId, hit.key, hit);
  }
  async hits(ruleId?: string): Promise<HitRecord[]> {
    return (await this.store.list<HitRecord>("hit", ruleId)).map((r) => r.value);
  }

  putPending(sha256: string, key: string, entry: PendingEntry): Promise<void> {
    return this.store.put("pending", sha256, key, entry);
  }
  deletePending(sha256: string, key: string): Promise<void> {
    return this.store.delete("pending", sha256, key);
  }
  async pending(sha256?: string): Promise<Array<{ sha256: string; key: string; entry: PendingEntry }>> {
    return (await this.store.list<PendingEntry>("pending", sha256)).map((r) => ({
      sha256: r.partition,
      key: r.key,
      entry: r.value,
    }));
  }

  verdict(sha256: string): Promise<StoredVerdict | undefined> {
    return this.store.get<StoredVerdict>("verdict", sha256.slice(0, 2), sha256);
  }
  putVerdict(verdict: StoredVerdict): Promise<void> {
    return this.store.put("verdict", verdict.sha256.slice(0, 2), verdict.sha256, verdict);
  }

  createIncident(incident: LocalIncident): Promise<boolean> {
    return this.store.create("incident", LOCAL, incident.id, incident);
  }
  /** Bookmarks are `incident` records in the partition of their incident (the incidents are in `local`). */
  createBookmark(incidentId: string, bookmark: LocalBookmark): Promise<boolean> {
    return this.store.create("incident", incidentId, bookmark.id, bookmark);
  }
  async bookmarks(incidentId: string): Promise<LocalBookmark[]> {
    return (await this.store.list<LocalBookmark>("incident", incidentId))
      .map((r) => r.value)
      .sort((a, b) => a.eventTime.localeCompare(b.eventTime) || a.id.localeCompare(b.id));
  }
  incident(id: string): Promise<LocalIncident | undefined> {
    return this.store.get<LocalIncident>("incident", LOCAL, id);
  }
  async incidents(): Promise<LocalIncident[]> {
    return (await this.store.list<LocalIncident>("incident", LOCAL))
      .map((r) => r.value)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }
}
