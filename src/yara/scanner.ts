/**
 * The local YARA-X matcher: scan a buffer, a file, a stream, or directories (recursive, results streamed as they
 * complete), against the compiled `rules/*.yar`, in a pool of worker processes so the caller's event loop stays
 * free and an engine crash fails one scan, not the service.
 */
import { createWriteStream } from "node:fs";
import { lstat, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Diagnostic } from "../diagnostics/index.js";
import { Codes } from "../diagnostics/index.js";
import type { ExternalValue } from "./binding.js";
import { type CompiledRuleSet, YaraRuleCache } from "./compile.js";
import { compileYaraRulesOffThread } from "./compile-thread.js";
import { Completions } from "./completions.js";
import { SCAN_POOL_LIMITS, scanTimeoutProblem } from "./limits.js";
import { type PoolStats, ScanPool } from "./pool.js";
import { SampleScanner, type ScanLimits } from "./sample.js";
import { scanPathsReadingHere } from "./scan-here.js";
import type { Verdict } from "./verdict.js";
import { type FsPath, reasonOf, walkSamples } from "./walk.js";

const DEFAULT_MAX_SAMPLE_SIZE = 1024 * 1024 * 1024;
const DEFAULT_SCAN_TIMEOUT_MS = 60_000;

interface ScannerOptions {
  /** Rule files or directories (compiled once, recompiled when a file changes), or a rule set compiled already. */
  readonly rules: readonly string[] | CompiledRuleSet;
  readonly externals?: Readonly<Record<string, ExternalValue>>;
  /** Worker processes; default: the machine's available parallelism. */
  readonly workers?: number;
  /** Bytes; larger samples get a `skipped` verdict. Default 1 GiB. */
  readonly maxSampleSize?: number;
  /** Per-sample scan timeout in milliseconds: whole seconds, from 1 s to 24 d (scanTimeoutProblem). Default 60 s. */
  readonly timeoutMs?: number;
  /** How often, at most, rule files are checked for changes before a scan. Default 1000 ms; 0: every call. */
  readonly ruleCheckIntervalMs?: number;
  /** `always` (default) or `on-match`: hash only matching samples (bulk sweeps; hashing dominates scan cost). */
  readonly sha256?: "always" | "on-match";
  /** Fork the workers at once, while the rules compile, rather than on the first scan (a one-shot CLI run). */
  readonly startWorkersNow?: boolean;
  /**
   * Compile on the caller's thread rather than in a short-lived child process. For a one-shot CLI run, where no
   * event loop serves anything meanwhile: it saves starting one more Node process (~0.1–0.2 s of CPU). Default false.
   */
  readonly compileOnThisThread?: boolean;
  /**
   * When the rules have an exact prefilter (prefilter.ts), read the files of `scanPaths` on the caller's thread,
   * synchronously, and send only the candidates to the worker processes (with startWorkersNow, one starts at once). For a one-shot
   * CLI run, where nothing else waits on the event loop: most files of a tree are then settled without a worker
   * process, an IPC message or a YARA-X call. Default false (a service keeps its event loop free).
   */
  readonly prefilterOnThisThread?: boolean;
  /** Keep compiled rules in the user's private cache across runs (a one-shot CLI run; see compiled-cache.ts). */
  readonly cacheCompiledRules?: boolean;
  /**
   * Makes the private folder a large buffer or a stream is spooled into. The service passes its owner-named
   * folders (src/store/temp-folder.ts, which this layer may not import), so that a start after a kill removes
   * them; by default a plain private folder in os.tmpdir().
   */
  readonly tempFolder?: () => Promise<ScanTempFolder>;
}

/** A private temporary folder, removed (with what it holds) by `remove()`. */
export interface ScanTempFolder {
  readonly path: string;
  remove(): Promise<void>;
}

export interface Scanner {
  /** Scans one file (a symlink given here is resolved: the caller named it). */
  scanFile(filePath: string): Promise<Verdict>;
  scanBuffer(data: Uint8Array): Promise<Verdict>;
  /** Spools the stream to a private temporary file (size-limited), scans it, deletes it. */
  scanStream(stream: Readable | AsyncIterable<Uint8Array>): Promise<Verdict>;
  /** Files and directories, recursively; one verdict per file, yielded as scans complete. */
  scanPaths(paths: readonly string[]): AsyncGenerator<Verdict>;
  /** The current rule set (recompiled first if a rule file changed). */
  rules(): Promise<CompiledRuleSet>;
  /**
   * Why the rule files are not the rule set in use (a broken file dropped in: the last good set stays in use), after
   * checking them for changes; empty when all is well.
   */
  ruleProblems(): Promise<readonly Diagnostic[]>;
  readonly limits: ScanLimits;
  stats(): PoolStats;
  /** Starts every worker and loads the rules into it now, rather than on first use. */
  warmUp(): Promise<void>;
  workerPids(): number[];
  close(): Promise<void>;
}

