/**
 * Runs hunts: one rule's query on one target over its window, each row turned into a hit, each hit gated and
 * alerted at most once. The window's rows are settled in batches (`batchSize`, default 1000); the write order is the
 * crash-safety protocol (docs/service.md), and it holds per batch:
 *
 *   1. the window's rows are fetched; a failed query ends the run without touching the checkpoint;
 *   2. every hit of the batch is decided with the verdicts known now, then recorded, all in one write
 *      (create-if-absent): a hit whose decision has no effect outside the state (benign, unverified, pending) is
 *      recorded settled at once; a hit to alert is recorded `new`; a pending hit's sample index entries are written
 *      before it (one write). A hit found recorded already is left alone when settled (a duplicate), else decided
 *      again from its own record;
 *   3. the batch's alerts are raised (few at a time, or in one call when the writer takes batches) under ids derived
 *      from the hit keys, so raising one again finds it and leaves it alone;
 *   4. the statuses of the hits alerted (or over max_signals) are written, in one write;
 *   5. only when every batch is settled is the checkpoint moved to the window's end (the window's max_signals
 *      count dropped in the same write, before it).
 *
 * max_signals is counted per rule, target and window in the state, not per process: before a batch's alerts are raised,
 * their hits are recorded as counted against the window (in the write that indexes pending hits), so a rerun of the
 * window after a kill counts on from there, and a hit counted before is alerted again without counting twice. Only the
 * alerts a run decides as it records their hits count: a pending hit alerted when its sample's verdict comes is not
 * counted, whoever settles it (the pending sweep, a sample's arrival, or a later run whose window returns its row
 * again): a late verdict is not a run. Runs of one rule on one target are exclusive: a run holds the rule's lease in
 * the state store (taken before the checkpoint is read, renewed while it runs, given up at the end; a holder killed on
 * this host, or a lease expired, frees it), and a run that finds the lease held reports `busy` and does nothing.
 *
 * A process killed anywhere in between leaves the checkpoint behind, so the next run covers the window again; it
 * finds the hits recorded, skips those already settled and finishes the rest (raising an alert again finds it).
 * Nothing is skipped, nothing alerted twice.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { AlertWriter, RaisedAlert } from "../sentinel/incidents.js";
import type { QueryRunner } from "../sentinel/logs-query.js";
import type { DamagedRecord, StateOp } from "../store/state-store.js";
import { huntColumnsOf } from "../targets/index.js";
import { alertRequestOf, type HuntAlertRequest } from "./alert-request.js";
import { decide, type GateDecision } from "./gate.js";
import { eventTimeTextOf, hitKey, type Row, sampleHashOf } from "./hit-key.js";
import { HeldLease, type HuntState, type SettledStatus, type SignalCount } from "./hunt-state.js";
import { noteLateVerdict } from "./late-verdict.js";
import { raiseAlerts } from "./raise-alerts.js";
import { namedHashesOf, pendingPartitionOf, sampleLocatorOf } from "./sample-locator.js";
import type { HitRecord, HitStatus, HuntPlan, StoredVerdict, StoredWindow } from "./types.js";
import { settledStatuses } from "./types.js";
import { isDue, planWindow } from "./window.js";

export interface HuntLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export const silentLogger: HuntLogger = { info() {}, warn() {}, error() {} };

export interface HuntDeps {
  readonly state: HuntState;
  readonly queries: QueryRunner;
  readonly alerts: AlertWriter;
  readonly clock: () => Date;
  /** How far back a run may reach to cover missed windows (default 24 h). */
  readonly maxCatchUpMs?: number;
  readonly logger?: HuntLogger;
  /** Rows settled per batch (default BATCH_SIZE). */
  readonly batchSize?: number;
  /** Alerts in flight at once when the writer raises one at a time (default ALERT_CONCURRENCY). */
  readonly alertConcurrency?: number;
  /** How long a run's lease lasts before it is renewed (default LEASE_MS). */
  readonly leaseMs?: number;
}

/**
 * What `runHunts` tells its caller as it goes (a progress display), each optional: never per row, at most per batch
 * of rows settled (`batchSize`), so a run goes as fast with it as without.
 */
export interface HuntRunProgress {
  /** Before the first run: how many runs this call makes (one per plan, each over its window). */
  runs?(total: number): void;
  /** A run's query returned `rows` rows to settle. */
  found?(rows: number): void;
  /** A batch of `rows` rows settled. */
  settled?(rows: number): void;
  /** A run ended (completed, failed, not due or busy). */
  ran?(run: RunReport): void;
}

/** A run's lease on its rule and target lasts this long, renewed when half of it is left. */
export const LEASE_MS = 2 * 60_000;

export interface HitCounts {
  /** Rows returned by the query. */
  rows: number;
  /** Hits seen for the first time. */
  new: number;
  /** Hits already settled by an earlier (overlapping) window: not acted on again. */
  duplicate: number;
  /**
   * Hits alerted by this run. The run's `incidents` lists the incidents it created; an incident found to exist
   * already (written just before a crash) is counted here but not listed there.
   */
  alerted: number;
  pending: number;
  benign: number;
  unverified: number;
  /** Hits over max_signals (counted per rule, target and window): recorded, not alerted. */
  overflow: number;
}

