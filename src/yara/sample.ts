/**
 * Scans one sample inside a scan worker: hash, ELF header facts, YARA-X matches with the matched bytes read from
 * the sample itself. Synchronous by design: it runs in a worker process, never on the service's event loop.
 */
import { createHash, type Hash } from "node:crypto";
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { Codes } from "../diagnostics/index.js";
import type { BindingRuleMatch, BindingRules } from "./binding.js";
import { ELF_HEADER_BYTES, parseElfHeader } from "./elf.js";
import { LiteralSearch, literalsToFind, mayMatch, needsMetBy, type Prefilter } from "./prefilter.js";
import {
  type ElfFacts,
  MAX_MATCH_BYTES,
  MAX_STRINGS_PER_RULE,
  type RuleMatchReport,
  type Verdict,
  type VerdictError,
} from "./verdict.js";
import { type FsPath, reasonOf, statsKind } from "./walk.js";

export interface ScanLimits {
  /** Larger samples are skipped (YARA411). */
  readonly maxSampleSize: number;
  /** YARA-X's own scan timeout; the pool also kills a worker that overruns it. */
  readonly timeoutMs: number;
  /**
   * `always` (default): every verdict carries the sample's SHA-256. `on-match`: only matches (and errors) do, the
   * others get null; hashing is most of a scan's cost, so bulk sweeps of known-clean trees can skip it.
   */
  readonly sha256?: "always" | "on-match";
}

/**
 * Samples are read into one buffer that the worker keeps and reuses: memory the process touches for the first time
 * is what costs most here (a page fault per 4 KiB page; on the 2-vCPU build VM about 3 ms per MiB, 1.8 ms with
 * transparent huge pages, against ~0.15 ms per MiB to copy a cached file into a warm buffer), so the buffer grows
 * only when a sample needs it, in 2 MiB steps, up to MAP_ABOVE. Larger samples are not copied at all: YARA-X's own
 * `scanFile` maps the file (binding 0.7.2 calls `mmap`, seen with strace), so a 512 MiB sample costs page-table
 * entries over the page cache rather than 512 MiB of fresh memory per worker. The worker hands it
 * `/proc/self/fd/N`, the descriptor it opened and checked, so a file swapped after the check is not scanned
 * instead; the ELF header, matched bytes and hash are read from that descriptor through the reused buffer.
 * Mapping is not used for every file: a mapping's page faults cost more than a copy into a warm buffer (measured on
 * /usr/lib/x86_64-linux-gnu: 1.4 s against 0.17 s for the files over 2 MiB; see docs/yara.md).
 */
const BUFFER_STEP = 2 * 1024 * 1024;
/** Larger samples are mapped by YARA-X rather than read (needs /proc/self/fd, i.e. Linux). */
const MAP_ABOVE = 128 * 1024 * 1024;
const CAN_MAP = process.platform === "linux";
/** Without mapping, a buffer grown beyond this for one sample is released when the worker goes idle. */
const RETAINED_BUFFER = MAP_ABOVE;
/**
 * With a prefilter, a file is first read in chunks of this size (through the start of the reused buffer, which stays
 * small and warm) and searched; only a candidate is then read whole and scanned by YARA-X.
 */
const PREFILTER_CHUNK = 1024 * 1024;
/** … after a first read of this much, when the rules check integers at fixed offsets (`uint32(0) == …`). */
const PREFILTER_HEAD = 4096;
/**
 * Where reads land in a buffer: this many bytes past its start. Node gives a large buffer a page-aligned start, and
 * read(2) from the page cache into a page-aligned destination ran 6x slower on the AMD EPYC build VM than into the
 * same buffer 16 bytes to 4,080 bytes further on (112 MiB in 256 KiB reads: 70 ms against 12 ms; offsets 0 and 4,096
 * slow, every one tried in between fast; `dd`, whose buffer starts 16 bytes into a page, is fast too). A cache line
 * in, reads are never page-aligned; elsewhere it costs 64 bytes.
 */
const READ_OFFSET = 64;

