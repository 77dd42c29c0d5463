/**
 * A directory scan that reads on the caller's own thread: for a one-shot CLI run whose rules have an exact
 * prefilter (prefilter.ts), where no event loop serves anything meanwhile. Most files of a tree are then settled
 * here without an IPC message or a YARA-X call; the scan pool (a worker process, started early) takes a share of
 * the reading and every candidate the prefilter lets through.
 *
 * The share. This thread walks (synchronously: no promise per entry) and reads the small files itself; a file over
 * LEAVE_ABOVE bytes (found by the fstat that opening it takes anyway) is left unread for the worker, which is
 * handed such files in groups whenever it has room for another batch; when none waits, it is handed the next files
 * of the walk instead, unread, GROUP_FILES at a time (small files cost this thread more in system calls and
 * verdicts than in bytes: on the benchmark's tree, 2,099 files under 1 MiB hold 113 MB, the other 90 hold 884 MB).
 * Once the walk is over, the files still left are shared from both ends: the worker takes the largest, this thread
 * the smallest, until none is left. So this thread never spends long on one file while the worker waits for work
 * (it lets the event loop take the worker's replies every few milliseconds, between two files), and neither side
 * ends long after the other.
 *
 * A file over LEAVE_ABOVE read here (after the walk) is read in steps, the event loop let in between two chunks as
 * between two files: a signal handler of the caller (the CLI's, which writes out held-back verdicts) then runs
 * within milliseconds, also during a read of seconds, and the worker's replies are taken meanwhile.
 */
import type { CompiledRuleSet } from "./compile.js";
import { Completions } from "./completions.js";
import type { ScanPool } from "./pool.js";
import type { RuleOut, SampleScanner, ScanLimits } from "./sample.js";
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
  readonly notScanned: (entry: NotScanned) => Verdict;
}

/** Files over this size are left to the worker while the walk goes on. */
const LEAVE_ABOVE = 1024 * 1024;
/** … unless this many already wait for it (a bound on memory over a tree of large files): then read here. */
const MOST_LEFT = 4096;
/**
 * A batch handed to the worker: up to this many bytes (at least one file; ~15 ms of reading). The pool keeps two
 * batches with the worker, so it has one to go on with while this thread, busy with a file, has not yet seen the
 * reply to the other.
 */
const GROUP_BYTES = 48 * 1024 * 1024;
/** … and at most this many files. */
const GROUP_FILES = 64;
/** How long this thread reads before it lets the event loop take the worker's replies. */
const EVENT_LOOP_TURN_MS = 2;

/** Every file and skipped entry under `paths`, one verdict each, yielded as they complete. */
export async function* scanPathsReadingHere(paths: readonly string[], ctx: ReadHere): AsyncGenerator<Verdict> {
  const { here, pool, rules, limits } = ctx;
  const verdicts = new Completions<Verdict>();
  const toPool = (files: readonly Sized[]) => {
    const settling = pool.runTogether(
      files.map(({ entry, size }) => ({
        target: { kind: "path" as const, path: entry.realPath, displayPath: entry.path },
        limits,
        rules,
        knownSize: size,
      })),
    );
    settling.forEach((verdict, i) => {
      const { entry, size } = files[i] as Sized;
      verdicts.add(verdict, (error) =>
        ctx.notScanned({ kind: "error", path: entry.path, size, reason: reasonOf(error) }),
      );
    });
  };
  /** Files left unread for the worker; after the walk, sorted by size (the worker takes from the end). */
  const left: Sized[] = [];
  const feedWorker = () => {
    while (left.length > 0 && pool.wantsWork()) {
      const group: Sized[] = [];
      let bytes = 0;
      while (left.length > 0 && group.length < GROUP_FILES && bytes < GROUP_BYTES) {
        const file = left.pop() as Sized;
        group.push(file);
        bytes += file.size;
      }
      toPool(group);
    }
  };
  /** What reading a file here settled: its verdict (to yield), or undefined when it went to the worker or was left. */
  const settle = (entry: FileEntry, outcome: RuleOut): Verdict | undefined => {
    if (!("unsettled" in outcome)) return outcome;
    if (outcome.unsettled === "scan") toPool([{ entry, size: outcome.size }]);
    else left.push({ entry, size: outcome.size });
    return undefined;
  };
  let turn = performance.now();
  const letRepliesIn = async () => {
    if (performance.now() - turn <= EVENT_LOOP_TURN_MS) return;
    // The worker's replies are handled between two turns, not while this thread reads.
    await new Promise((resolve) => setImmediate(resolve));
    turn = performance.now();
  };
  /**
   * Reads a file here however large it is, in steps: between two chunks the event loop gets in (every
   * EVENT_LOOP_TURN_MS), the worker is fed and its verdicts are yielded.
   */
  async function* readAtLength(entry: FileEntry): AsyncGenerator<Verdict> {
    const steps = here.ruleOutInSteps(entry.realPath, limits, entry.path);
    try {
      for (;;) {
        const step = steps.next();
        if (step.done) {
          const verdict = settle(entry, step.value);
          if (verdict) yield verdict;
          return;
        }
        if (performance.now() - turn <= EVENT_LOOP_TURN_MS) continue;
        feedWorker();
        await letRepliesIn();
        yield* verdicts.take();
      }
    } finally {
      steps.return(undefined as never);
    }
  }

  // Files the walk found, handed to the worker unread when it has room and no large file waits for it.
  let unread: Sized[] = [];
  for (const entry of walkSamplesSync(paths)) {
    if (entry.kind !== "file") {
      yield ctx.notScanned(entry);
      continue;
    }
    if (unread.length > 0 || (left.length === 0 && pool.wantsWork())) {
      unread.push({ entry, size: 0 });
      if (unread.length === GROUP_FILES) {
        toPool(unread);
        unread = [];
      }
      continue;
    }
    if (left.length < MOST_LEFT) {
      const verdict = settle(entry, here.ruleOut(entry.realPath, limits, entry.path, LEAVE_ABOVE));
      if (verdict) yield verdict;
    } else yield* readAtLength(entry);
    feedWorker();
    await letRepliesIn();
    yield* verdicts.take();
  }
  if (unread.length > 0) toPool(unread);
  // The walk is over: the files left are shared from both ends, the largest to the worker, the smallest here.
  left.sort((a, b) => a.size - b.size);
  for (;;) {
    feedWorker();
    const file = left.shift();
    if (!file) break;
    yield* readAtLength(file.entry);
    await letRepliesIn();
    yield* verdicts.take();
  }
  yield* verdicts.rest();
}