export interface RunReport {
  readonly ruleId: string;
  readonly target: string;
  /**
   * `busy`: another run of the rule on the target holds its lease; this one did nothing. `deferred`: not started, the
   * call's deadline having passed (runHunts); left to the next tick, its checkpoint as it was.
   */
  readonly status: "completed" | "failed" | "not-due" | "busy" | "deferred";
  readonly window?: StoredWindow;
  /** A range older than the catch-up limit that this run does not cover (reported, never silent). */
  readonly gap?: StoredWindow;
  readonly counts: HitCounts;
  readonly incidents: readonly string[];
  readonly error?: string;
  readonly attempts?: number;
}

export const emptyCounts = (): HitCounts => ({
  rows: 0,
  new: 0,
  duplicate: 0,
  alerted: 0,
  pending: 0,
  benign: 0,
  unverified: 0,
  overflow: 0,
});

const DAY = 24 * 60 * 60 * 1000;

/** Runs one plan if it is due (or when forced). */
export function runPlan(plan: HuntPlan, deps: HuntDeps, options: { force?: boolean } = {}): Promise<RunReport> {
  return runPlanWith(plan, deps, options, new VerdictCache(deps.state));
}

/** runPlan with the verdicts known so far (one scheduler tick looks each sample up once, for all its plans). */
async function runPlanWith(
  plan: HuntPlan,
  deps: HuntDeps,
  options: { force?: boolean },
  verdicts: VerdictCache,
  progress?: HuntRunProgress,
): Promise<RunReport> {
  const { rule, target } = plan;
  const lease = new HeldLease(
    deps.state,
    rule.id,
    target,
    deps.clock,
    leaseMsOf(deps),
    `the hunt lost its lease on ${rule.id}/${target}; the window is left to the next run`,
  );
  if (!(await lease.take())) {
    const holder = await deps.state.lease(rule.id, target);
    return {
      ruleId: rule.id,
      target,
      status: "busy",
      counts: emptyCounts(),
      incidents: [],
      error: `another hunt of this rule on ${target} holds its lease (${holder?.owner ?? "unknown"}, until ${holder?.expiresAt ?? "unknown"})`,
    };
  }
  try {
    return await runLeased(plan, deps, options, lease, verdicts, progress);
  } finally {
    await lease.release();
  }
}

/** Runs one plan holding its lease. */
async function runLeased(
  plan: HuntPlan,
  deps: HuntDeps,
  options: { force?: boolean },
  lease: HeldLease,
  verdicts: VerdictCache,
  progress: HuntRunProgress | undefined,
): Promise<RunReport> {
  const { rule, target } = plan;
  const logger = deps.logger ?? silentLogger;
  const now = deps.clock();
  const checkpoint = await deps.state.checkpoint(rule.id, target);
  if (!options.force && !isDue(rule, checkpoint, now)) {
    return { ruleId: rule.id, target, status: "not-due", counts: emptyCounts(), incidents: [] };
  }
  const planned = planWindow(rule, checkpoint, now, deps.maxCatchUpMs ?? DAY);
  const window = { start: planned.window.start.toISOString(), end: planned.window.end.toISOString() };
  const gap = planned.gap ? { start: planned.gap.start.toISOString(), end: planned.gap.end.toISOString() } : undefined;
  if (gap)
    logger.warn(
      { ruleId: rule.id, target, gap },
      "hunt window clamped: a range older than the catch-up limit is not covered",
    );

  const outcome = await deps.queries.run(plan.query, planned.window);
  if (!outcome.ok) {
    logger.error(
      { ruleId: rule.id, target, window, error: outcome.error, attempts: outcome.attempts.length },
      "hunt query failed; the window is left to the next run",
    );
    return {
      ruleId: rule.id,
      target,
      status: "failed",
      window,
      ...(gap ? { gap } : {}),
      counts: emptyCounts(),
      incidents: [],
      error: outcome.error,
      attempts: outcome.attempts.length,
    };
  }

  const counts = emptyCounts();
  counts.rows = outcome.rows.length;
  const incidents: string[] = [];
  const budget: Budget = {
    cap: rule.maxSignals,
    count: await deps.state.signals(rule.id, target, checkpoint),
    hold: () => lease.hold(),
  };
  const size = Math.max(1, deps.batchSize ?? BATCH_SIZE);
  progress?.found?.(outcome.rows.length);
  for (let from = 0; from < outcome.rows.length; from += size) {
    const rows = outcome.rows.slice(from, from + size);
    await settleRows(plan, rows, window, deps, budget, verdicts, { counts, incidents });
    progress?.settled?.(rows.length);
  }
  await lease.hold();
  await deps.state.putCheckpoint(
    rule.id,
    target,
    { end: window.end, completedAt: deps.clock().toISOString() },
    budget.count,
  );
  logger.info({ ruleId: rule.id, target, window, counts }, "hunt run completed");
  return {
    ruleId: rule.id,
    target,
    status: "completed",
    window,
    ...(gap ? { gap } : {}),
    counts,
    incidents,
    attempts: outcome.attempts.length,
  };
}

