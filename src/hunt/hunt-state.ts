/**
 * The hunt's records in the state store, typed: checkpoints, hits, the pending index, verdicts, local incidents, the
 * lease of a rule's hunt and its max_signals count.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { DamagedRecord, StateOp, StateStore } from "../store/state-store.js";
import { describedWithRow, entitiesOf } from "./alert-request.js";
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

/**
 * A local incident as stored: with its description, or with the description's head only (`descriptionHead`), when
 * the description is that head and the evidence's result row printed (alert-request.ts `describedWithRow`): the row
 * is then kept once, in the evidence, and printed when the incident is read.
 */
export type StoredLocalIncident = Omit<LocalIncident, "description" | "evidence"> & {
  readonly evidence: StoredEvidence;
} & ({ readonly description: string } | { readonly descriptionHead: string });

/**
 * A hit's evidence as stored: without its entities when they are those of its row (alert-request.ts
 * `entitiesFromRow`), read from the row when the evidence is read.
 */
export type StoredEvidence = Omit<LocalIncident["evidence"], "entities"> & {
  readonly entities?: LocalIncident["evidence"]["entities"];
};

/** The incident as read: its description and its evidence whole. */
function readIncident(stored: StoredLocalIncident): LocalIncident {
  const evidence = readEvidence(stored.evidence);
  if (!("descriptionHead" in stored)) return { ...stored, evidence };
  const { descriptionHead, ...rest } = stored;
  return { ...rest, evidence, description: describedWithRow(descriptionHead, stored.evidence.row) };
}

function readEvidence(stored: StoredEvidence): LocalIncident["evidence"] {
  // (A record without evidence, or without its row, is read as it is: nothing to read the entities from.)
  if (stored?.entities || !isObject(stored?.row)) return stored as LocalIncident["evidence"];
  return { ...stored, entities: entitiesOf(stored.row) };
}

/** A bookmark as stored: its evidence perhaps without its entities (StoredEvidence). */
export type StoredLocalBookmark = Omit<LocalBookmark, "evidence"> & { readonly evidence: StoredEvidence };

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

/** Who runs a rule's hunt on a target now, and until when (renewed while the run goes on). */
export interface Lease {
  readonly owner: string;
  readonly expiresAt: string;
}

/**
 * The hits alerted against a rule's max_signals in the window a run covers, one record per batch that reserved any
 * (partition: rule, target and the checkpoint the window starts from; key: how many were reserved before it).
 * A rerun after a kill, or the next holder of the lease, reads them and counts on from there.
 */
export interface SignalBatch {
  readonly keys: readonly string[];
}

/** The window's max_signals count: which hits are counted against it. */
export interface SignalCount {
  readonly partition: string;
  readonly keys: Set<string>;
  /** The keys of its records (dropped when the window closes). */
  readonly records: string[];
}

/**
 * The statuses a batch gave the hits it recorded `new` (step 4 of the protocol), in one record rather than a write
 * per hit (kind `hitstatus`, partition: the rule id, key: the hits' `settledIn`). A verdict is kept once per sample.
 */
export interface BatchStatuses {
  readonly hits: Readonly<Record<string, HitStatusEntry>>;
  readonly verdicts?: Readonly<Record<string, StoredVerdict>>;
}

/** A hit recorded `new` (its key, rule and `settledIn`), with the status it is settled with now. */
export type SettledStatus = Pick<
  HitRecord,
  "key" | "ruleId" | "settledIn" | "status" | "updatedAt" | "incidentId" | "reason" | "verdict"