/** What a generator of `ruleOutInSteps` and the like returns, run through without pausing. */
function runToEnd<T>(steps: Generator<void, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** A buffer of `size` bytes for reads (see READ_OFFSET). */
function readBuffer(size: number): Buffer {
  return Buffer.allocUnsafe(size + READ_OFFSET).subarray(READ_OFFSET);
}

/**
 * A candidate the prefilter could not rule out, with the SHA-256 it was computing on the way (every sample hashed):
 * the bytes before `upTo` are in it.
 */
interface Candidate {
  readonly hashed?: { readonly hash: Hash; readonly upTo: number };
}

/** What `ruleOut` says of a file: its verdict, or why it is not settled yet. */
export type RuleOut = Verdict | { readonly unsettled: "scan" | "larger"; readonly size: number };

export class SampleScanner {
  private buffer = readBuffer(BUFFER_STEP);
  private timeoutMs = 0;

  private loaded: BindingRules | undefined;

  /**
   * `rules` undefined: a scanner that only rules samples out with the prefilter (`ruleOut`), never runs YARA-X.
   * A function: the rules are loaded by it when the first sample needs YARA-X (a worker whose samples the prefilter
   * all rules out never loads YARA-X's binding at all, and starts reading without waiting for it).
   * `betweenReads`: run before each read of a sample (a chunk, at most a buffer's length), e.g. a worker's check
   * that its parent is still there, so a long read need not run to its end for nobody.
   */
  constructor(
    private readonly rules: BindingRules | (() => BindingRules) | undefined,
    private readonly rulesetId: string,
    private readonly prefilter?: Prefilter,
    private readonly betweenReads?: () => void,
  ) {}

  /** Loads the rules now when they are loaded lazily (see the constructor); throws what loading them throws. */
  loadRules(): void {
    this.yara();
  }

  private yara(): BindingRules {
    if (this.loaded) return this.loaded;
    if (!this.rules) throw new Error("this sample scanner has no compiled rules (prefilter only)");
    this.loaded = typeof this.rules === "function" ? this.rules() : this.rules;
    return this.loaded;
  }

  /** Scans raw bytes (an upload held in memory). */
  scanBytes(data: Uint8Array, limits: ScanLimits): Verdict {
    const started = performance.now();
    if (data.length > limits.maxSampleSize) return this.tooLarge(data.length, limits, started);
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (this.prefilter && !mayMatch(this.prefilter, bytes)) {
      const hash = limits.sha256 !== "on-match" ? createHash("sha256").update(bytes).digest("hex") : null;
      return this.noMatch(started, bytes.length, parseElfHeader(bytes.subarray(0, ELF_HEADER_BYTES)), hash);
    }
    return this.finish(started, bytes.length, bytes.subarray(0, ELF_HEADER_BYTES), limits, {
      scan: () => this.yara().scan(bytes),
      bytesAt: (offset, length) => bytes.subarray(offset, offset + length),
      sha256: () => createHash("sha256").update(bytes).digest("hex"),
    });
  }

  /**
   * Scans a file by path. Opened without following a final symlink and without blocking on a FIFO; the file
   * descriptor is what gets read, hashed and scanned, so a file swapped after the caller's checks is not read
   * instead.
   */
  scanPath(filePath: FsPath, limits: ScanLimits, displayPath: string = String(filePath)): Verdict {
    return this.openAndScan(filePath, limits, displayPath, true);
  }

  /**
   * What `scanPath` gives without calling YARA-X: a verdict when the prefilter rules the file out or the file
   * cannot be scanned (skipped, unreadable); `scan` when YARA-X must scan it; `larger` when it is larger than
   * `leaveAbove` bytes and was left unread (the caller hands it to a worker). Reads a 4 KiB head, then 1 MiB chunks,
   * never the whole file at once.
   */
  ruleOut(
    filePath: FsPath,
    limits: ScanLimits,
    displayPath: string = String(filePath),
    leaveAbove = Number.POSITIVE_INFINITY,
  ): RuleOut {
    return this.openAndScan(filePath, limits, displayPath, false, leaveAbove);
  }

  /**
   * `ruleOut` in steps, for a caller with an event loop to serve while it reads a large file on its own thread (a
   * CLI's signal handler): the generator pauses between two chunk reads (1 MiB), and returns what `ruleOut` does.
   */
  ruleOutInSteps(
    filePath: FsPath,
    limits: ScanLimits,
    displayPath: string = String(filePath),
  ): Generator<void, RuleOut> {
    return this.openAndScanInSteps(filePath, limits, displayPath, false, Number.POSITIVE_INFINITY);
  }

  private openAndScan(
    filePath: FsPath,
    limits: ScanLimits,
    displayPath: string,
    scan: true,
    leaveAbove?: number,
  ): Verdict;
  private openAndScan(
    filePath: FsPath,
    limits: ScanLimits,
    displayPath: string,
    scan: boolean,
    leaveAbove?: number,
  ): RuleOut;
  private openAndScan(
    filePath: FsPath,
    limits: ScanLimits,
    displayPath: string,
    scan: boolean,
    leaveAbove = Number.POSITIVE_INFINITY,
  ): RuleOut {
    return runToEnd(this.openAndScanInSteps(filePath, limits, displayPath, scan, leaveAbove));
  }

  private *openAndScanInSteps(
    filePath: FsPath,
    limits: ScanLimits,
    displayPath: string,
    scan: boolean,
    leaveAbove: number,
  ): Generator<void, RuleOut> {
    const started = performance.now();
    let fd: number;
    try {
      fd = openSync(filePath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      // O_NOFOLLOW: ELOOP here is a file the walk found swapped for a symbolic link since, which is not followed.
      const why =
        (error as NodeJS.ErrnoException).code === "ELOOP" ? "a symbolic link (not followed)" : reasonOf(error);
      return this.failed(started, displayPath, 0, `cannot open: ${why}`);
    }
    try {
      const info = fstatSync(fd);
      if (!info.isFile()) {
        return this.skipped(started, displayPath, info.size, `not a regular file (${statsKind(info)})`);
      }
      if (info.size > limits.maxSampleSize) return { ...this.tooLarge(info.size, limits, started), path: displayPath };
      if (info.size > leaveAbove) return { unsettled: "larger", size: info.size };
      const ruledOut = this.prefilter ? yield* this.cannotMatch(this.prefilter, fd, info.size, limits, started) : {};
      if ("verdict" in ruledOut) return { ...ruledOut, path: displayPath, durationMs: performance.now() - started };
      if (!scan) return { unsettled: "scan", size: info.size };
      const verdict =
        CAN_MAP && info.size > MAP_ABOVE
          ? this.scanMapped(fd, info.size, limits, started, ruledOut)
          : this.scanBytes(this.read(fd, info.size), limits);
      return { ...verdict, path: displayPath, durationMs: performance.now() - started };
    } catch (error) {
      return this.failed(started, displayPath, 0, reasonOf(error));
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Reads the file in chunks and looks for what the prefilter says every match needs (hashing it on the way when
   * every sample is hashed); the no-match verdict when it is not there, else the candidate (scanned whole).
   * Pauses (yields) before each chunk after the first.
   */
  private *cannotMatch(
    prefilter: Prefilter,
    fd: number,
    size: number,
    limits: ScanLimits,
    started: number,
  ): Generator<void, Verdict | Candidate> {
    // With integer checks, the head alone first: most files of a tree fail them (not ELF) and are settled on it.
    const first = prefilter.headBytes > 0 ? Math.max(prefilter.headBytes, PREFILTER_HEAD) : PREFILTER_CHUNK;
    let chunk = this.readAt(fd, 0, Math.min(size, first));
    const elf = parseElfHeader(chunk.subarray(0, ELF_HEADER_BYTES));
    const literals = literalsToFind(needsMetBy(prefilter, chunk, size));
    if (literals === undefined) return {};
    const search = literals.length > 0 ? new LiteralSearch(literals) : undefined;
    const hash = limits.sha256 !== "on-match" ? createHash("sha256") : undefined;
    for (let at = 0; ; ) {
      if (search?.push(chunk)) return hash ? { hashed: { hash, upTo: at } } : {};
      hash?.update(chunk);
      at += chunk.length;
      if ((!search && !hash) || chunk.length === 0 || at >= size) break;
      yield;
      chunk = this.readAt(fd, at, Math.min(size - at, PREFILTER_CHUNK));
    }
    return this.noMatch(started, size, elf, hash ? hash.digest("hex") : null);
  }

  /**
   * A large sample: YARA-X maps it through the open descriptor; everything else is read from that descriptor (its
   * SHA-256 carried on from where the prefilter's reading left it, so the sample is not hashed twice).
   */
  private scanMapped(fd: number, size: number, limits: ScanLimits, started: number, candidate: Candidate): Verdict {
    const head = Buffer.from(this.readAt(fd, 0, ELF_HEADER_BYTES));
    return this.finish(started, size, head, limits, {
      scan: () => this.yara().scanFile(`/proc/self/fd/${fd}`),
      bytesAt: (offset, length) => Buffer.from(this.readAt(fd, offset, length)),
      sha256: () => {
        const hash = candidate.hashed?.hash ?? createHash("sha256");
        for (let at = candidate.hashed?.upTo ?? 0; at < size; ) {
          const chunk = this.readAt(fd, at, Math.min(this.buffer.length, size - at));
          if (chunk.length === 0) break;
          hash.update(chunk);
          at += chunk.length;
        }
        return hash.digest("hex");
      },
    });
  }

  /** Up to `length` bytes at `offset` (fewer at the end of the file), in the reused buffer. */
  private readAt(fd: number, offset: number, length: number): Buffer {
    this.betweenReads?.();
    const want = Math.min(length, this.buffer.length);
    let read = 0;
    while (read < want) {
      const n = readSync(fd, this.buffer, read, want - read, offset + read);
      if (n === 0) break;
      read += n;
    }
    return this.buffer.subarray(0, read);
  }

  /** Releases a buffer grown beyond the retained size (only without mapping; called when the worker is idle). */
  trim(): void {
    if (this.buffer.length > RETAINED_BUFFER) this.buffer = readBuffer(BUFFER_STEP);
  }

  /** Reads the whole file, as long as fstat said, into the reused buffer. */
  private read(fd: number, size: number): Buffer {
    if (this.buffer.length < size) {
      // Drop the old buffer first, so its memory can be reused for the new one; should the new one not be had, a
      // buffer of the first size again (an empty one would read every later file as empty: "no match").
      this.buffer = Buffer.alloc(0);
      try {
        this.buffer = readBuffer(Math.ceil(size / BUFFER_STEP) * BUFFER_STEP);
      } catch (error) {
        this.buffer = readBuffer(BUFFER_STEP);
        throw error;
      }
    }
    return this.readAt(fd, 0, size);
  }

  private finish(
    started: number,
    size: number,
    head: Uint8Array,
    limits: ScanLimits,
    sample: {
      scan: () => BindingRuleMatch[];
      bytesAt: (offset: number, length: number) => Uint8Array;
      sha256: () => string;
    },
  ): Verdict {
    const elf = parseElfHeader(head);
    this.applyTimeout(limits);
    let found: BindingRuleMatch[];
    try {
      found = sample.scan();
    } catch (error) {
      const message = reasonOf(error);
      const timedOut = /timed out/i.test(message);
      return {
        verdict: "error",
        sha256: sample.sha256(),
        size,
        matches: [],
        elf,
        error: {
          code: Codes.YaraScan,
          message: timedOut
            ? `scan timed out after ${limits.timeoutMs} ms (${message})`
            : `YARA-X scan failed: ${message}`,
        },
        ruleset: this.rulesetId,
        durationMs: performance.now() - started,
      };
    }
    const matches = found.map((m) => report(m, sample.bytesAt));
    const hashIt = matches.length > 0 || limits.sha256 !== "on-match";
    return {
      verdict: matches.length > 0 ? "match" : "no-match",
      sha256: hashIt ? sample.sha256() : null,
      size,
      matches,
      elf,
      ruleset: this.rulesetId,
      durationMs: performance.now() - started,
    };
  }

  /** The verdict YARA-X gives a sample the prefilter ruled out. */
  private noMatch(started: number, size: number, elf: ElfFacts, sha256: string | null): Verdict {
    return {
      verdict: "no-match",
      sha256,
      size,
      matches: [],
      elf,
      ruleset: this.rulesetId,
      durationMs: performance.now() - started,
    };
  }

  private applyTimeout(limits: ScanLimits): void {
    // Binding 0.7: milliseconds; YARA-X checks it on a one-second heartbeat, so the effective granularity is 1 s.
    // createScanner takes whole seconds only (scanTimeoutProblem, limits.ts); the rounding here is for direct use.
    const ms = Math.max(1000, Math.ceil(limits.timeoutMs));
    if (ms !== this.timeoutMs && this.yara().setTimeout) {
      this.yara().setTimeout?.(ms);
      this.timeoutMs = ms;
    }
  }

  private tooLarge(size: number, limits: ScanLimits, started: number): Verdict {
    return this.skippedWith(started, undefined, size, {
      code: Codes.YaraLimit,
      message: `sample is ${size} bytes, over the maximum sample size of ${limits.maxSampleSize} bytes`,
    });
  }

  private skipped(started: number, path: string, size: number, message: string): Verdict {
    return this.skippedWith(started, path, size, { code: Codes.YaraLimit, message });
  }

  private skippedWith(started: number, path: string | undefined, size: number, error: VerdictError): Verdict {
    return {
      verdict: "skipped",
      sha256: null,
      size,
      ...(path !== undefined ? { path } : {}),
      matches: [],
      error,
      ruleset: this.rulesetId,
      durationMs: performance.now() - started,
    };
  }

  private failed(started: number, path: string, size: number, message: string): Verdict {
    return {
      verdict: "error",
      sha256: null,
      size,
      path,
      matches: [],
      error: { code: Codes.YaraScan, message },
      ruleset: this.rulesetId,
      durationMs: performance.now() - started,
    };
  }
}

function report(match: BindingRuleMatch, bytesAt: (offset: number, length: number) => Uint8Array): RuleMatchReport {
  const kept = match.matches.slice(0, MAX_STRINGS_PER_RULE);
  const omitted = match.matches.length - kept.length;
  return {
    rule: match.ruleIdentifier,
    namespace: match.namespace,
    tags: [...match.tags],
    meta: { ...match.meta },
    strings: kept.map((m) => ({
      identifier: m.identifier,
      offset: m.offset,
      length: m.length,
      dataHex: Buffer.from(bytesAt(m.offset, Math.min(m.length, MAX_MATCH_BYTES))).toString("hex"),
    })),
    ...(omitted > 0 ? { omittedStrings: omitted } : {}),
  };
}