/**
 * Rows settled per batch by default: one durable state write records the batch's hits, one its statuses, whatever
 * their number (Azure Table: a transaction per 100 hits). The batch's records are held until written (the local
 * journal writes them out in 1 MiB pieces), so this bounds what a run holds beside its query result.
 */
export const BATCH_SIZE = 5000;

/** What a run's batches add up to: its counts, and the incidents it created. */
interface Tally {
  readonly counts: HitCounts;
  readonly incidents: string[];
}

/** Counts a hit this run acted on (`fresh`: seen for the first time) as it was settled. */
function tally(into: Tally, fresh: boolean, settled: Settlement): void {
  if (fresh) into.counts.new++;
  into.counts[settled.status === "new" ? "pending" : settled.status]++;
  if (settled.incidentId && settled.created) into.incidents.push(settled.incidentId);
}

/** A window's max_signals: the cap, the hits counted against it so far (in the state), and the lease to hold. */
interface Budget {
  readonly cap: number;
  readonly count: SignalCount;
  readonly hold: () => Promise<void>;
}

/**
 * Verdicts looked up once per run (a scheduler tick's runs share them), many at a time (a run settles many hits of
 * few samples): `load` reads those not known yet in one go, `of` answers from what was loaded. A verdict stored
 * while the tick runs may be missed by it: its hits wait (pending), and the tick's pending sweep, which reads
 * afresh, settles them.
 */
class VerdictCache {
  private readonly known = new Map<string, StoredVerdict | undefined>();
  constructor(private readonly state: HuntState) {}
  async load(sha256s: Iterable<string>): Promise<void> {
    const missing = new Set<string>();
    for (const sha256 of sha256s) if (!this.known.has(sha256)) missing.add(sha256);
    if (missing.size === 0) return;
    for (const [sha256, verdict] of await this.state.verdicts(missing)) this.known.set(sha256, verdict);
  }
  of(sha256: string): StoredVerdict | undefined {
    return this.known.get(sha256);
  }
}

/** Steps 2 to 4 of the protocol for one batch of rows; what was done is added to `into`. */
async function settleRows(
  plan: HuntPlan,
  rows: readonly Row[],
  window: StoredWindow,
  deps: HuntDeps,
  budget: Budget,
  verdicts: VerdictCache,
  into: Tally,
): Promise<void> {
  const { rule, target } = plan;
  const { state } = deps;
  const now = deps.clock();
  const columns = huntColumnsOf(target);
  const at = now.toISOString();
  const keyOptions = plan.identityColumns ? { identityColumns: plan.identityColumns } : {};
  const hashColumns = plan.sampleHashColumns ?? columns.sampleHash;
  // The batch's hits, one per event: each row's key and sample (the same event twice in one result: the first row
  // settles it, the others count as duplicates).
  const seen = new Set<string>();
  const keys: string[] = [];
  const hitRows: Row[] = [];
  const samples: Array<string | undefined> = [];
  const batchSamples = new Set<string>();
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    const key = hitKey(rule.id, target, row, keyOptions);
    if (seen.has(key)) {
      into.counts.duplicate++;
      continue;
    }
    seen.add(key);
    const sha256 = sampleHashOf(row, hashColumns);
    if (sha256) batchSamples.add(sha256);
    keys.push(key);
    hitRows.push(row);
    samples.push(sha256);
  }
  // The batch's samples' verdicts, looked up together; then every hit decided without waiting.
  const gated = rule.gate.mode !== "none";
  if (gated) await verdicts.load(batchSamples);
  const statusRecords = new StatusRecords();
  /**
   * A fresh hit's decision depends on its sample's verdict, on whether it names a sample (or a location) and on
   * its wait so far, which is none (first seen now): so it is made once per verdict, sample or lack of one.
   */
  const decisions = new Map<unknown, GateDecision>();
  const hits: HitRecord[] = new Array(keys.length);
  const decided: GateDecision[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const row = hitRows[i]!;
    const sha256 = samples[i];
    const locator = sha256 ? undefined : sampleLocatorOf(row, plan);
    const verdict = gated && sha256 ? verdicts.of(sha256) : undefined;
    const decisionKey = verdict ?? sha256 ?? locator !== undefined;
    let decision = decisions.get(decisionKey);
    if (!decision) {
      decision = decide({ policy: rule.gate, sha256, located: locator !== undefined, verdict, firstSeen: now, now });
      decisions.set(decisionKey, decision);
    }
    const eventTime = eventTimeTextOf(row, columns.time);
    const hit: Mutable<HitRecord> = {
      key: keys[i]!,
      ruleId: rule.id,
      target,
      status: "new",
      firstSeen: at,
      updatedAt: at,
      window,
      eventTime: eventTime ?? window.end,
      row,
    };
    if (sha256) hit.sha256 = sha256;
    if (locator) {
      hit.locator = locator;
      const expects = namedHashesOf(row, plan);
      if (expects) hit.expects = expects;
    }
    switch (decision.action) {
      case "alert":
        hit.settledIn = statusRecords.place(decision.verdict);
        break;
      case "pending":
        if (pendingPartitionOf(hit) === undefined) throw new Error("a pending hit needs a sample hash or location");
        hit.status = "pending";
        if (verdict) hit.verdict = verdict;
        break;
      case "benign":
      case "unverified":
        hit.status = decision.action;
        if (verdict) hit.verdict = verdict;
        hit.reason = decision.reason;
        break;
    }
    hits[i] = hit;
    decided[i] = decision;
  }

  // One write: a pending hit's sample index entry before its record (pending), then every hit of the batch.
  const ops: StateOp[] = [];
  for (let i = 0; i < hits.length; i++) {
    const partition = decided[i]!.action === "pending" ? pendingPartitionOf(hits[i]!) : undefined;
    if (partition) ops.push(state.putPendingOp(partition, keys[i]!, { ruleId: rule.id, target, since: at }));
  }
  const pendingCount = ops.length;
  for (let i = 0; i < hits.length; i++) ops.push(state.createHitOp(hits[i]!));
  const written = await state.write(ops);
  const created: boolean[] = keys.map((_, i) => written[pendingCount + i] === true);

  // The hits found recorded already (a rerun of the window, or an overlapping one), read together.
  const recordedKeys = keys.filter((_, i) => !created[i]);
  const recorded = new Map<string, HitRecord | undefined>();
  (await state.hitsOf(rule.id, recordedKeys)).forEach((hit, i) => {
    recorded.set(recordedKeys[i]!, hit);
  });
  // A hit whose record was there but could not be read (damaged: hitsOf reported it and set it aside) is recorded
  // now, as the batch's new hits were: nothing else would ever write it (its pending index entry, if any, is
  // written above), and it is settled as one of them.
  const unreadable: number[] = [];
  for (let i = 0; i < keys.length; i++) if (!created[i] && recorded.get(keys[i]!) === undefined) unreadable.push(i);
  if (unreadable.length > 0) {
    const again = await state.write(unreadable.map((i) => state.createHitOp(hits[i]!)));
    unreadable.forEach((i, j) => {
      created[i] = again[j] === true;
    });
  }

  // A fresh hit to alert, or a recorded one not settled yet (a rerun after a kill), is settled now; a fresh hit
  // recorded settled (benign, unverified, pending) needs nothing more, nor does a recorded one settled before. A
  // recorded hit still pending is settled holding its sample's lease (settleWaiting).
  const toSettle: Array<{ hit: HitRecord; fresh: boolean; decision?: GateDecision }> = [];
  const waiting: HitRecord[] = [];
  for (let i = 0; i < hits.length; i++) {
    const hit = hits[i]!;
    if (created[i]) {
      if (decided[i]!.action === "alert") toSettle.push({ hit, fresh: true, decision: decided[i]! });
      else tally(into, true, { status: hit.status });
      continue;
    }
    const existing = recorded.get(hit.key) ?? hit;
    if (settledStatuses.has(existing.status)) into.counts.duplicate++;
    else if (existing.status === "pending") waiting.push(existing);
    else toSettle.push({ hit: existing, fresh: false });
  }
  const settled = await settleHits(plan, toSettle, deps, budget, verdicts, (id) => statusRecords.made(id));
  for (let i = 0; i < toSettle.length; i++) tally(into, toSettle[i]!.fresh, settled[i]!);
  if (waiting.length > 0) await settleWaiting(plan, waiting, deps, into);
}

