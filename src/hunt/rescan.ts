/**
 * When the YARA rules change, the samples already scanned are scanned again with the new rule set and the hits
 * their verdicts decided are settled anew. Every stored verdict names the rule set that produced it (`ruleset`, the
 * compiled rule set's SHA-256); a verdict whose rule set is not the current one is stale, and the rescan brings it
 * up to date, a bounded batch at a time.
 *
 * A pass walks the verdicts partition by partition (the 256 partitions of the first two hex digits of the SHA-256,
 * each in SHA-256 order) from a cursor kept in the state (`rescan` record): a run stops after `limit` samples
 * scanned, or after reading `maxRead` verdicts, and the next run goes on from the cursor. A new rule set starts a
 * new pass. A pass in which scans failed is followed by another (at most MAX_PASSES), which scans only what is still
 * stale; then the pass is complete and runs do nothing until the rules change again.
 *
 * For one sample, in this order (the crash-safety protocol):
 *   1. the sample is scanned with the current rules (a failed scan, or a sample no longer stored, leaves its verdict
 *      as it was: counted, reported, tried again by the next pass);
 *   2. when the new verdict means something else than the old (another set of matching rules, or a scan failure
 *      cleared), the gated hits it decided are settled: a `benign` hit of a `require` gate whose sample now matches
 *      the gate's rules is alerted (the alert it now deserves, under the id derived from its key); an `alerted`
 *      hit gets the late-verdict treatment (late-verdict.ts: a comment and the `verdict:*`/`yara:*` labels on its
 *      incident, under a comment id derived from the hit, the sample and the rule set; nothing an analyst changed is
 *      touched, and an incident is never closed by shmhunt: a match that disappears is said on the incident);
 *      each hit is then written with the new verdict, which names the rule set;
 *   3. the new verdict is stored (it now names the current rule set: the sample is done);
 *   4. hits still waiting for the sample (pending) are settled with it (run.ts sweepPending).
 * A process killed anywhere leaves the old verdict stored (step 3 not reached), so the next run scans the sample
 * again; a hit written in step 2 carries the new rule set already and is left alone; an alert raised or a comment
 * written before the kill is found again under its id. Nothing is lost, nothing alerted or commented twice. Runs are
 * exclusive across processes: a run holds the rescan's lease (HuntState), and a run finding it held does nothing.
 *
 * Left alone, by design: `unverified` hits (no sample came in time: their verdict never decided them), `overflow`
 * hits (over max_signals, whatever the verdict), `new` hits (the hunt decides them), and hits of a rule whose gate is
 * `none` or that is not loaded now. A verdict whose matches are unchanged is stored with the new rule set; its hits
 * keep their verdict (it means the same).
 */
import type { IncidentNote } from "../sentinel/incidents.js";
import type { StateOp } from "../store/state-store.js";
import { alertRequestOf } from "./alert-request.js";
import { confirms } from "./gate.js";
import { HeldLease } from "./hunt-state.js";
import { lateVerdictNote, verdictWords } from "./late-verdict.js";
import { raiseAlerts } from "./raise-alerts.js";
import { type HuntDeps, silentLogger, sweepPending } from "./run.js";
import { type HitRecord, type HuntPlan, matchFile, type StoredVerdict } from "./types.js";

/** The rule set that produced a verdict (`ruleset`, or the scanner's report kept in `detail`), when known. */
export function rulesetOf(verdict: StoredVerdict): string | undefined {
  if (verdict.ruleset) return verdict.ruleset;
  const detail = verdict.detail as { ruleset?: unknown } | undefined;
  return typeof detail?.ruleset === "string" ? detail.ruleset : undefined;
}

/** What scanning a stored sample again gave. */
export type SampleRescan =
  | { readonly kind: "scanned"; readonly verdict: StoredVerdict }
  | { readonly kind: "failed"; readonly reason: string }
  | { readonly kind: "missing" };

export interface RescanDeps {
  readonly hunt: HuntDeps;
  /** The identity of the rule set in use now (recompiled first when a rule file changed). */
  readonly ruleset: () => Promise<string>;
  /** Scans the stored sample again with the rules in use now. */
  readonly rescan: (sha256: string) => Promise<SampleRescan>;
}

export interface RescanOptions {
  /** Samples scanned at most in this run. */
  readonly limit: number;
  /** Verdicts read at most in this run (checked between partitions; default MAX_READ). */
  readonly maxRead?: number;
  /** How long the rescan's lease lasts before it is renewed (default LEASE_MS). */
  readonly leaseMs?: number;
}

