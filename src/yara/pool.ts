/**
 * A pool of scan worker processes. Scans never run on the caller's event loop, and a worker that dies (YARA-X
 * aborts the whole process on some rule conditions, e.g. a division overflow) fails only the scan it was running:
 * the pool reports that scan as an error, rescans the others it held on a replacement, and carries on.
 *
 * Processes rather than worker threads: an abort in a worker thread takes the whole process down with it.
 *
 * Files travel in batches: one message carries many paths (the worker opens and reads each file itself) and one
 * reply carries their verdicts, so the per-sample cost is the scan, not two IPC round trips. Which sample of a
 * batch is running is recorded in a small file shared with the worker (see `Progress`), read only when the worker
 * dies or overruns its time.
 */
import type { ChildProcess } from "node:child_process";
import { closeSync, readSync } from "node:fs";
import { stat } from "node:fs/promises";
import { Codes } from "../diagnostics/index.js";
import type { CompiledRuleSet } from "./compile.js";
import { SCAN_POOL_LIMITS } from "./limits.js";
import {
  decodeProgress,
  type FromWorker,
  PROGRESS_BYTES,
  type Progress,
  pathOf,
  type ScanTarget,
  type ToWorker,
} from "./protocol.js";
import type { ScanLimits } from "./sample.js";
import type { Verdict } from "./verdict.js";
import { forkScanWorker } from "./worker-process.js";

/**
 * Batches sent ahead to each worker, so it never waits for the parent between two. If a worker dies, only the
 * sample it was running failed; every other sample it held is requeued.
 */
const PIPELINE_DEPTH = 2;
/**
 * Most files in one batch. Batches are cut smaller when the queue is short, so the last files of a run spread over
 * every worker rather than waiting behind one.
 */
const MAX_BATCH = 64;
/**
 * Times a sample goes back to the queue from workers that died before starting on it, before it fails: a worker
 * that dies before every batch (it is never charged a sample) must not take the queue round for ever.
 */
const MOST_REQUEUES = 3;
/** Extra time a worker gets beyond the scan timeout before the pool kills it. */
const KILL_GRACE_MS = 5_000;

const STDERR_TAIL = 4096;

interface PoolJob {
  readonly target: ScanTarget;
  readonly limits: ScanLimits;
  readonly rules: CompiledRuleSet;
  /** Size known before the scan (from lstat), reported if the worker dies. */
  readonly knownSize: number;
}

interface Pending {
  readonly job: PoolJob;
  readonly started: number;
  readonly resolve: (verdict: Verdict) => void;
  /** Set by `runTogether`: the scans queued together, which travel in one batch. */
  readonly together?: number;
  /** How often a worker that died holding it, before it started on it, put it back in the queue. */
  requeues?: number;
}

interface Batch {
  readonly batchId: number;
  readonly items: readonly Pending[];
  /** When the batch reached the head of its worker's queue (it was then running). */
  runningSince: number;
}

interface Worker {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  /** Descriptor of the progress record shared with the worker (undefined if it could not be created). */
  readonly progressFd: number | undefined;
  /** The rule set last sent to this worker (messages are ordered, so later scans see it). */
  rulesId?: string;
  /** Batches sent to this worker, in order; the first is running, the rest wait in its message queue. */
  readonly inflight: Batch[];
  timer?: NodeJS.Timeout;
  stderr: string;
  dead: boolean;
  /** Killed by the pool for overrunning the timeout (not a crash). */
  killedByPool: boolean;
  /** The worker said it was ready (a worker that dies before that failed to start). */
  started: boolean;
}

export interface PoolStats {
  readonly workers: number;
  readonly crashes: number;
  readonly killedForTimeout: number;
  readonly started: number;
}