/**
 * Recorded hits still pending that a run meets again (its window overlaps the one that recorded them), settled as
 * the sweep settles them: each sample's hits holding its lease (SAMPLE_LEASE), read again under it, with its verdict
 * read afresh; not counted against max_signals. Without the lease, the sample's arrival (or a sweep) settling them at
 * the same time would raise their incidents too, and the later status write would undo the other's (an alert
 * recorded `unverified`). A sample whose lease another settling holds is left to it: its hits count as pending here;
 * one found settled once the lease is held counts as a duplicate.
 */
async function settleWaiting(plan: HuntPlan, hits: readonly HitRecord[], deps: HuntDeps, into: Tally): Promise<void> {
  const bySample = new Map<string, HitRecord[]>();
  for (const hit of hits) {
    const sample = pendingPartitionOf(hit)!;
    const group = bySample.get(sample);
    if (group) group.push(hit);
    else bySample.set(sample, [hit]);
  }
  for (const [sample, group] of bySample) {
    const lease = sampleLease(deps, sample);
    if (!(await lease.take())) {
      for (let i = 0; i < group.length; i++) tally(into, false, { status: "pending" });
      continue;
    }
    try {
      const current = await deps.state.hitsOf(
        plan.rule.id,
        group.map((hit) => hit.key),
      );
      const still: Array<{ hit: HitRecord }> = [];
      for (const hit of current) {
        if (hit?.status === "pending") still.push({ hit });
        else into.counts.duplicate++;
      }
      const settled = await settleHits(plan, still, deps, undefined, new VerdictCache(deps.state), () => false);
      for (let i = 0; i < still.length; i++) tally(into, false, settled[i]!);
    } finally {
      await lease.release();
    }
  }
}

/**
 * The status records of one batch's hits to alert (HuntState `hitstatus`): a hit is placed in one when recorded, so
 * a rerun after a kill finds where its status goes. A record holds hits up to about STATUS_RECORD_CHARS of JSON
 * (each status, and each sample's verdict once), well under a table entity's limit.
 */
