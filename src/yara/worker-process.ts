/**
 * Starting a scan worker process (worker.ts): the fork, its environment and its progress record. Also the one
 * worker a one-shot CLI run may start before anything else (`prestartScanWorker`): Node's own start-up and YARA-X's
 * binding take a worker ~0.15 s of CPU, which then runs on the second core while the CLI process loads its modules,
 * rather than after. The scan pool adopts it as its first worker; a run that never needs it kills it when it ends.
 *
 * Only node: built-ins (and the one module of them that makes a child's environment) are imported here, so the CLI
 * can call this before loading anything else.
 */
import { type ChildProcess, fork } from "node:child_process";
import { closeSync, constants, existsSync, openSync, unlinkSync } from "node:fs";
import { createRequire } from "node:module";
import type { Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { localChildEnvironment } from "../processes/child-environment.js";
import type { FromWorker } from "./protocol.js";

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Descriptor of the progress record shared with the worker as its fd 4 (undefined if it could not be made). */
  readonly progressFd: number | undefined;
  /**
   * Resolves when the worker says it is ready, and never if it dies first. Listened for from the fork on: a
   * prestarted worker may say so before the pool adopts it, and a message nobody listens for is lost.
   */
  readonly ready: Promise<void>;
}

let prestarted: WorkerProcess | undefined;

/**
 * Forks one scan worker now, for the scan pool to adopt later (`forkScanWorker` hands it over). Until then it holds
 * no reference on this process's event loop, and it is killed when this process exits.
 */
export function prestartScanWorker(): void {
  if (prestarted) return;
  const worker = startWorker();
  prestarted = worker;
  // Nothing of it may keep this process alive (a run that ends before adopting it, e.g. `scan --help`).
  keepsProcessAlive(worker.child, false);
  process.once("exit", () => {
    if (prestarted === worker) worker.child.kill("SIGKILL");
  });
}

/** A scan worker process: the one prestarted, if any, else a fresh fork. */
export function forkScanWorker(): WorkerProcess {
  const worker = prestarted;
  prestarted = undefined;
  if (!worker || worker.child.exitCode !== null || worker.child.signalCode !== null || !worker.child.connected) {
    if (worker) discard(worker);
    return startWorker();
  }
  keepsProcessAlive(worker.child, true);
  return worker;
}

/**
 * Whether a worker (its process, IPC channel and stderr pipe) holds this process's event loop open: not while it is
 * prestarted and unadopted; again once the pool adopts it.
 */
function keepsProcessAlive(child: ChildProcess, alive: boolean): void {
  const channel = child.channel as { ref?: () => void; unref?: () => void } | undefined;
  const stderr = child.stderr as Socket | null;
  if (alive) {
    child.ref();
    channel?.ref?.();
    stderr?.ref();
  } else {
    child.unref();
    channel?.unref?.();
    stderr?.unref();
  }
}

function discard(worker: WorkerProcess): void {
  worker.child.kill("SIGKILL");
  if (worker.progressFd !== undefined) closeSync(worker.progressFd);
}

function startWorker(): WorkerProcess {
  const { file, execArgv } = workerEntry();
  const progressFd = openProgressRecord();
  // The child's fd 4 (PROGRESS_FD) is the progress record; /dev/null when it could not be made, never left unset
  // (the worker's runtime could otherwise take that number for a descriptor of its own).
  const childFd = progressFd ?? openSync("/dev/null", "w");
  try {
    const child = fork(file, [], {
      execArgv,
      serialization: "advanced",
      stdio: ["ignore", "ignore", "pipe", "ipc", childFd],
      env: workerEnv(),
    });
    const ready = new Promise<void>((resolve) => {
      const listen = (message: FromWorker) => {
        if (message.type !== "ready") return;
        child.off("message", listen);
        resolve();
      };
      child.on("message", listen);
    });
    return { child, progressFd, ready };
  } finally {
    if (progressFd === undefined) closeSync(childFd);
  }
}

/**
 * The progress record shared with a worker: a private temporary file, unlinked as soon as it is open (nothing is
 * left behind, even after a kill). Undefined when it cannot be made; that worker then gets one sample per batch.
 * `O_EXCL` makes the name safe (no crypto module loaded for it: this runs before the CLI loads anything).
 */
function openProgressRecord(): number | undefined {
  for (let attempt = 0; attempt < 4; attempt++) {
    const unique = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const file = path.join(os.tmpdir(), `shmhunt-scan-progress-${unique}`);
    try {
      const fd = openSync(file, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      unlinkSync(file);
      return fd;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") return undefined;
    }
  }
  return undefined;
}

/**
 * The worker's environment: a local child's (no extra CA file parsed at its start, glibc's malloc asked to back the
 * sample buffer with transparent huge pages: src/processes/child-environment.ts), without Rust backtraces.
 */
function workerEnv(): NodeJS.ProcessEnv {
  return localChildEnvironment({ RUST_BACKTRACE: "0" });
}

/** The worker script beside this module: compiled `.js` in dist, or `.ts` through tsx when running from source. */
function workerEntry(): { file: string; execArgv: string[] } {
  const js = fileURLToPath(new URL("./worker.js", import.meta.url));
  if (existsSync(js)) return { file: js, execArgv: [] };
  // Running from source (tests, tsx): load the TypeScript worker through tsx, resolved from here, not from the cwd.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  return { file: fileURLToPath(new URL("./worker.ts", import.meta.url)), execArgv: ["--import", tsx] };
}
