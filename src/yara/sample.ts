/**
 * Scans one sample inside a scan worker: hash, ELF header facts, YARA-X matches with the matched bytes read from
 * the sample itself. Synchronous by design: it runs in a worker process, never on the service's event loop.
 */
import { createHash } from "node:crypto";
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { Codes } from "../diagnostics/index.js";
import type { BindingRuleMatch, BindingRules } from "./binding.js";
import { ELF_HEADER_BYTES, parseElfHeader } from "./elf.js";
import {
  MAX_MATCH_BYTES,
  MAX_STRINGS_PER_RULE,
  type RuleMatchReport,
  type Verdict,
  type VerdictError,
} from "./verdict.js";
import { reasonOf, statsKind } from "./walk.js";

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
 * Every sample is read into one buffer that the worker keeps and reuses. Memory the process touches for the first
 * time is what costs most here (a page fault per 4 KiB; on the 2-vCPU build VM about 8 ms per MiB, several times the
 * cost of reading the file), so the buffer is grown only when a sample needs it, in 2 MiB steps (the pool asks
 * glibc for transparent huge pages), and reused for every later sample. YARA-X's own `scanFile` reads each file
 * into fresh memory (binding 0.7.2 does not map it), so it is not used. A buffer grown beyond RETAINED_BUFFER for
 * one large sample is released by `trim()` when the worker goes idle.
 */
const INITIAL_BUFFER = 2 * 1024 * 1024;
const BUFFER_STEP = 2 * 1024 * 1024;
const RETAINED_BUFFER = 128 * 1024 * 1024;

export class SampleScanner {
  private buffer = Buffer.allocUnsafe(INITIAL_BUFFER);
  private timeoutMs = 0;

  constructor(
    private readonly rules: BindingRules,
    private readonly rulesetId: string,
  ) {}

  /** Scans raw bytes (an upload held in memory). */
  scanBytes(data: Uint8Array, limits: ScanLimits): Verdict {
    const started = performance.now();
    if (data.length > limits.maxSampleSize) return this.tooLarge(data.length, limits, started);
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return this.finish(started, bytes.length, bytes.subarray(0, ELF_HEADER_BYTES), limits, {
      scan: () => this.rules.scan(bytes),
      bytesAt: (offset, length) => bytes.subarray(offset, offset + length),
      sha256: () => createHash("sha256").update(bytes).digest("hex"),
    });
  }

  /**
   * Scans a file by path. Opened without following a final symlink and without blocking on a FIFO; the file
   * descriptor is what gets read, hashed and scanned, so a file swapped after the caller's checks is not read
   * instead.
   */
  scanPath(filePath: string, limits: ScanLimits, displayPath: string = filePath): Verdict {
    const started = performance.now();
    let fd: number;
    try {
      fd = openSync(filePath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      return this.failed(started, displayPath, 0, `cannot open: ${reasonOf(error)}`);
    }
    try {
      const info = fstatSync(fd);
      if (!info.isFile()) {
        return this.skipped(started, displayPath, info.size, `not a regular file (${statsKind(info)})`);
      }
      if (info.size > limits.maxSampleSize) return { ...this.tooLarge(info.size, limits, started), path: displayPath };
      const verdict = this.scanBytes(this.read(fd, info.size), limits);
      return { ...verdict, path: displayPath, durationMs: performance.now() - started };
    } catch (error) {
      return this.failed(started, displayPath, 0, reasonOf(error));
    } finally {
      closeSync(fd);
    }
  }

  /** Releases a buffer grown beyond the retained size (called when the worker is idle). */
  trim(): void {
    if (this.buffer.length > RETAINED_BUFFER) this.buffer = Buffer.allocUnsafe(INITIAL_BUFFER);
  }

  /** Reads the whole file (as long as fstat said) into the reused buffer. */
  private read(fd: number, size: number): Buffer {
    if (this.buffer.length < size) {
      // Drop the old buffer first, so its memory can be reused for the new one.
      this.buffer = Buffer.alloc(0);
      this.buffer = Buffer.allocUnsafe(Math.ceil(size / BUFFER_STEP) * BUFFER_STEP);
    }
    let read = 0;
    while (read < size) {
      const n = readSync(fd, this.buffer, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    return this.buffer.subarray(0, read);
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

  private applyTimeout(limits: ScanLimits): void {
    // Binding 0.7: milliseconds; YARA-X checks it on a one-second heartbeat, so the effective granularity is 1 s.
    const ms = Math.max(1000, Math.ceil(limits.timeoutMs));
    if (ms !== this.timeoutMs && this.rules.setTimeout) {
      this.rules.setTimeout(ms);
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
