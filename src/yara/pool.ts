/**
 * A pool of scan worker processes. Scans never run on the caller's event loop, and a worker that dies (YARA-X
 * aborts the whole process on some rule conditions, e.g. a division overflow) fails only the scan it was running:
 * the pool reports that scan as an error and forks a replacement for the next one.
 *
 * Processes rather than worker threads: an abort in a worker thread takes the whole process down with it.
 */
import { type ChildProcess, fork } from "node:child_process";
import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Codes } from "../diagnostics/index.js";
import type { CompiledRuleSet } from "./compile.js";
import type { FromWorker, ScanTarget, ToWorker } from "./protocol.js";
import type { ScanLimits } from "./sample.js";
import type { Verdict } from "./verdict.js";

/**
 * Scans sent ahead to each worker, so it never waits for the parent between two samples. If a worker dies, only
 * the first (running) one failed; the others are requeued.
 */
const PIPELINE_DEPTH = 2;
/** Extra time a worker gets beyond the scan timeout before the pool kills it. */
const KILL_GRACE_MS = 5_000;
const STDERR_TAIL = 4096;

export interface PoolJob {
  readonly target: ScanTarget;
  readonly limits: ScanLimits;
  readonly rules: CompiledRuleSet;
  /** Size known before the scan (from lstat), reported if the worker dies. */
  readonly knownSize: number;
}

interface Pending {
  readonly jobId: number;
  readonly job: PoolJob;
  readonly started: number;
  readonly resolve: (verdict: Verdict) => void;
}

interface Worker {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  /** The rule set last sent to this worker (messages are ordered, so later scans see it). */
  rulesId?: string;
  /** Scans sent to this worker, in order; the first is running, the rest wait in its message queue. */
  readonly inflight: Pending[];
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
  private nextJobId = 1;
  private closed = false;
  private crashes = 0;
  private killedForTimeout = 0;
  private startedWorkers = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`scan pool size must be a positive integer, got ${size}`);
  }

  /** Runs one scan on a worker; always resolves to a verdict (a crash or kill becomes an `error` verdict). */
  run(job: PoolJob): Promise<Verdict> {
    if (this.closed) return Promise.reject(new Error("the scan pool is closed"));
    return new Promise((resolve) => {
      this.queue.push({ jobId: this.nextJobId++, job, started: performance.now(), resolve });
      this.dispatch();
    });
  }

  /** Forks every worker now and loads the rules into each (a server calls this at start). */
  async warmUp(rules: CompiledRuleSet): Promise<void> {
    while (this.workers.length < this.size) this.spawn();
    await Promise.all(
      this.workers.map(async (worker) => {
        await worker.ready;
        if (!worker.dead && worker.rulesId !== rules.id) this.sendRules(worker, rules);
      }),
    );
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
      this.assign(worker, this.queue.shift() as Pending);
    }
  }

  private assign(worker: Worker, pending: Pending): void {
    worker.inflight.push(pending);
    const { job } = pending;
    void worker.ready.then(() => {
      if (worker.dead || !worker.inflight.includes(pending)) return;
      if (worker.rulesId !== job.rules.id) this.sendRules(worker, job.rules);
      send(worker, { type: "scan", jobId: pending.jobId, target: job.target, limits: job.limits });
      if (worker.inflight[0] === pending) this.startTimer(worker);
    });
  }

  /** The kill timer runs for the scan at the head of the worker's queue (the one running). */
  private startTimer(worker: Worker): void {
    if (worker.timer) clearTimeout(worker.timer);
    const head = worker.inflight[0];
    worker.timer = head
      ? setTimeout(() => {
          this.killedForTimeout++;
          worker.killedByPool = true;
          worker.child.kill("SIGKILL");
        }, head.job.limits.timeoutMs + KILL_GRACE_MS)
      : undefined;
  }

  private sendRules(worker: Worker, rules: CompiledRuleSet): void {
    const message: ToWorker = {
      type: "rules",
      id: rules.id,
      source: rules.serialized ? "" : rules.source,
      externals: rules.externals,
      ...(rules.serialized ? { serialized: rules.serialized } : {}),
    };
    send(worker, message);
    worker.rulesId = rules.id;
  }

  private spawn(): Worker {
    const { file, execArgv } = workerEntry();
    const child = fork(file, [], {
      execArgv,
      serialization: "advanced",
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      env: { ...process.env, RUST_BACKTRACE: "0" },
    });
    this.startedWorkers++;
    let markReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    const worker: Worker = { child, ready, inflight: [], stderr: "", dead: false, killedByPool: false, started: false };
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      worker.stderr = (worker.stderr + chunk).slice(-STDERR_TAIL);
    });
    child.on("message", (message: FromWorker) => {
      if (message.type === "ready") {
        worker.started = true;
        return markReady();
      }
      const pending = worker.inflight.find((p) => p.jobId === message.jobId);
      if (!pending) return;
      this.finish(worker, pending, message.type === "result" ? message.verdict : failure(pending, message.message));
    });
    child.on("exit", (code, signal) => {
      worker.dead = true;
      markReady();
      this.workers.splice(this.workers.indexOf(worker), 1);
      if (worker.timer) clearTimeout(worker.timer);
      const [running, ...waiting] = worker.inflight.splice(0);
      // Scans that were queued behind the one that died never ran: they go back to the pool's queue.
      this.queue.unshift(...waiting);
      if (running) {
        if (!worker.killedByPool) this.crashes++;
        const reason = worker.started
          ? crashReason(running, code, signal, worker.stderr, worker.killedByPool)
          : `the scan worker failed to start (${signal ? `signal ${signal}` : `exit code ${String(code)}`}): ${lastLine(worker.stderr)}`;
        void failureWithSize(running, reason).then(running.resolve);
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

  private finish(worker: Worker, pending: Pending, verdict: Verdict): void {
    const index = worker.inflight.indexOf(pending);
    if (index >= 0) worker.inflight.splice(index, 1);
    if (index === 0) this.startTimer(worker);
    pending.resolve(verdict);
    if (!this.closed) this.dispatch();
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
  const info = await stat(target.path).catch(() => undefined);
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

/** The worker script beside this module: compiled `.js` in dist, or `.ts` through tsx when running from source. */
function workerEntry(): { file: string; execArgv: string[] } {
  const js = fileURLToPath(new URL("./worker.js", import.meta.url));
  if (existsSync(js)) return { file: js, execArgv: [] };
  // Running from source (tests, tsx): load the TypeScript worker through tsx, resolved from here, not from the cwd.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  return { file: fileURLToPath(new URL("./worker.ts", import.meta.url)), execArgv: ["--import", tsx] };
}
