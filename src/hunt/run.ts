/**
 * Runs hunts: one rule's query on one target over its window, each row turned into a hit, each hit gated and
 * alerted at most once. The write order is the crash-safety protocol (docs/service.md):
 *
 *   1. the window's rows are fetched; a failed query ends the run without touching the checkpoint;
 *   2. each row's hit is recorded (create-if-absent, status `new`) before anything is decided about it;
 *   3. the decision is carried out: the alert is raised under an id derived from the hit key (so raising it again
 *      finds it and leaves it alone), then the hit's status is written; a pending hit is indexed by its sample;
 *   4. only when every row is settled is the checkpoint moved to the window's end.
 *
 * A process killed anywhere in between leaves the checkpoint behind, so the next run covers the window again; it
 * finds the hits recorded, skips those already settled and finishes the rest. Nothing is skipped, nothing alerted
 * twice.
 */
import type { AlertWriter } from "../sentinel/incidents.js";
import type { QueryRunner } from "../sentinel/logs-query.js";
import { huntColumnsOf } from "../targets/index.js";
import { alertRequestOf } from "./alert-request.js";
import { decide } from "./gate.js";
import { eventTimeOf, hitKey, type Row, sampleHashOf } from "./hit-key.js";
import type { HuntState } from "./hunt-state.js";
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
}

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
  /** Hits over max_signals: recorded, not alerted. */
  overflow: number;
}