>;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A hit's status as its batch settled it; `verdict` names the sample in the record's `verdicts`. */
export interface HitStatusEntry {
  readonly status: HitStatus;
  readonly updatedAt: string;
  readonly incidentId?: string;
  readonly reason?: string;
  readonly verdict?: string;
}

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
  // An incident whose description or entities are read from its evidence's row has that row.
  incident: (v: unknown) =>
    isObject(v) &&
    typeof v.id === "string" &&
    isTime(v.createdAt) &&
    (!readsRow(v) || (isObject(v.evidence) && isObject(v.evidence.row))),
  lease: (v: unknown) => isObject(v) && typeof v.owner === "string" && isTime(v.expiresAt),
  signals: (v: unknown) => isObject(v) && Array.isArray(v.keys) && v.keys.every((k) => typeof k === "string"),
  hitstatus: (v: unknown) =>
    isObject(v) &&
    isObject(v.hits) &&
    Object.values(v.hits).every((h) => isObject(h) && hitStatuses.has(h.status as HitStatus)) &&
    (v.verdicts === undefined || isObject(v.verdicts)),
  rescan: (v: unknown) =>
    isObject(v) && typeof v.ruleset === "string" && Number.isInteger(v.partition) && Number.isInteger(v.pass),
} as const;

const hitStatuses: ReadonlySet<HitStatus> = new Set(["new", "pending", "alerted", "benign", "unverified", "overflow"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Does the stored incident or bookmark leave its description or its entities to be read from its row? */
function readsRow(v: Record<string, unknown>): boolean {
  return v.descriptionHead !== undefined || (isObject(v.evidence) && v.evidence.entities === undefined);
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

  /** The records of `keys` in one partition, read together, in the order of `keys`; damaged ones as in `get`. */
  private async getMany<T>(kind: Kind, partition: string, keys: readonly string[]): Promise<Array<T | undefined>> {
    if (keys.length === 0) return [];
    const values = this.store.getMany
      ? await this.store.getMany<unknown>(kind, partition, keys)
      : await Promise.all(keys.map((key) => this.store.get<unknown>(kind, partition, key)));
    const out: Array<T | undefined> = new Array(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const value = values[i];
      out[i] =
        value === undefined || shapes[kind](value)
          ? (value as T | undefined)
          : await this.checked<T>(kind, partition, keys[i]!, value);
    }
    return out;
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
  /**
   * Moves the checkpoint; with `closing`, first drops the max_signals count of the window it closes (one write, the
   * count before the checkpoint, in the batch's order and on Azure Table, whose `signals` partition comes first). A
   * kill part-way leaves the checkpoint where it was: the window is run again, every hit of it already settled (or
   * pending, whose alert is never counted), so there is nothing to count against what was dropped, and the
   * rerun drops the rest. The other way round, a kill right after the checkpoint left the records for good: their
   * partition is named after the checkpoint the window started from, which no run reads again.
   */
  async putCheckpoint(ruleId: string, target: string, checkpoint: Checkpoint, closing?: SignalCount): Promise<void> {
    await this.write([
      ...(closing?.records ?? []).map((key) => ({
        op: "delete" as const,
        kind: "signals" as const,
        partition: closing!.partition,
        key,
      })),
      { op: "put", kind: "checkpoint", partition: ruleId, key: target, value: checkpoint },
    ]);
  }

  /**
   * The max_signals count of the window that starts from `checkpoint` (the first window: none): the hits alerted
   * against it so far, by every run of that window (a run killed, a rerun).
   */
  async signals(ruleId: string, target: string, checkpoint: Checkpoint | undefined): Promise<SignalCount> {
    const partition = JSON.stringify([ruleId, target, checkpoint?.end ?? null]);
    const keys = new Set<string>();
    const records: string[] = [];
    for (const batch of await this.list<SignalBatch>("signals", partition)) {
      records.push(batch.key);
      for (const k of batch.value.keys) keys.add(k);
    }
    return { partition, keys, records };
  }
  /** Records `keys` as counted against the window (they join `count.keys`); one record, written before alerting. */
  signalsOp(count: SignalCount, keys: readonly string[]): StateOp {
    const op: StateOp = {
      op: "create",
      kind: "signals",
      partition: count.partition,
      key: String(count.keys.size).padStart(12, "0"),
      value: { keys } satisfies SignalBatch,
    };
    for (const k of keys) count.keys.add(k);
    count.records.push(op.key);
    return op;
  }

  /**
   * Takes the lease of a rule's hunt on a target for `ms` from `now`, or renews it for its holder: the lease when
   * `owner` holds it now, else undefined. Free when there is none (never taken, or given up), when it has expired, or
   * when its holder is a process of this host that is gone (a kill). Atomic across processes and hosts: a
   * create-if-absent, else a compare-and-swap of the lease read; either losing to another writer (who took it, or
   * gave it up) reads it again.
   */
  async acquireLease(ruleId: string, target: string, owner: string, now: Date, ms: number): Promise<Lease | undefined> {
    const lease: Lease = { owner, expiresAt: new Date(now.getTime() + ms).toISOString() };
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await this.get<Lease>("lease", ruleId, target);
      if (current === undefined) {
        const [created] = await this.write([
          { op: "create", kind: "lease", partition: ruleId, key: target, value: lease },
        ]);
        if (created) return lease;
        continue; // another process created it just now: read it again
      }
      const free =
        current.owner === owner || Date.parse(current.expiresAt) <= now.getTime() || leaseOwnerGone(current.owner);
      if (!free) return undefined;
      const [swapped] = await this.write([
        { op: "swap", kind: "lease", partition: ruleId, key: target, expected: current, value: lease },
      ]);
      if (swapped) return lease;
      // Changed since it was read: taken by another (read again: held) or given up (read again: none).
    }
    return undefined;
  }
  /**
   * Renews the lease `held` (as acquireLease or an earlier renewal answered it) for `ms` from `now`: the new lease
   * when the record is still `held`, else undefined: taken by another since (after it expired), or given up by that
   * other, which leaves no record. Either way the lease was lost: a compare-and-swap, never a take.
   */
  async renewLease(ruleId: string, target: string, held: Lease, now: Date, ms: number): Promise<Lease | undefined> {
    const lease: Lease = { owner: held.owner, expiresAt: new Date(now.getTime() + ms).toISOString() };
    const [swapped] = await this.write([
      { op: "swap", kind: "lease", partition: ruleId, key: target, expected: held, value: lease },
    ]);
    return swapped ? lease : undefined;
  }
  /** The lease of a rule's hunt on a target, when there is one (expired or not; none once given up). */
  lease(ruleId: string, target: string): Promise<Lease | undefined> {
    return this.get<Lease>("lease", ruleId, target);
  }
  /**
   * Gives up the lease `held` (as acquireLease answered it) by removing its record, if it is still that (a
   * compare-and-delete): a released lease leaves nothing in the state (a sample's is taken once per sample ever
   * settled), and a holder whose lease expired and was taken by another removes nothing of the new holder's.
   */
  async releaseLease(ruleId: string, target: string, held: Lease): Promise<void> {
    await this.write([{ op: "delete", kind: "lease", partition: ruleId, key: target, expected: held }]);
  }

  /**
   * Removes the lease records that are free by what they say (of any rule, target or sample): given up by an
   * earlier version, which left `{ owner: "", expiresAt: <the epoch> }` behind per release (one per sample ever
   * settled), or expired (a holder killed before it gave its lease up; a holder alive but stalled past the expiry
   * takes it afresh, as it would take over the expired one). Each by a compare-and-delete of the record read, so a
   * lease taken or renewed meanwhile stays. Reads the `lease` records only (Azure Table: one query of their
   * partition keys' range), removes at most `limit`; answers how many were found free.
   */
  async removeFreeLeases(now: Date, limit: number): Promise<number> {
    const free = (await this.list<Lease>("lease")).filter(
      ({ value }) => value.owner === "" || Date.parse(value.expiresAt) <= now.getTime(),
    );
    if (free.length > 0)
      await this.write(
        free.slice(0, limit).map(({ partition, key, value }) => ({
          op: "delete" as const,
          kind: "lease" as const,
          partition,
          key,
          expected: value,
        })),
      );
    return free.length;
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
  createIncidentOp(incident: StoredLocalIncident): StateOp {
    return { op: "create", kind: "incident", partition: LOCAL, key: incident.id, value: incident };
  }

  async hit(ruleId: string, key: string): Promise<HitRecord | undefined> {
    const [hit] = await this.withStatuses(ruleId, [await this.get<HitRecord>("hit", ruleId, key)]);
    return hit;
  }
  /** The hits of a rule with these keys, read together (undefined where there is none), in the order of `keys`. */
  async hitsOf(ruleId: string, keys: readonly string[]): Promise<Array<HitRecord | undefined>> {
    return this.withStatuses(ruleId, await this.getMany<HitRecord>("hit", ruleId, keys));
  }

  /** Hits recorded `new` with the status their batch gave them, when it did (their batch records read together). */
  private async withStatuses(
    ruleId: string,
    hits: Array<HitRecord | undefined>,
  ): Promise<Array<HitRecord | undefined>> {
    const batches = new Set<string>();
    for (const hit of hits) if (hit?.status === "new" && hit.settledIn !== undefined) batches.add(hit.settledIn);
    if (batches.size === 0) return hits;
    const ids = [...batches];
    const records = await this.getMany<BatchStatuses>("hitstatus", ruleId, ids);
    const byId = new Map<string, BatchStatuses | undefined>();
    ids.forEach((id, i) => {
      byId.set(id, records[i]);
    });
    return hits.map((hit) => (hit?.settledIn === undefined ? hit : settledBy(hit, byId.get(hit.settledIn))));
  }

  /**
   * The writes that give `settled` (hits recorded `new` with a `settledIn`, and their status now) their statuses:
   * one `hitstatus` record per batch named. A batch this run recorded (`fresh`) has no record yet; another one
   * (a rerun after a kill) may, and its statuses are kept beside the new ones.
   */
  async statusOps(settled: readonly SettledStatus[], fresh: (settledIn: string) => boolean): Promise<StateOp[]> {
    const groups = new Map<string, { ruleId: string; id: string; hits: SettledStatus[] }>();
    /** The group of the hit before (a batch's hits are mostly in one record). */
    let last: { ruleId: string; id: string; hits: SettledStatus[] } | undefined;
    for (let i = 0; i < settled.length; i++) {
      const hit = settled[i]!;
      if (hit.settledIn === undefined) throw new Error(`hit ${hit.key} has no batch status record`);
      if (last?.ruleId === hit.ruleId && last.id === hit.settledIn) {
        last.hits.push(hit);
        continue;
      }
      const name = `${hit.ruleId}\u0000${hit.settledIn}`;
      last = groups.get(name);
      if (last) last.hits.push(hit);
      else {
        last = { ruleId: hit.ruleId, id: hit.settledIn, hits: [hit] };
        groups.set(name, last);
      }
    }
    const ops: StateOp[] = [];
    for (const { ruleId, id, hits } of groups.values()) {
      const before = fresh(id) ? undefined : await this.get<BatchStatuses>("hitstatus", ruleId, id);
      const entries: Record<string, HitStatusEntry> = { ...before?.hits };
      const verdicts: Record<string, StoredVerdict> = { ...before?.verdicts };
      for (let i = 0; i < hits.length; i++) {
        const { key, status, updatedAt, incidentId, reason, verdict } = hits[i]!;
        if (verdict) verdicts[verdict.sha256] = verdict;
        const entry: Mutable<HitStatusEntry> = { status, updatedAt };
        if (incidentId !== undefined) entry.incidentId = incidentId;
        if (reason !== undefined) entry.reason = reason;
        if (verdict) entry.verdict = verdict.sha256;
        entries[key] = entry;
      }
      const value: BatchStatuses = { hits: entries, ...(Object.keys(verdicts).length > 0 ? { verdicts } : {}) };
      ops.push({ op: "put", kind: "hitstatus", partition: ruleId, key: id, value });
    }
    return ops;
  }
  async createHit(hit: HitRecord): Promise<boolean> {
    return (await this.write([this.createHitOp(hit)]))[0] === true;
  }
  async putHit(hit: HitRecord): Promise<void> {
    await this.write([this.putHitOp(hit)]);
  }
  async hits(ruleId?: string): Promise<HitRecord[]> {
    const hits = (await this.list<HitRecord>("hit", ruleId)).map((r) => r.value);
    if (!hits.some((hit) => hit.status === "new" && hit.settledIn !== undefined)) return hits;
    const batches = new Map<string, BatchStatuses>();
    for (const r of await this.list<BatchStatuses>("hitstatus", ruleId))
      batches.set(`${r.partition}\u0000${r.key}`, r.value);
    return hits.map((hit) =>
      hit.settledIn === undefined ? hit : settledBy(hit, batches.get(`${hit.ruleId}\u0000${hit.settledIn}`)),
    );
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
  /** The verdicts of many samples, read together (one read per partition of the verdicts, not one per sample). */
  async verdicts(sha256s: Iterable<string>): Promise<Map<string, StoredVerdict | undefined>> {
    const byPartition = new Map<string, string[]>();
    for (const sha256 of new Set(sha256s)) {
      const partition = sha256.slice(0, 2);
      const keys = byPartition.get(partition);
      if (keys) keys.push(sha256);
      else byPartition.set(partition, [sha256]);
    }
    const found = new Map<string, StoredVerdict | undefined>();
    await Promise.all(
      [...byPartition].map(async ([partition, keys]) => {
        const values = await this.getMany<StoredVerdict>("verdict", partition, keys);
        keys.forEach((key, i) => {
          found.set(key, values[i]);
        });
      }),
    );
    return found;
  }
  putVerdict(verdict: StoredVerdict): Promise<void> {
    return this.store.put("verdict", verdict.sha256.slice(0, 2), verdict.sha256, verdict);
  }
  /** The verdicts of one partition (the first two hex digits of the SHA-256), in SHA-256 order. */
  async verdictsIn(partition: string): Promise<StoredVerdict[]> {
    return (await this.list<StoredVerdict>("verdict", partition)).map((r) => r.value);
  }

  /** How far the rescan of the stored samples has come (src/hunt/rescan.ts); one record. */
  rescanProgress<T extends object>(): Promise<T | undefined> {
    return this.get<T>("rescan", "samples", "progress");
  }
  async putRescanProgress(progress: object): Promise<void> {
    await this.write([{ op: "put", kind: "rescan", partition: "samples", key: "progress", value: progress }]);
  }

  async createIncident(incident: LocalIncident): Promise<boolean> {
    return (await this.write([this.createIncidentOp(incident)]))[0] === true;
  }
  /** Creates the incidents that do not exist yet, in one write; for each, true when this call created it. */
  createIncidents(incidents: readonly LocalIncident[]): Promise<boolean[]> {
    return this.write(incidents.map((incident) => this.createIncidentOp(incident)));
  }
  /** Bookmarks are `incident` records in the partition of their incident (the incidents are in `local`). */
  createBookmarkOp(incidentId: string, bookmark: StoredLocalBookmark): StateOp {
    return { op: "create", kind: "incident", partition: incidentId, key: bookmark.id, value: bookmark };
  }
  async createBookmark(incidentId: string, bookmark: LocalBookmark): Promise<boolean> {
    return (await this.write([this.createBookmarkOp(incidentId, bookmark)]))[0] === true;
  }
  async bookmarks(incidentId: string): Promise<LocalBookmark[]> {
    return (await this.store.list<StoredLocalBookmark>("incident", incidentId))
      .map((r) => ({ ...r.value, evidence: readEvidence(r.value.evidence) }))
      .sort((a, b) => a.eventTime.localeCompare(b.eventTime) || a.id.localeCompare(b.id));
  }
  async incident(id: string): Promise<LocalIncident | undefined> {
    const stored = await this.get<StoredLocalIncident>("incident", LOCAL, id);
    return stored && readIncident(stored);
  }
  async incidents(): Promise<LocalIncident[]> {
    return (await this.list<StoredLocalIncident>("incident", LOCAL))
      .map((r) => readIncident(r.value))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }
}

/** A hit recorded `new` as its batch's status record has it: settled (without `settledIn`), or as it was. */
function settledBy(hit: HitRecord, batch: BatchStatuses | undefined): HitRecord {
  const entry = hit.status === "new" ? batch?.hits[hit.key] : undefined;
  if (!entry) return hit;
  const { settledIn: _, ...rest } = hit;
  const verdict = entry.verdict === undefined ? undefined : batch?.verdicts?.[entry.verdict];
  return {
    ...rest,
    status: entry.status,
    updatedAt: entry.updatedAt,
    ...(entry.incidentId !== undefined ? { incidentId: entry.incidentId } : {}),
    ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
    ...(verdict ? { verdict } : {}),
  };
}

/**
 * A hold on one lease record (`partition`/`key`, taken through HuntState.acquireLease) for `ms`, renewed when half of
 * it is gone: a rule's hunt on a target (run.ts), the rescan (rescan.ts), a sample's settling (run.ts, SAMPLE_LEASE:
 * two deliveries of its arrival at once settle its hits one after the other). `lost` says what a holder that lost it
 * leaves undone.
 */
export class HeldLease {
  private readonly owner = leaseOwner(randomUUID());
  private held: Lease | undefined;
  /** Takes and releases one at a time (a renewal by `during`'s timer and one before a write would swap each other's). */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly releasedHooks: Array<() => void> = [];
  constructor(
    private readonly state: HuntState,
    private readonly partition: string,
    private readonly key: string,
    private readonly clock: () => Date,
    private readonly ms: number,
    private readonly lost: string,
  ) {}
  take(): Promise<boolean> {
    return this.serial(async () => {
      const held = await this.state.acquireLease(this.partition, this.key, this.owner, this.clock(), this.ms);
      if (held) this.held = held;
      return held !== undefined;
    });
  }
  /**
   * Before a write that only the holder may make: renews the lease if half of it is gone; throws `lost` when lost. A
   * lease held is renewed only while its record is still the one held (HuntState.renewLease): one that expired and
   * was taken by another, even one that other has given up since, is lost, not taken again.
   */
  async hold(): Promise<void> {
    if (this.held && Date.parse(this.held.expiresAt) - this.clock().getTime() > this.ms / 2) return;
    if (!(await (this.held ? this.renew() : this.take()))) throw new Error(this.lost);
  }
  private renew(): Promise<boolean> {
    return this.serial(async () => {
      if (!this.held) return false;
      const renewed = await this.state.renewLease(this.partition, this.key, this.held, this.clock(), this.ms);
      if (renewed) this.held = renewed;
      return renewed !== undefined;
    });
  }
  /**
   * Runs `work` (a scan, which writes nothing until it ends) holding the lease, renewed as `hold` renews it every
   * quarter of its time meanwhile: however long the work takes, the lease is not let lapse while this process lives.
   */
  async during<T>(work: () => Promise<T>): Promise<T> {
    const timer = setInterval(() => void this.hold().catch(() => undefined), Math.max(1, this.ms / 4));
    timer.unref();
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }
  release(): Promise<void> {
    return this.serial(async () => {
      if (this.held) await this.state.releaseLease(this.partition, this.key, this.held).catch(() => undefined);
      this.held = undefined;
      for (const released of this.releasedHooks.splice(0)) released();
    });
  }
  /** Calls `released` once the lease is given up (by `release`). */
  onRelease(released: () => void): void {
    this.releasedHooks.push(released);
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** A lease holder's name: this host, this process, and a nonce for the run (two runs of one process differ). */
export function leaseOwner(nonce: string): string {
  return `${hostname()}/${process.pid}/${nonce}`;
}

/** Is the lease's holder a process of this host that no longer exists (killed)? Other hosts: not known, so no. */
function leaseOwnerGone(owner: string): boolean {
  const [host, pidText] = owner.split("/");
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}