class StatusRecords {
  private readonly id = randomUUID();
  private part = 0;
  /** The name of the record being filled (one string, shared by its hits). */
  private current = `${this.id}.0`;
  private chars = 0;
  private samples = new Set<StoredVerdict>();
  place(verdict: StoredVerdict | undefined): string {
    const size = STATUS_CHARS + (verdict && !this.samples.has(verdict) ? JSON.stringify(verdict).length : 0);
    if (this.chars > 0 && this.chars + size > STATUS_RECORD_CHARS) {
      this.current = `${this.id}.${++this.part}`;
      this.chars = 0;
      this.samples = new Set();
    }
    if (verdict) this.samples.add(verdict);
    this.chars += size;
    return this.current;
  }
  /** Was the record named made by this batch (none written yet)? */
  made(settledIn: string): boolean {
    return settledIn.startsWith(`${this.id}.`);
  }
}

/** A hit's status in a status record, at most (key, status, times, incident id, reason), in JSON characters. */
const STATUS_CHARS = 400;
const STATUS_RECORD_CHARS = 400_000;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The distinct samples named by the hits not decided yet. */
function sampleHashes(items: ReadonlyArray<{ hit: HitRecord; decision?: GateDecision }>): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < items.length; i++) {
    const { hit, decision } = items[i]!;
    if (!decision && hit.sha256) out.add(hit.sha256);
  }
  return out;
}

/**
 * The gate's decision for a hit with its sample's verdict (none: not gated, no sample, or no verdict yet), and the
 * record to write first: settled at once when the decision has no effect outside the state (benign, unverified,
 * pending), else as it is (`new`).
 */
function decisionOf(
  plan: HuntPlan,
  hit: HitRecord,
  now: Date,
  verdict: StoredVerdict | undefined,
): { decision: GateDecision; record: HitRecord } {
  if (plan.rule.gate.mode === "none") verdict = undefined;
  const decision = decide({
    policy: plan.rule.gate,
    sha256: hit.sha256,
    located: hit.locator !== undefined,
    verdict,
    firstSeen: new Date(hit.firstSeen),
    now,
  });
  const update = (status: HitStatus, reason?: string): HitRecord => ({
    ...hit,
    status,
    updatedAt: now.toISOString(),
    ...(verdict ? { verdict } : {}),
    ...(reason ? { reason } : {}),
  });
  switch (decision.action) {
    case "alert":
      return { decision, record: hit };
    case "pending":
      if (pendingPartitionOf(hit) === undefined) throw new Error("a pending hit needs a sample hash or location");
      return { decision, record: update("pending") };
    case "benign":
    case "unverified":
      return { decision, record: update(decision.action, decision.reason) };
  }
}

export interface Settlement {
  readonly status: HitStatus;
  readonly incidentId?: string;
  /** True when this call created the incident. */
  readonly created?: boolean;
}

/**
 * Decides a pending hit with the verdict now known (the pending sweep, a sample's arrival), and carries the decision
 * out in the protocol's order. Its alert, if any, is not counted against max_signals (countedIn).
 */
export async function settleHit(plan: HuntPlan, hit: HitRecord, deps: HuntDeps): Promise<Settlement> {
  const [settled] = await settleHits(plan, [{ hit }], deps, undefined, new VerdictCache(deps.state), () => false);
  return settled!;
}

/**
 * The max_signals count a hit's alert goes against: the run's (`budget`), for a hit its window's run decided to
 * alert (recorded `new`: by this run, or by a run of the same window killed before it) and not counted yet. None
 * for a hit counted already (a rerun of the window), and none for a pending hit: its alert comes with its sample's
 * verdict, which is not a run, so it is outside max_signals whoever settles it (the sweep, a sample's arrival, a
 * later run whose window meets its row again), and never turned `overflow` by the new hits of another window.
 */
function countedIn(budget: Budget | undefined, hit: HitRecord): Budget | undefined {
  if (!budget || hit.status !== "new" || budget.count.keys.has(hit.key)) return undefined;
  return budget;
}

/**
 * Decides recorded, unsettled hits and carries the decisions out: pending index entries (one write), the alerts
 * (raiseAlerts), then every status in one write, with the index entries of hits no longer pending dropped.
 * `decision`, when given, was made for the hit in this batch already; `budget` is the run's max_signals count (none
 * for the pending sweep), which only some alerts go against (countedIn).
 */
