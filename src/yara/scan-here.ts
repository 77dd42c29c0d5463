/**
 * A directory scan that reads on the caller's own thread: for a one-shot CLI run whose rules have an exact
 * prefilter (prefilter.ts), where no event loop serves anything meanwhile. Most files of a tree are then settled
 * here without an IPC message or a YARA-X call; the scan pool (a worker process, started early) takes a share of
 * the reading and every candidate the prefilter lets through.
 *
 * The share: the walk (synchronous: no promise per entry) fills a window of files, which are stat()ed and sorted by
 * size. This thread reads from the small end, the pool's worker is handed groups from the large end whenever it
 * has room for another batch, and the two meet in the middle. The largest files go to the worker, so this thread
 * never spends long on one file and answers the worker's replies promptly (it lets the event loop in every few
 * milliseconds, between two files).
 */
import { statSync } from "node:fs";
import type { CompiledRuleSet } from "./compile.js";
import type { ScanPool } from "./pool.js";
import type { SampleScanner, ScanLimits } from "./sample.js";
import type { Verdict } from "./verdict.js";
import { reasonOf, type WalkEntry, walkSamplesSync } from "./walk.js";

type FileEntry = Extract<WalkEntry, { kind: "file" }>;
/** An entry that gets no scan: skipped, or an error (of the walk, or of the pool). */
interface NotScanned {
  readonly kind: "skip" | "error";
  readonly path: string;
  readonly size?: number;
  readonly reason: string;
}

interface Sized {
  readonly entry: FileEntry;
  readonly size: number;
}

export interface ReadHere {
  /** Applies the prefilter here (a SampleScanner without YARA-X). */
  readonly here: SampleScanner;
  readonly pool: ScanPool;
  readonly rules: CompiledRuleSet;
  readonly limits: ScanLimits;
  /** The verdict of an entry that is not scanned (skipped, or an error the walk met). */
  readonly notScanned: (entry: NotScanned) => Verdict;
}

/** Files the walk gathers (and this thread sorts) at a time: bounds the memory of a walk over a huge tree. */
const WINDOW_FILES = 4096;
/** A group handed to the worker: up to this many bytes (at least one file) … */
const GROUP_BYTES = 32 * 1024 * 1024;
/** … and at most this many files. */
const GROUP_FILES = 64;
/** How long this thread reads before it lets the event loop take the worker's replies. */
const EVENT_LOOP_TURN_MS = 2;

/** Every file and skipped entry under `paths`, one verdict each, yielded as they complete. */
export async function* scanPathsReadingHere(paths: readonly string[], ctx: ReadHere): AsyncGenerator<Verdict> {
  const { here, pool, rules, limits } = ctx;
  const done: Verdict[] = [];
  let inflight = 0;
  let wake: (() => void) | undefined;
  const settle = (verdict: Verdict) => {
    inflight--;
    done.push(verdict);
    wake?.();
    wake = undefined;
  };
  const toPool = (files: readonly Sized[]) => {
    inflight += files.length;
    const verdicts = pool.runMany(
      files.map(({ entry, size }) => ({
        target: { kind: "path" as const, path: entry.realPath, displayPath: entry.path },
        limits,
        rules,
        knownSize: size,
      })),
    );
    verdicts.forEach((verdict, i) => {
      const { entry, size } = files[i] as Sized;
      verdict.then(settle, (error: unknown) =>
        settle(ctx.notScanned({ kind: "error", path: entry.path, size, reason: reasonOf(error) })),
      );
    });
  };

  const walk = walkSamplesSync(paths);
  let walking = true;
  let window: Sized[] = [];
  let lo = 0; // next file for this thread (small end)
  let hi = 0; // one past the next file for the worker (large end)
  let turn = performance.now();
  for (;;) {
    if (lo >= hi) {
      if (!walking) break;
      window = [];
      while (window.length < WINDOW_FILES) {
        const next = walk.next();
        if (next.done) {
          walking = false;
          break;
        }
        const entry = next.value;
        if (entry.kind === "file") window.push({ entry, size: entry.size || sizeOf(entry.realPath) });
        else yield ctx.notScanned(entry);
      }
      window.sort((a, b) => a.size - b.size);
      lo = 0;
      hi = window.length;
      continue;
    }
    while (lo < hi && pool.wantsWork()) {
      const group: Sized[] = [];
      let bytes = 0;
      while (lo < hi && group.length < GROUP_FILES && bytes < GROUP_BYTES) {
        const file = window[--hi] as Sized;
        group.push(file);
        bytes += file.size;
      }
      toPool(group);
    }
    if (lo < hi) {
      const file = window[lo++] as Sized;
      const settled = here.ruleOut(file.entry.realPath, limits, file.entry.path);
      if (settled) yield settled;
      else toPool([file]);
    }
    if (performance.now() - turn > EVENT_LOOP_TURN_MS) {
      // Let the worker's replies in (they are handled between two turns, not while this thread reads).
      await new Promise((resolve) => setImmediate(resolve));
      turn = performance.now();
    }
    while (done.length > 0) yield done.shift() as Verdict;
  }
  while (inflight > 0 || done.length > 0) {
    if (done.length === 0) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    while (done.length > 0) yield done.shift() as Verdict;
  }
}

/** The file's size, for the share only (the scan fstat()s what it opens); 0 when it cannot be had. */
function sizeOf(file: string): number {
  try {
    return statSync(file, { throwIfNoEntry: false })?.size ?? 0;
  } catch {
    return 0;
  }
}