/** Compiles the rules (failing with file:line:column diagnostics) and returns a scanner; workers start on the first scan (or now, with startWorkersNow). */
export async function createScanner(options: ScannerOptions): Promise<Scanner> {
  const timeoutProblem = options.timeoutMs === undefined ? undefined : scanTimeoutProblem(options.timeoutMs);
  if (timeoutProblem) throw new RangeError(timeoutProblem);
  const given = options.rules;
  const cache = isRuleSet(given)
    ? undefined
    : new YaraRuleCache(
        given,
        { externals: options.externals ?? {}, ...(options.cacheCompiledRules ? { cacheCompiled: true } : {}) },
        options.ruleCheckIntervalMs ?? 1000,
        // Compiled in a child process: a large rule set never blocks the caller's event loop.
        options.compileOnThisThread ? undefined : compileYaraRulesOffThread,
      );
  const currentRules = async (): Promise<CompiledRuleSet> => (cache ? cache.current() : (given as CompiledRuleSet));
  const cpus = Math.min(Math.max(1, os.availableParallelism()), SCAN_POOL_LIMITS.maxWorkers);
  let pool: ScanPool;
  if (options.prefilterOnThisThread) {
    // The rules first: with a prefilter, this thread does a worker's share, so one worker fewer is started.
    const rules = await currentRules();
    pool = new ScanPool(options.workers ?? (rules.prefilter ? Math.max(1, cpus - 1) : cpus));
    if (options.startWorkersNow) pool.start();
  } else {
    pool = new ScanPool(options.workers ?? cpus);
    if (options.startWorkersNow) pool.start();
    try {
      await currentRules();
    } catch (error) {
      await pool.close();
      throw error;
    }
  }
  const limits: ScanLimits = {
    maxSampleSize: options.maxSampleSize ?? DEFAULT_MAX_SAMPLE_SIZE,
    timeoutMs: options.timeoutMs ?? DEFAULT_SCAN_TIMEOUT_MS,
    sha256: options.sha256 ?? "always",
  };
  const tempFolder = options.tempFolder ?? plainTempFolder;

  const scanResolvedFile = (rules: CompiledRuleSet, realPath: FsPath, shown: string, size: number) =>
    pool.run({ target: { kind: "path", path: realPath, displayPath: shown }, limits, rules, knownSize: size });

  const scanner: Scanner = {
    limits,
    rules: currentRules,
    ruleProblems: async () => {
      await currentRules();
      return cache?.problems() ?? [];
    },
    stats: () => pool.stats(),
    warmUp: async () => pool.warmUp(await currentRules()),
    workerPids: () => pool.pids(),
    close: () => pool.close(),

    async scanFile(filePath) {
      const rules = await currentRules();
      const info = await lstat(filePath).catch(() => undefined);
      // The common case, a regular file named directly: no realpath or second stat. The worker opens it by the path
      // resolved here: a relative one would be resolved against the worker's own folder, not the caller's.
      if (info?.isFile()) return scanResolvedFile(rules, path.resolve(filePath), filePath, info.size);
      // A directory, or a link to one: not one sample (the walk below would give one of its files' verdicts).
      const target = info?.isSymbolicLink() ? await stat(filePath).catch(() => undefined) : info;
      if (target?.isDirectory()) {
        return notScanned(rules, filePath, 0, { kind: "error", reason: "is a directory (scan it with scanPaths)" });
      }
      for await (const entry of walkSamples([filePath])) {
        if (entry.kind === "file") return scanResolvedFile(rules, entry.realPath, filePath, entry.size);
        return notScanned(rules, entry.path, entry.kind === "skip" ? entry.size : 0, entry);
      }
      return notScanned(rules, filePath, 0, { kind: "error", reason: "nothing to scan" });
    },

    async scanBuffer(data) {
      const rules = await currentRules();
      if (data.length <= INLINE_BUFFER_LIMIT || data.length > limits.maxSampleSize) {
        return pool.run({ target: { kind: "bytes", data }, limits, rules, knownSize: data.length });
      }
      // Large buffers go through a private temporary file (written off the event loop) rather than being
      // serialised into the IPC channel on this thread.
      return withSpool(tempFolder, async (spool) => {
        await writeFile(spool, data, { mode: 0o600, flag: "wx" });
        const { path: _spool, ...verdict } = await scanResolvedFile(rules, spool, spool, data.length);
        return verdict;
      });
    },

    async scanStream(stream) {
      const rules = await currentRules();
      let written = 0;
      const limit = async function* (source: AsyncIterable<Uint8Array>) {
        for await (const chunk of source) {
          written += chunk.length;
          if (written > limits.maxSampleSize) throw new SampleTooLarge(written);
          yield chunk;
        }
      };
      try {
        return await withSpool(tempFolder, async (spool) => {
          await pipeline(stream, limit, createWriteStream(spool, { mode: 0o600, flags: "wx" }));
          const { path: _spool, ...verdict } = await scanResolvedFile(rules, spool, spool, written);
          return verdict;
        });
      } catch (error) {
        if (!(error instanceof SampleTooLarge)) throw error;
        return {
          verdict: "skipped",
          sha256: null,
          size: error.size,
          matches: [],
          error: {
            code: Codes.YaraLimit,
            message: `sample is over the maximum sample size of ${limits.maxSampleSize} bytes (stopped reading at ${error.size})`,
          },
          ruleset: rules.id,
          durationMs: 0,
        };
      }
    },

    async *scanPaths(paths) {
      const rules = await currentRules();
      if (options.prefilterOnThisThread && rules.prefilter) {
        const here = new SampleScanner(undefined, rules.id, rules.prefilter);
        yield* scanPathsReadingHere(paths, {
          here,
          pool,
          rules,
          limits,
          notScanned: (entry) => notScanned(rules, entry.path, entry.size ?? 0, entry),
        });
        return;
      }
      // Enough files in flight for every worker to hold full batches; verdicts are yielded as they complete.
      const window = pool.size * PATHS_IN_FLIGHT_PER_WORKER;
      const verdicts = new Completions<Verdict>();
      for await (const entry of walkSamples(paths)) {
        if (entry.kind !== "file") {
          yield notScanned(rules, entry.path, entry.kind === "skip" ? entry.size : 0, entry);
          continue;
        }
        verdicts.add(scanResolvedFile(rules, entry.realPath, entry.path, entry.size), (error) =>
          notScanned(rules, entry.path, entry.size, { kind: "error", reason: reasonOf(error) }),
        );
        if (verdicts.inflight >= window) await verdicts.oneSettled();
        yield* verdicts.take();
      }
      yield* verdicts.rest();
    },
  };
  return scanner;
}