async function settleHits(
  plan: HuntPlan,
  items: ReadonlyArray<{ hit: HitRecord; decision?: GateDecision }>,
  deps: HuntDeps,
  budget: Budget | undefined,
  verdicts: VerdictCache,
  freshStatusRecord: (settledIn: string) => boolean,
): Promise<Settlement[]> {
  if (items.length === 0) return [];
  const { state } = deps;
  const now = deps.clock();
  const decided: Array<{ before: HitRecord; after: HitRecord; decision: GateDecision; alert: boolean }> = [];
  const counting: string[] = [];
  const gated = plan.rule.gate.mode !== "none";
  if (gated) await verdicts.load(sampleHashes(items));
  for (let i = 0; i < items.length; i++) {
    const { hit, decision: given } = items[i]!;
    const { decision, record } = given
      ? { decision: given, record: hit }
      : decisionOf(plan, hit, now, gated && hit.sha256 ? verdicts.of(hit.sha256) : undefined);
    let after = record;
    let alert = false;
    if (decision.action === "alert") {
      const counted = countedIn(budget, hit);
      if (!counted) {
        alert = true;
      } else if (counted.count.keys.size + counting.length >= counted.cap) {
        after = {
          ...hit,
          status: "overflow",
          updatedAt: now.toISOString(),
          reason: `over max_signals (${counted.cap}) in its window`,
          ...(decision.verdict ? { verdict: decision.verdict } : {}),
        };
      } else {
        counting.push(hit.key);
        alert = true;
      }
    }
    decided.push({ before: hit, after, decision, alert });
  }

  const pendingOps: StateOp[] = [];
  for (let i = 0; i < decided.length; i++) {
    const { before, after } = decided[i]!;
    if (after.status !== "pending" || before.status === "pending") continue;
    const partition = pendingPartitionOf(after);
    if (partition)
      pendingOps.push(
        state.putPendingOp(partition, after.key, {
          ruleId: after.ruleId,
          target: after.target,
          since: after.firstSeen,
        }),
      );
  }
  if (budget && counting.length > 0) {
    await budget.hold();
    pendingOps.push(state.signalsOp(budget.count, counting));
  }
  if (pendingOps.length > 0) await state.write(pendingOps);

  const requests: HuntAlertRequest[] = [];
  for (let i = 0; i < decided.length; i++) {
    const d = decided[i]!;
    if (d.alert)
      requests.push(alertRequestOf(plan, d.before, d.decision.action === "alert" ? d.decision.verdict : undefined));
  }
  const raised = await raiseAlerts(deps.alerts, requests, deps.alertConcurrency);
  /** Per decided hit: its alert as raised (none: not alerted). */
  const raisedFor: Array<RaisedAlert | undefined> = new Array(decided.length);
  for (let i = 0, r = 0; i < decided.length; i++) if (decided[i]!.alert) raisedFor[i] = raised[r++];

  const at = now.toISOString();
  const ops: StateOp[] = [];
  /** Hits recorded `new` that are settled now: their statuses go to their batch's status record. */
  const statuses: SettledStatus[] = [];
  const settlements: Settlement[] = new Array(decided.length);
  for (let i = 0; i < decided.length; i++) {
    const d = decided[i]!;
    const alert = raisedFor[i];
    const verdict = d.decision.action === "alert" ? d.decision.verdict : undefined;
    const inStatusRecord = d.before.status === "new" && d.before.settledIn !== undefined;
    if (alert) {
      settlements[i] = { status: "alerted", incidentId: alert.incidentId, created: alert.created };
      if (inStatusRecord)
        statuses.push({
          key: d.before.key,
          ruleId: d.before.ruleId,
          settledIn: d.before.settledIn,
          status: "alerted",
          updatedAt: at,
          incidentId: alert.incidentId,
          verdict,
        });
      else
        ops.push(
          state.putHitOp({
            ...d.before,
            status: "alerted",
            updatedAt: at,
            incidentId: alert.incidentId,
            ...(verdict ? { verdict } : {}),
          }),
        );
    } else {
      const { after } = d;
      settlements[i] = { status: after.status };
      if (inStatusRecord && after.status !== "new") statuses.push(after);
      else if (after !== d.before && !(after.status === "pending" && d.before.status === "pending"))
        ops.push(state.putHitOp(after));
    }
    const waitedAt = pendingPartitionOf(d.before);
    if (d.before.status === "pending" && settlements[i]!.status !== "pending" && waitedAt)
      ops.push(state.deletePendingOp(waitedAt, d.before.key));
  }
  if (statuses.length > 0) ops.push(...(await state.statusOps(statuses, freshStatusRecord)));
  if (ops.length > 0) await state.write(ops);
  return settlements;
}

export interface SweepReport {
  readonly examined: number;
  readonly alerted: number;
  readonly benign: number;
  readonly unverified: number;
  readonly stillPending: number;
  readonly incidents: readonly string[];
}

/**
 * The lease record partition of a sample's settling (key: the pending partition, the sample's SHA-256 or its
 * locator). Event Grid delivers a BlobCreated event again while its first delivery is still being handled ("Event
 * Grid waits 30 seconds for a response after delivering a message. After 30 seconds, if the endpoint hasn't
 * responded, the message is queued for retry", Microsoft Learn, Event Grid message delivery and retry), and an HTTP
 * upload's own BlobCreated event comes while the upload still scans: two settlings of one sample at once would both
 * find its hits pending and both raise their incidents (Sentinel: a GET then a PUT each, the second PUT overwriting
 * what an automation rule or an analyst changed in between). Holding the sample's lease, they settle one after the
 * other, and the second finds the hits settled.
 */
export const SAMPLE_LEASE = "shmhunt-sample";

/**
 * How long a settling waits before it asks again for a sample's lease another one holds: 100 ms at first, doubled
 * each time up to 2 s, so a wait of a whole lease (two minutes) costs some 65 reads of the lease, not 1,200
 * (each a request on Azure Table), while a short settling ahead is still followed within a fraction of a second.
 */
const SAMPLE_LEASE_POLL_MS = { first: 100, most: 2_000 } as const;