export class ScanPool {
  private readonly workers: Worker[] = [];
  private readonly queue: Pending[] = [];
  private nextBatchId = 1;
  private closed = false;
  private crashes = 0;
  private killedForTimeout = 0;
  private startedWorkers = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1 || size > SCAN_POOL_LIMITS.maxWorkers)
      throw new Error(`scan pool size must be an integer from 1 to ${SCAN_POOL_LIMITS.maxWorkers}, got ${size}`);
  }

  /** Runs one scan on a worker; always resolves to a verdict (a crash or kill becomes an `error` verdict). */
  run(job: PoolJob): Promise<Verdict> {
    if (this.closed) return Promise.reject(new Error("the scan pool is closed"));
    return new Promise((resolve) => {
      this.queue.push({ job, started: performance.now(), resolve });
      this.dispatch();
    });
  }

  /** Forks `count` workers (default: every one) now; rules follow with the first scan. */
  start(count = this.size): void {
    if (this.closed) return;
    while (this.workers.length < Math.min(count, this.size)) this.spawn();
  }

  /** Forks every worker now and has each load YARA-X and the rules at once (a server calls this at start). */
  async warmUp(rules: CompiledRuleSet): Promise<void> {
    while (this.workers.length < this.size) this.spawn();
    await Promise.all(
      this.workers.map(async (worker) => {
        await worker.ready;
        if (!worker.dead && worker.rulesId !== rules.id) this.sendRules(worker, rules, true);
      }),
    );
  }

  /**
   * Whether a started worker has room for another batch and nothing waits in the queue: a caller doing work itself
   * (scanPaths reading on its own thread) hands some over then, so the worker never waits for it.
   */
  wantsWork(): boolean {
    return (
      this.queue.length === 0 && this.workers.some((w) => w.started && !w.dead && w.inflight.length < PIPELINE_DEPTH)
    );
  }

  /**
   * Runs file scans as one batch (up to MAX_BATCH files; more make several), for a caller that sizes its batches
   * itself: scanPaths reading on its own thread hands its worker a few large files at a time, enough to keep it busy
   * until that thread next looks at its replies.
   */
  runTogether(jobs: readonly PoolJob[]): Promise<Verdict>[] {
    if (this.closed) return jobs.map(() => Promise.reject(new Error("the scan pool is closed")));
    const together = this.nextBatchId++;
    const verdicts = jobs.map(
      (job) =>
        new Promise<Verdict>((resolve) => {
          this.queue.push({ job, started: performance.now(), resolve, together });
        }),
    );
    this.dispatch();
    return verdicts;
  }

  stats(): PoolStats {
    return {
      workers: this.workers.length,
      crashes: this.crashes,
      killedForTimeout: this.killedForTimeout,
      started: this.startedWorkers,
    };
  }

  /** Process ids of the live workers (for memory accounting in the benchmark). */
  pids(): number[] {
    return this.workers.flatMap((w) => (w.child.pid !== undefined && !w.dead ? [w.child.pid] : []));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) pending.resolve(failure(pending, "the scan pool was closed"));
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((done) => {
            if (w.dead) return done();
            w.child.once("exit", () => done());
            // A worker holding nothing (perhaps still starting: it would finish loading first) is simply ended.
            if (w.inflight.length === 0) return w.child.kill("SIGKILL");
            w.child.disconnect?.();
            setTimeout(() => w.child.kill("SIGKILL"), 2_000).unref();
          }),
      ),
    );
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const live = this.workers.filter((w) => !w.dead);
      let worker = live.find((w) => w.inflight.length === 0);
      if (!worker && this.workers.length < this.size) worker = this.spawn();
      worker ??= live
        .filter((w) => w.inflight.length < PIPELINE_DEPTH)
        .sort((a, b) => a.inflight.length - b.inflight.length)[0];
      if (!worker) return;
      this.assign(worker, this.takeBatch(worker));
    }
  }

  /**
   * The next batch from the queue: consecutive file scans with the same rules and limits (a buffer travels alone:
   * it carries its bytes). Its size is a share of the queue, so the work stays spread over every worker.
   */
  private takeBatch(worker: Worker): Batch {
    const first = this.queue.shift() as Pending;
    const items = [first];
    // Without a progress record a crash could not be charged to the right sample: one per batch then.
    if (first.job.target.kind === "path" && worker.progressFd !== undefined) {
      const share = Math.ceil(this.queue.length / (this.size * PIPELINE_DEPTH));
      const most = first.together !== undefined ? MAX_BATCH : Math.min(MAX_BATCH, Math.max(1, share));
      while (items.length < most) {
        const next = this.queue[0];
        if (next?.job.target.kind !== "path" || next.together !== first.together) break;
        if (next.job.rules !== first.job.rules || next.job.limits !== first.job.limits) break;
        items.push(this.queue.shift() as Pending);
      }
    }
    return { batchId: this.nextBatchId++, items, runningSince: performance.now() };
  }

  private assign(worker: Worker, batch: Batch): void {
    worker.inflight.push(batch);
    const [first] = batch.items as [Pending];
    void worker.ready.then(() => {
      if (worker.dead || !worker.inflight.includes(batch)) return;
      if (worker.rulesId !== first.job.rules.id) this.sendRules(worker, first.job.rules);
      send(worker, {
        type: "scan",
        batchId: batch.batchId,
        targets: batch.items.map((p) => p.job.target),
        limits: first.job.limits,
      });
      if (worker.inflight[0] === batch) this.startTimer(worker);
    });
  }

  /**
   * The kill timer watches the sample running at the head of the worker's queue: each sample gets the scan timeout
   * plus a grace period, counted from when the worker started it (read from the progress record).
   */
  private startTimer(worker: Worker): void {
    if (worker.timer) clearTimeout(worker.timer);
    worker.timer = undefined;
    const head = worker.inflight[0];
    if (!head) return;
    head.runningSince = performance.now();
    const allowance = (head.items[0] as Pending).job.limits.timeoutMs + KILL_GRACE_MS;
    const check = (wait: number): void => {
      worker.timer = setTimeout(
        () => {
          if (worker.dead || worker.inflight[0] !== head) return;
          const progress = readProgress(worker);
          const startedAgo =
            progress?.batchId === head.batchId
              ? Date.now() - progress.startedAt
              : performance.now() - head.runningSince;
          if (startedAgo < allowance) return check(allowance - startedAgo);
          this.killedForTimeout++;
          worker.killedByPool = true;
          worker.child.kill("SIGKILL");
        },
        Math.max(1, wait),
      );
    };
    check(allowance);
  }

  /** `loadNow`: the worker loads YARA-X and the rules at once (warm-up), else when a sample first needs them. */
  private sendRules(worker: Worker, rules: CompiledRuleSet, loadNow = false): void {
    const message: ToWorker = {
      type: "rules",
      id: rules.id,
      source: rules.serialized ? "" : rules.source,
      externals: rules.externals,
      ...(rules.serialized ? { serialized: rules.serialized } : {}),
      ...(rules.prefilter ? { prefilter: rules.prefilter } : {}),
      ...(loadNow ? { loadNow } : {}),
    };
    send(worker, message);
    worker.rulesId = rules.id;
  }

  private spawn(): Worker {
    const { child, progressFd, ready: childReady } = forkScanWorker();
    this.startedWorkers++;
    let markReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    const worker: Worker = {
      child,
      ready,
      progressFd,
      inflight: [],
      stderr: "",
      dead: false,
      killedByPool: false,
      started: false,
    };
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      worker.stderr = (worker.stderr + chunk).slice(-STDERR_TAIL);
    });
    void childReady.then(() => {
      if (worker.dead) return;
      worker.started = true;
      markReady();
    });
    child.on("message", (message: FromWorker) => {
      if (message.type === "ready") return;
      const batch = worker.inflight.find((b) => b.batchId === message.batchId);
      if (!batch) return;
      const verdicts = batch.items.map((pending, i) =>
        message.type === "result"
          ? (message.verdicts[i] ?? failure(pending, "the scan worker returned no verdict"))
          : failure(pending, message.message),
      );
      this.finish(worker, batch, verdicts);
    });
    child.on("exit", (code, signal) => {
      worker.dead = true;
      markReady();
      this.workers.splice(this.workers.indexOf(worker), 1);
      if (worker.timer) clearTimeout(worker.timer);
      const progress = readProgress(worker);
      if (worker.progressFd !== undefined) closeSync(worker.progressFd);
      const [running, ...waiting] = worker.inflight.splice(0);
      // The sample the worker was running failed: the one its progress record names (the batch and the sample it
      // started last). A running batch the record does not name was never started (the worker died after replying to
      // the one before, e.g. killed while it waited): none of its samples is to blame. A worker that failed to start
      // fails the first sample it was given. Every other sample it held (done but not yet reported, or not started)
      // goes back to the front of the pool's queue, in order; one put back MOST_REQUEUES times fails instead.
      let index = -1;
      if (running && !worker.started) index = 0;
      else if (running && progress?.batchId === running.batchId) index = progress.index;
      const failed = running?.items[index];
      const held = [...(running?.items.filter((_, i) => i !== index) ?? []), ...waiting.flatMap((b) => b.items)];
      const requeued: Pending[] = [];
      for (const pending of held) {
        pending.requeues = (pending.requeues ?? 0) + 1;
        if (pending.requeues < MOST_REQUEUES || this.closed) requeued.push(pending);
        else
          pending.resolve(
            failure(
              pending,
              `the scan worker died ${MOST_REQUEUES} times while it held this sample, before scanning it`,
            ),
          );
      }
      this.queue.unshift(...requeued);
      if (failed) {
        if (this.closed) {
          // Closed by the caller while it ran: its answer cannot come back (the channel is closed), and nothing crashed.
          failed.resolve(failure(failed, "the scan pool was closed"));
        } else {
          if (!worker.killedByPool) this.crashes++;
          const reason = worker.started
            ? crashReason(failed, code, signal, worker.stderr, worker.killedByPool)
            : `the scan worker failed to start (${signal ? `signal ${signal}` : `exit code ${String(code)}`}): ${lastLine(worker.stderr)}`;
          void failureWithSize(failed, reason).then(failed.resolve);
        }
      }
      if (this.closed)
        for (const pending of this.queue.splice(0)) pending.resolve(failure(pending, "the scan pool was closed"));
      else this.dispatch();
    });
    child.on("error", () => {
      // Reported through 'exit'; a fork that fails to start leaves no pending scan hanging.
    });
    this.workers.push(worker);
    return worker;
  }

  private finish(worker: Worker, batch: Batch, verdicts: readonly Verdict[]): void {
    const index = worker.inflight.indexOf(batch);
    if (index >= 0) worker.inflight.splice(index, 1);
    if (index === 0) this.startTimer(worker);
    for (const [i, pending] of batch.items.entries())
      pending.resolve(withRuleFiles(verdicts[i] as Verdict, pending.job.rules.ruleFiles));
    if (!this.closed) this.dispatch();
  }
}