export interface RunReport {
  readonly ruleId: string;
  readonly target: string;
  readonly status: "completed" | "failed" | "not-due";
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
export async function runPlan(plan: HuntPlan, deps: HuntDeps, options: { force?: boolean } = {}): Promise<RunReport> {
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
  const budget = { left: rule.maxSignals };
  for (const row of outcome.rows) {
    const result = await handleRow(plan, row, window, deps, budget);
    if (result.fresh) counts.new++;
    if (result.settledBefore) {
      counts.duplicate++;
      continue;
    }
    counts[result.status === "new" ? "pending" : result.status]++;
    if (result.incidentId && result.created) incidents.push(result.incidentId);
  }
  await deps.state.putCheckpoint(rule.id, target, { end: window.end, completedAt: deps.clock().toISOString() });
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

interface RowResult extends Settlement {
  /** First time this hit was seen. */
  readonly fresh: boolean;
  /** Settled by an earlier run (an overlapping window): nothing was done. */
  readonly settledBefore: boolean;
}

async function handleRow(
  plan: HuntPlan,
  row: Row,
  window: StoredWindow,
  deps: HuntDeps,
  budget: { left: number },
): Promise<RowResult> {
  const { rule, target } = plan;
  const key = hitKey(rule.id, target, row, plan.identityColumns ? { identityColumns: plan.identityColumns } : {});
  const now = deps.clock().toISOString();
  const columns = huntColumnsOf(target);
  const sha256 = sampleHashOf(row, plan.sampleHashColumns ?? columns.sampleHash);
  const candidate: HitRecord = {
    key,
    ruleId: rule.id,
    target,
    status: "new",
    firstSeen: now,
    updatedAt: now,
    window,
    eventTime: (eventTimeOf(row, columns.time) ?? new Date(window.end)).toISOString(),
    ...(sha256 ? { sha256 } : {}),
    row,
  };
  const fresh = await deps.state.createHit(candidate);
  const hit = fresh ? candidate : ((await deps.state.hit(rule.id, key)) ?? candidate);
  if (settledStatuses.has(hit.status)) {
    return { status: hit.status, fresh: false, settledBefore: true };
  }
  const settled = await settleHit(plan, hit, deps, budget);
  return { ...settled, fresh, settledBefore: false };
}

export interface Settlement {
  readonly status: HitStatus;
  readonly incidentId?: string;
  /** True when this call created the incident. */
  readonly created?: boolean;
}

/**
 * Decides an unsettled hit (new or pending) with the verdict now known, and carries the decision out in the
 * protocol's order. `budget` is the run's remaining max_signals (none when a sample's arrival settles the hit).
 */
export async function settleHit(
  plan: HuntPlan,
  hit: HitRecord,
  deps: HuntDeps,
  budget?: { left: number },
): Promise<Settlement> {
  const { state } = deps;
  const now = deps.clock();
  const verdict = hit.sha256 && plan.rule.gate.mode !== "none" ? await state.verdict(hit.sha256) : undefined;
  const decision = decide({
    policy: plan.rule.gate,
    sha256: hit.sha256,
    verdict,
    firstSeen: new Date(hit.firstSeen),
    now,
  });
  const update = (status: HitStatus, extra: Partial<HitRecord> = {}): HitRecord => ({
    ...hit,
    ...extra,
    status,
    updatedAt: now.toISOString(),
    ...(verdict ? { verdict } : {}),
  });

  switch (decision.action) {
    case "pending": {
      if (hit.sha256 === undefined) throw new Error("a pending hit needs a sample hash");
      await state.putPending(hit.sha256, hit.key, { ruleId: hit.ruleId, target: hit.target, since: hit.firstSeen });
      if (hit.status !== "pending") await state.putHit(update("pending"));
      return { status: "pending" };
    }
    case "alert": {
      if (budget && budget.left <= 0) {
        await finish(
          deps,
          hit,
          update("overflow", { reason: `over max_signals (${plan.rule.maxSignals}) in its run` }),
        );
        return { status: "overflow" };
      }
      if (budget) budget.left--;
      const raised = await deps.alerts.raise(alertRequestOf(plan, hit, decision.verdict));
      await finish(deps, hit, update("alerted", { incidentId: raised.incidentId }));
      return { status: "alerted", incidentId: raised.incidentId, created: raised.created };
    }
    case "benign":
      await finish(deps, hit, update("benign", { reason: decision.reason }));
      return { status: "benign" };
    case "unverified":
      await finish(deps, hit, update("unverified", { reason: decision.reason }));
      return { status: "unverified" };
  }
}

/** Writes the settled hit, then drops its pending index entry (a leftover entry is cleaned by the sweep). */
async function finish(deps: HuntDeps, before: HitRecord, after: HitRecord): Promise<void> {
  await deps.state.putHit(after);
  if (before.sha256) await deps.state.deletePending(before.sha256, before.key);
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
 * Settles pending hits whose sample has a verdict by now, or whose wait is over (unverified); drops index entries
 * left by a run killed between settling a hit and un-indexing it. With `sha256`, only that sample's hits.
 */
export async function sweepPending(
  plans: readonly HuntPlan[],
  deps: HuntDeps,
  options: { sha256?: string } = {},
): Promise<SweepReport> {
  const report = { examined: 0, alerted: 0, benign: 0, unverified: 0, stillPending: 0, incidents: [] as string[] };
  for (const { sha256, key, entry } of await deps.state.pending(options.sha256)) {
    report.examined++;
    const hit = await deps.state.hit(entry.ruleId, key);
    const plan = plans.find((p) => p.rule.id === entry.ruleId && p.target === entry.target);
    if (!hit || settledStatuses.has(hit.status)) {
      await deps.state.deletePending(sha256, key);
      continue;
    }
    if (!plan) {
      // The rule (or its target) is not loaded now, perhaps only for a while: the hit keeps waiting, unchanged.
      (deps.logger ?? silentLogger).warn(
        { ruleId: entry.ruleId, target: entry.target, key },
        "pending hit of a rule not loaded now; left pending",
      );
      report.stillPending++;
      continue;
    }
    const settled = await settleHit(plan, hit, deps);
    if (settled.status === "alerted") {
      report.alerted++;
      if (settled.incidentId && settled.created) report.incidents.push(settled.incidentId);
    } else if (settled.status === "benign") report.benign++;
    else if (settled.status === "unverified") report.unverified++;
    else report.stillPending++;
  }
  return report;
}

/** Stores a sample's verdict, then settles the hits that were waiting for that sample. */
export async function recordVerdict(
  verdict: StoredVerdict,
  plans: readonly HuntPlan[],
  deps: HuntDeps,
): Promise<SweepReport> {
  await deps.state.putVerdict(verdict);
  return sweepPending(plans, deps, { sha256: verdict.sha256 });
}

export interface HuntRunReport {
  readonly startedAt: string;
  readonly runs: readonly RunReport[];
  readonly sweep: SweepReport;
}

/**
 * One scheduler tick: every due plan (or every plan when forced, or only one rule's), sequentially, then the
 * pending sweep. A failing plan does not stop the others.
 */
export async function runHunts(
  plans: readonly HuntPlan[],
  deps: HuntDeps,
  options: { force?: boolean; ruleId?: string } = {},
): Promise<HuntRunReport> {
  const startedAt = deps.clock().toISOString();
  const runs: RunReport[] = [];
  for (const plan of plans) {
    if (options.ruleId !== undefined && plan.rule.id !== options.ruleId) continue;
    try {
      runs.push(await runPlan(plan, deps, options.force ? { force: true } : {}));
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
  }
  const sweep = await sweepPending(plans, deps);
  return { startedAt, runs, sweep };
}