/**
 * Settles pending hits whose sample has a verdict by now, or whose wait is over (unverified); drops index entries
 * left by a run killed between settling a hit and un-indexing it. With `sha256`, only that sample's hits. Each
 * sample's hits are settled holding its lease (SAMPLE_LEASE); a sample whose lease another settling holds is left to
 * it (its hits counted still pending); with `held`, the caller holds that sample's lease (renewed here as it goes).
 */
export async function sweepPending(
  plans: readonly HuntPlan[],
  deps: HuntDeps,
  options: { sha256?: string; held?: HeldLease } = {},
): Promise<SweepReport> {
  const report = { examined: 0, alerted: 0, benign: 0, unverified: 0, stillPending: 0, incidents: [] as string[] };
  const bySample = new Map<string, Array<{ key: string; entry: { ruleId: string; target: string } }>>();
  for (const { sha256, key, entry } of await deps.state.pending(options.sha256)) {
    const entries = bySample.get(sha256);
    if (entries) entries.push({ key, entry });
    else bySample.set(sha256, [{ key, entry }]);
  }
  for (const [sha256, entries] of bySample) {
    const lease = options.held ?? sampleLease(deps, sha256);
    if (!options.held && !(await lease.take())) {
      report.examined += entries.length;
      report.stillPending += entries.length;
      continue;
    }
    try {
      for (const { key, entry } of entries) {
        report.examined++;
        await lease.hold();
        await sweepOne(plans, deps, sha256, key, entry, report);
      }
    } finally {
      if (!options.held) await lease.release();
    }
  }
  return report;
}

async function sweepOne(
  plans: readonly HuntPlan[],
  deps: HuntDeps,
  sha256: string,
  key: string,
  entry: { ruleId: string; target: string },
  report: { alerted: number; benign: number; unverified: number; stillPending: number; incidents: string[] },
): Promise<void> {
  const hit = await deps.state.hit(entry.ruleId, key);
  const plan = plans.find((p) => p.rule.id === entry.ruleId && p.target === entry.target);
  if (!hit || settledStatuses.has(hit.status)) {
    await deps.state.deletePending(sha256, key);
    return;
  }
  if (!plan) {
    // The rule (or its target) is not loaded now, perhaps only for a while: the hit keeps waiting, unchanged.
    (deps.logger ?? silentLogger).warn(
      { ruleId: entry.ruleId, target: entry.target, key },
      "pending hit of a rule not loaded now; left pending",
    );
    report.stillPending++;
    return;
  }
  const settled = await settleHit(plan, hit, deps);
  if (settled.status === "alerted") {
    report.alerted++;
    if (settled.incidentId && settled.created) report.incidents.push(settled.incidentId);
  } else if (settled.status === "benign") report.benign++;
  else if (settled.status === "unverified") report.unverified++;
  else report.stillPending++;
}

function sampleLease(deps: HuntDeps, sha256: string): HeldLease {
  return new HeldLease(
    deps.state,
    SAMPLE_LEASE,
    sha256,
    deps.clock,
    leaseMsOf(deps),
    `the settling of sample ${sha256} lost its lease; its hits are left to the next sweep`,
  );
}

/**
 * This process's settlings waiting for a sample's lease, by state and SHA-256, in turn: each waits for the one before
 * it to give the lease up, so only the first asks the state (40 uploads of one sample at once are 40 settlings one
 * after the other, each taking the lease as soon as the one before gives it up, not at its next poll).
 */
const sampleTurns = new WeakMap<HuntState, Map<string, Promise<void>>>();

/**
 * Takes a sample's lease (SAMPLE_LEASE), waiting while another settling of the sample holds it: at most a lease's
 * time (a holder that is gone leaves a lease that expires within it; one that is alive renews it and does the work).
 * Undefined when it waited that long, logged with `what` is left undone. Settlings of this process wait their turn
 * (sampleTurns); a holder elsewhere is asked again after 100 ms, doubling up to 2 s. `maxWaitMs` shortens the wait
 * (a caller with a deadline of its own: the scan retries of a Functions timer tick).
 */
export async function waitForSampleLease(
  deps: HuntDeps,
  sha256: string,
  left: string,
  maxWaitMs = Number.POSITIVE_INFINITY,
): Promise<HeldLease | undefined> {
  const waitMs = Math.max(0, Math.min(leaseMsOf(deps), maxWaitMs));
  const since = performance.now();
  const turns = sampleTurns.get(deps.state) ?? new Map<string, Promise<void>>();
  sampleTurns.set(deps.state, turns);
  const before = turns.get(sha256) ?? Promise.resolve();
  let endTurn!: () => void;
  const mine = before.then(() => new Promise<void>((resolve) => (endTurn = resolve)));
  turns.set(sha256, mine);
  const leave = (): void => {
    endTurn?.();
    if (turns.get(sha256) === mine) turns.delete(sha256);
  };
  const giveUp = (): undefined => {
    (deps.logger ?? silentLogger).warn(
      { sha256, waitedMs: Math.round(performance.now() - since) },
      `another settling of this sample holds its lease; ${left}`,
    );
    return undefined;
  };
  // A turn not reached within the wait: given up, and passed on as soon as it comes.
  const timeout = new AbortController();
  const reached = await Promise.race([
    before.then(() => true),
    sleep(waitMs, false, { ref: false, signal: timeout.signal }).catch(() => false),
  ]);
  timeout.abort();
  if (!reached) {
    void before.then(leave);
    return giveUp();
  }
  const lease = sampleLease(deps, sha256);
  let pause: number = SAMPLE_LEASE_POLL_MS.first;
  while (!(await lease.take())) {
    if (performance.now() - since >= waitMs) {
      leave();
      return giveUp();
    }
    await sleep(Math.min(pause, Math.max(0, waitMs - (performance.now() - since))));
    pause = Math.min(pause * 2, SAMPLE_LEASE_POLL_MS.most);
  }
  lease.onRelease(leave);
  return lease;
}