function readProgress(worker: Worker): Progress | undefined {
  if (worker.progressFd === undefined) return undefined;
  const record = Buffer.alloc(PROGRESS_BYTES);
  try {
    return decodeProgress(record.subarray(0, readSync(worker.progressFd, record, 0, PROGRESS_BYTES, 0)));
  } catch {
    return undefined;
  }
}

function crashReason(
  pending: Pending,
  code: number | null,
  signal: NodeJS.Signals | null,
  stderr: string,
  killedByPool: boolean,
): string {
  if (killedByPool) {
    return `scan timed out: the scan worker overran ${pending.job.limits.timeoutMs} ms and was killed`;
  }
  const panic = /panicked at [^\n]*\n([^\n]*)/.exec(stderr);
  const detail = panic ? `: ${panic[1]?.trim()}` : "";
  const how = signal ? `signal ${signal}` : `exit code ${String(code)}`;
  return `YARA-X crashed while scanning this sample (scan worker died with ${how}${detail}); the worker was replaced`;
}

/**
 * Sends to a worker. A worker that died in between cannot take it: its 'exit' handler fails or requeues what it
 * held, so a failed send is dropped here rather than thrown (an unhandled rejection would end the service).
 */
function send(worker: Worker, message: ToWorker): void {
  if (!worker.child.connected) return;
  try {
    worker.child.send(message, (error) => {
      if (error) worker.child.kill("SIGKILL");
    });
  } catch {
    worker.child.kill("SIGKILL");
  }
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1) ?? "";
}