/** Files a directory scan keeps in flight per worker (two full batches of 64, and the next ones ready). */
const PATHS_IN_FLIGHT_PER_WORKER = 256;

/** Buffers up to this size travel to the worker inside the IPC message; larger ones through a temporary file. */
const INLINE_BUFFER_LIMIT = 4 * 1024 * 1024;

/** A plain private folder in os.tmpdir() (a caller that sweeps its temporary files passes its own). */
async function plainTempFolder(): Promise<ScanTempFolder> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "shmhunt-sample-"));
  return { path: dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs `use` with a fresh private path in a folder of its own, removed afterwards whatever happens. */
async function withSpool<T>(tempFolder: () => Promise<ScanTempFolder>, use: (spool: string) => Promise<T>): Promise<T> {
  const folder = await tempFolder();
  try {
    return await use(path.join(folder.path, "sample"));
  } finally {
    await folder.remove();
  }
}

class SampleTooLarge extends Error {
  constructor(readonly size: number) {
    super(`sample over the size limit at ${size} bytes`);
  }
}

function notScanned(
  rules: CompiledRuleSet,
  shown: string,
  size: number,
  entry: { kind: "skip" | "error"; reason: string },
): Verdict {
  return {
    verdict: entry.kind === "skip" ? "skipped" : "error",
    sha256: null,
    size,
    path: shown,
    matches: [],
    error: { code: entry.kind === "skip" ? Codes.YaraLimit : Codes.YaraScan, message: entry.reason },
    ruleset: rules.id,
    durationMs: 0,
  };
}

function isRuleSet(value: readonly string[] | CompiledRuleSet): value is CompiledRuleSet {
  return !Array.isArray(value);
}