/** How long a lease of this run lasts (deps.leaseMs, default LEASE_MS). */
function leaseMsOf(deps: HuntDeps): number {
  return Math.max(1, deps.leaseMs ?? LEASE_MS);
}

/**
 * Stores a sample's verdict, then settles the hits that were waiting for that sample and notes it on the incidents
 * raised before it came, holding the sample's lease: while another settling of the sample holds it, this one waits
 * (at most a lease's time, then leaves the hits to the next sweep, the verdict being stored) and then finds the
 * hits that one settled. With `held`, the caller holds the sample's lease already (it scanned the sample under it).
 */
export async function recordVerdict(
  verdict: StoredVerdict,
  plans: readonly HuntPlan[],
  deps: HuntDeps,
  held?: HeldLease,
): Promise<SweepReport> {
  await deps.state.putVerdict(verdict);
  const lease = held ?? (await waitForSampleLease(deps, verdict.sha256, "its hits are left to the next sweep"));
  if (!lease) return { examined: 0, alerted: 0, benign: 0, unverified: 0, stillPending: 0, incidents: [] };
  try {
    const report = await sweepPending(plans, deps, { sha256: verdict.sha256, held: lease });
    await noteLateVerdict(verdict, plans, deps);
    return report;
  } finally {
    if (!held) await lease.release();
  }
}

export interface HuntRunReport {
  readonly startedAt: string;
  readonly runs: readonly RunReport[];
  readonly sweep: SweepReport;
  /** State records found damaged (so far, by this process): skipped, reported, set aside. */
  readonly damaged?: readonly DamagedRecord[];
}

/**
 * One scheduler tick: every due plan (or every plan when forced, or only one rule's), sequentially, then the
 * pending sweep. A failing plan does not stop the others. With `deadline` (deps.clock's time), a plan not started by
 * then is not started: reported `deferred` and left to the next tick (a run in progress is not cut: its window is
 * settled and its checkpoint moved as ever; the first plan always starts, so every tick gets on); the pending sweep
 * still runs. The caller leaves room after the
 * deadline for the run in progress and the sweep (a host that kills the invocation at its timeout: Functions).
 */
export async function runHunts(
  plans: readonly HuntPlan[],
  deps: HuntDeps,
  options: { force?: boolean; ruleId?: string; deadline?: Date } = {},
  progress?: HuntRunProgress,
): Promise<HuntRunReport> {
  const startedAt = deps.clock().toISOString();
  const runs: RunReport[] = [];
  const verdicts = new VerdictCache(deps.state);
  const chosen = plans.filter((plan) => options.ruleId === undefined || plan.rule.id === options.ruleId);
  progress?.runs?.(chosen.length);
  const deadline = options.deadline?.getTime();
  for (const plan of chosen) {
    if (deadline !== undefined && runs.length > 0 && deps.clock().getTime() >= deadline) {
      runs.push({
        ruleId: plan.rule.id,
        target: plan.target,
        status: "deferred",
        counts: emptyCounts(),
        incidents: [],
      });
      progress?.ran?.(runs[runs.length - 1]!);
      continue;
    }
    try {
      runs.push(await runPlanWith(plan, deps, options.force ? { force: true } : {}, verdicts, progress));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      (deps.logger ?? silentLogger).error(
        { ruleId: plan.rule.id, target: plan.target, error: message },
        "hunt run aborted; the window is left to the next run",
      );
      runs.push({
        ruleId: plan.rule.id,
        target: plan.target,
        status: "failed",
        counts: emptyCounts(),
        incidents: [],
        error: message,
      });
    }
    const ran = runs[runs.length - 1];
    if (ran) progress?.ran?.(ran);
  }
  const deferred = runs.filter((r) => r.status === "deferred");
  if (deferred.length > 0)
    (deps.logger ?? silentLogger).warn(
      {
        deadline: options.deadline?.toISOString(),
        deferred: deferred.length,
        runs: deferred.map((r) => `${r.ruleId}/${r.target}`),
      },
      "hunt runs not started before the deadline; left to the next tick",
    );
  const sweep = await sweepPending(plans, deps);
  const damaged = deps.state.damaged();
  if (damaged.length > 0)
    (deps.logger ?? silentLogger).warn(
      { damaged },
      "damaged state records were skipped and set aside (quarantine); the rest was handled",
    );
  return { startedAt, runs, sweep, ...(damaged.length > 0 ? { damaged } : {}) };
}