/** A failure verdict; for a file whose size the walk did not stat, the size comes from the file system. */
async function failureWithSize(pending: Pending, message: string): Promise<Verdict> {
  const verdict = failure(pending, message);
  const target = pending.job.target;
  if (target.kind !== "path" || pending.job.knownSize > 0) return verdict;
  const info = await stat(pathOf(target)).catch(() => undefined);
  return info ? { ...verdict, size: info.size } : verdict;
}

function failure(pending: Pending, message: string): Verdict {
  const target = pending.job.target;
  return {
    verdict: "error",
    sha256: null,
    size: pending.job.knownSize,
    ...(target.kind === "path" ? { path: target.displayPath } : {}),
    matches: [],
    error: { code: Codes.YaraScan, message },
    ruleset: pending.job.rules.id,
    durationMs: performance.now() - pending.started,
  };
}

/** The verdict with each match's rule file (the worker knows the compiled rules, not the files they came from). */
function withRuleFiles(verdict: Verdict, ruleFiles: Readonly<Record<string, string>>): Verdict {
  if (verdict.matches.length === 0) return verdict;
  return {
    ...verdict,
    matches: verdict.matches.map((m) => {
      const file = Object.hasOwn(ruleFiles, m.rule) ? ruleFiles[m.rule] : undefined;
      return file === undefined ? m : { ...m, file };
    }),
  };
}