export interface RescanReport {
  /**
   * `up-to-date`: every verdict is of the current rule set; `in-progress`: this run stopped at its limits, the next
   * goes on; `completed`: this run finished the pass; `busy`: another run holds the rescan's lease.
   */
  readonly status: "up-to-date" | "in-progress" | "completed" | "busy";
  readonly ruleset: string;
  readonly pass: number;
  /** Verdicts read. */
  readonly examined: number;
  /** Samples scanned again. */
  readonly rescanned: number;
  /** …of which the verdict changed meaning (other matching rules). */
  readonly changed: number;
  /** Verdicts whose sample is no longer stored. */
  readonly missing: number;
  /** Scans that failed (the old verdict stays; tried again by the next pass). */
  readonly failed: number;
  /** Hits alerted (dismissed ones that now match, and pending ones settled by the new verdicts). */
  readonly alerted: number;
  /** Incidents given a comment and labels (an alerted hit's verdict changed). */
  readonly noted: number;
  /** Pending hits settled benign by the new verdicts. */
  readonly benign: number;
  readonly incidents: readonly string[];
  /** The first failed scans (at most 20): which sample, why. */
  readonly failures: ReadonlyArray<{ readonly sha256: string; readonly reason: string }>;
}

/** How far the rescan has come; stored as the `rescan` record. */
interface RescanProgress {
  readonly ruleset: string;
  readonly pass: number;
  /** The next partition to read (0–255; 256: the pass is over). */
  readonly partition: number;
  /** The last sample handled in that partition. */
  readonly after?: string;
  /** Scans failed in this pass. */
  readonly failed: number;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly completedAt?: string;
}

const PARTITIONS = 256;
/** Passes over the verdicts at most per rule set: the first, and again while scans fail. */
export const MAX_PASSES = 3;
/** Verdicts read at most per run by default. */
export const MAX_READ = 10_000;
/** The rescan's lease lasts this long, renewed when half of it is left. */
export const LEASE_MS = 2 * 60_000;
const LEASE_PARTITION = "shmhunt-rescan";
const LEASE_KEY = "samples";
const MAX_FAILURES_SHOWN = 20;

const partitionName = (n: number) => n.toString(16).padStart(2, "0");

/** Runs the rescan as far as the options allow (see the top of this file). */
export async function rescanSamples(
  plans: readonly HuntPlan[],
  deps: RescanDeps,
  options: RescanOptions,
): Promise<RescanReport> {
  const { state } = deps.hunt;
  const clock = deps.hunt.clock;
  const logger = deps.hunt.logger ?? silentLogger;
  const current = await deps.ruleset();
  const report = {
    status: "in-progress" as RescanReport["status"],
    ruleset: current,
    pass: 0,
    examined: 0,
    rescanned: 0,
    changed: 0,
    missing: 0,
    failed: 0,
    alerted: 0,
    noted: 0,
    benign: 0,
    incidents: [] as string[],
    failures: [] as Array<{ sha256: string; reason: string }>,
  };
  // Up to date (the common case, every hunt run): one read, no lease taken.
  const seen = await state.rescanProgress<RescanProgress>();
  if (seen?.ruleset === current && seen.completedAt) return { ...report, pass: seen.pass, status: "up-to-date" };
  const lease = new HeldLease(
    deps.hunt.state,
    LEASE_PARTITION,
    LEASE_KEY,
    deps.hunt.clock,
    options.leaseMs ?? LEASE_MS,
    "the rescan lost its lease; the next run goes on from the cursor",
  );
  if (!(await lease.take())) return { ...report, status: "busy" };
  try {
    const stored = await state.rescanProgress<RescanProgress>();
    let progress: RescanProgress =
      stored && stored.ruleset === current
        ? stored
        : {
            ruleset: current,
            pass: 1,
            partition: 0,
            failed: 0,
            startedAt: clock().toISOString(),
            updatedAt: clock().toISOString(),
          };
    report.pass = progress.pass;
    if (progress.completedAt) return { ...report, status: "up-to-date" };
    if (stored?.ruleset !== current)
      logger.info({ ruleset: current, previous: stored?.ruleset }, "YARA rules changed: rescanning stored samples");

    const settler = new HitSettler(plans, deps.hunt, report);
    const maxRead = Math.max(1, options.maxRead ?? MAX_READ);
    // Samples tried in this run (scanned, failed or missing): what `limit` bounds.
    let attempted = 0;
    let stopped = false;
    let unsaved = false;
    const save = async () => {
      await lease.hold();
      await state.putRescanProgress({ ...progress, updatedAt: clock().toISOString() });
      unsaved = false;
    };
    while (progress.partition < PARTITIONS && !stopped) {
      if (attempted >= options.limit || report.examined >= maxRead) break;
      let touched = false;
      for (const verdict of await state.verdictsIn(partitionName(progress.partition))) {
        if (progress.after !== undefined && verdict.sha256 <= progress.after) continue;
        if (rulesetOf(verdict) !== current) {
          if (attempted >= options.limit) {
            stopped = true;
            break;
          }
          attempted++;
          touched = true;
          await lease.hold();
          const failed = await rescanOne(verdict, deps, settler, report);
          if (failed) progress = { ...progress, failed: progress.failed + 1 };
        }
        report.examined++;
        progress = { ...progress, after: verdict.sha256 };
      }
      if (!stopped) {
        const { after: _after, ...rest } = progress;
        progress = { ...rest, partition: progress.partition + 1 };
      }
      // The cursor is saved after a partition that had work; one with none is cheap to read again after a kill.
      unsaved = true;
      if (touched) await save();
    }
    if (progress.partition >= PARTITIONS) {
      if (progress.failed > 0 && progress.pass < MAX_PASSES) {
        progress = { ...progress, pass: progress.pass + 1, partition: 0, failed: 0 };
        logger.warn(
          { ruleset: current, pass: progress.pass },
          "rescan pass over with failed scans: another pass scans what is still stale",
        );
      } else {
        progress = { ...progress, completedAt: clock().toISOString() };
        report.status = "completed";
        logger.info({ ruleset: current, passes: progress.pass }, "rescan of the stored samples completed");
      }
      unsaved = true;
    }
    if (unsaved) await save();
    return report;
  } finally {
    await lease.release();
  }
}

type MutableReport = { -readonly [K in keyof RescanReport]: RescanReport[K] } & {
  incidents: string[];
  failures: Array<{ sha256: string; reason: string }>;
};

/** Steps 1 to 4 for one sample; true when its scan failed. */
async function rescanOne(
  old: StoredVerdict,
  deps: RescanDeps,
  settler: HitSettler,
  report: MutableReport,
): Promise<boolean> {
  const { state } = deps.hunt;
  const logger = deps.hunt.logger ?? silentLogger;
  const scanned = await deps.rescan(old.sha256);
  if (scanned.kind === "missing") {
    report.missing++;
    logger.warn({ sha256: old.sha256 }, "rescan: the sample is no longer stored; its verdict stays");
    return false;
  }
  if (scanned.kind === "failed") {
    report.failed++;
    if (report.failures.length < MAX_FAILURES_SHOWN)
      report.failures.push({ sha256: old.sha256, reason: scanned.reason });
    logger.warn({ sha256: old.sha256, reason: scanned.reason }, "rescan: the scan failed; the old verdict stays");
    return true;
  }
  const next = scanned.verdict;
  report.rescanned++;
  if (!sameMeaning(old, next)) {
    report.changed++;
    await settler.settle(old, next);
  }
  await state.putVerdict(next);
  const sweep = await sweepPending(settler.plans, deps.hunt, { sha256: next.sha256 });
  report.alerted += sweep.alerted;
  report.benign += sweep.benign;
  for (const id of sweep.incidents) report.incidents.push(id);
  return false;
}

/**
 * Do two verdicts say the same: the same rules matched, from the same files where both know the file (a verdict
 * stored before matches had their file knows none: matchFile), and neither is a failed scan?
 */
export function sameMeaning(a: StoredVerdict, b: StoredVerdict): boolean {
  if (a.scanFailed || b.scanFailed) return a.scanFailed !== undefined && b.scanFailed !== undefined;
  const filesOf = (v: StoredVerdict) => new Map(v.matches.map((m) => [m.rule, matchFile(m)]));
  const [fa, fb] = [filesOf(a), filesOf(b)];
  if (fa.size !== fb.size) return false;
  for (const [rule, file] of fa) {
    if (!fb.has(rule)) return false;
    const other = fb.get(rule);
    if (file !== undefined && other !== undefined && file !== other) return false;
  }
  return true;
}

/**
 * Step 2 alone, for a verdict that reached the state another way than the rescan (an upload of a stored sample
 * after the rules changed, scanned with the new rules): settles the hits `old` decided, before `next` is stored.
 */
export async function settleVerdictChange(
  plans: readonly HuntPlan[],
  deps: HuntDeps,
  old: StoredVerdict,
  next: StoredVerdict,
): Promise<Pick<RescanReport, "alerted" | "noted" | "incidents">> {
  const report = { alerted: 0, noted: 0, incidents: [] as string[] } as MutableReport;
  if (sameMeaning(old, next)) return report;
  await new HitSettler(plans, deps, report).settle(old, next);
  return { alerted: report.alerted, noted: report.noted, incidents: report.incidents };
}

/**
 * Settles the hits a changed verdict decided (step 2). The gated rules' decided hits are read once per run, on the
 * first changed verdict, to know which hits each sample decided; each hit is read again just before it is settled.
 */
class HitSettler {
  private bySample: Map<string, Array<{ ruleId: string; key: string }>> | undefined;

  constructor(
    readonly plans: readonly HuntPlan[],
    private readonly deps: HuntDeps,
    private readonly report: MutableReport,
  ) {}

  private planOf(hit: HitRecord): HuntPlan | undefined {
    return this.plans.find((p) => p.rule.id === hit.ruleId && p.target === hit.target);
  }

  private async decidedBy(sha256: string): Promise<HitRecord[]> {
    if (!this.bySample) {
      const map = new Map<string, Array<{ ruleId: string; key: string }>>();
      const gated = new Set(this.plans.filter((p) => p.rule.gate.mode !== "none").map((p) => p.rule.id));
      for (const ruleId of gated) {
        for (const hit of await this.deps.state.hits(ruleId)) {
          if (!hit.sha256 || (hit.status !== "alerted" && hit.status !== "benign")) continue;
          const list = map.get(hit.sha256);
          if (list) list.push({ ruleId, key: hit.key });
          else map.set(hit.sha256, [{ ruleId, key: hit.key }]);
        }
      }
      this.bySample = map;
    }
    const found: HitRecord[] = [];
    for (const { ruleId, key } of this.bySample.get(sha256) ?? []) {
      const [hit] = await this.deps.state.hitsOf(ruleId, [key]);
      if (hit) found.push(hit);
    }
    return found;
  }

  async settle(old: StoredVerdict, next: StoredVerdict): Promise<void> {
    const { state, alerts } = this.deps;
    const logger = this.deps.logger ?? silentLogger;
    const now = this.deps.clock().toISOString();
    const ruleset = rulesetOf(next);
    const toAlert: Array<{ hit: HitRecord; plan: HuntPlan }> = [];
    const ops: StateOp[] = [];
    for (const hit of await this.decidedBy(next.sha256)) {
      const plan = this.planOf(hit);
      if (!plan || plan.rule.gate.mode === "none") continue;
      // Settled by an earlier attempt with this rule set (a run killed before the verdict was stored).
      if (hit.verdict && ruleset !== undefined && rulesetOf(hit.verdict) === ruleset) continue;
      if (hit.status === "benign") {
        if (plan.rule.gate.mode === "require" && confirms(plan.rule.gate, next)) toAlert.push({ hit, plan });
        else ops.push(state.putHitOp({ ...hit, verdict: next, updatedAt: now }));
        continue;
      }
      if (hit.status !== "alerted") continue;
      const previous = hit.verdict ?? old;
      if (hit.incidentId && !sameMeaning(previous, next)) {
        if (alerts.annotate) {
          await alerts.annotate(hit.incidentId, rescanNote(hit, next, previous));
          this.report.noted++;
        } else {
          logger.warn(
            { incidentId: hit.incidentId, sha256: next.sha256 },
            "rescan: the verdict changed but the incident writer cannot comment; the hit keeps the new verdict",
          );
        }
      }
      ops.push(state.putHitOp({ ...hit, verdict: next, updatedAt: now }));
    }
    const raised = await raiseAlerts(
      alerts,
      toAlert.map(({ hit, plan }) => alertRequestOf(plan, hit, next)),
      this.deps.alertConcurrency,
    );
    toAlert.forEach(({ hit }, i) => {
      const alert = raised[i]!;
      const { reason: _reason, ...rest } = hit;
      ops.push(
        state.putHitOp({ ...rest, status: "alerted", incidentId: alert.incidentId, verdict: next, updatedAt: now }),
      );
      this.report.alerted++;
      if (alert.created) this.report.incidents.push(alert.incidentId);
    });
    if (ops.length > 0) await state.write(ops);
  }
}

/**
 * The comment and labels for an alerted hit whose sample's verdict changed with the rules. The comment id derives
 * from the hit, the sample, the verdict replaced and the new rule set: writing it again (a rerun after a kill) writes
 * the same comment, and each change of rules that changes the verdict (back and forth) writes its own.
 */
export function rescanNote(hit: HitRecord, verdict: StoredVerdict, previous: StoredVerdict): IncidentNote {
  const ruleset = rulesetOf(verdict) ?? "unknown";
  const gone = previous.matches.length > 0 && verdict.matches.length === 0;
  const headline = [
    `shmhunt: the YARA rules changed (rule set ${ruleset.slice(0, 12)}), and sample ${verdict.sha256} (${verdict.size} bytes) was scanned again on ${verdict.scannedAt}: ${verdictWords(verdict)}.`,
    ...(gone
      ? [
          "The match this incident was raised on is no longer found by the rules in use. The incident is left as it is: closing it is the analyst's decision.",
        ]
      : []),
  ].join("\n");
  return {
    ...lateVerdictNote(hit, verdict, previous, headline),
    noteKey: `${hit.key}/${verdict.sha256}/${previous.scannedAt}/rules/${ruleset}`,
  };
}
