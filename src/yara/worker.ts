/**
 * A scan worker process (forked by the scan pool). It holds one compiled rule set and scans batches of samples,
 * one sample at a time, replying once per batch. Before each sample it records which one it is starting (see
 * `Progress` in protocol.ts), so if YARA-X aborts the process (a rule condition can), the pool fails exactly that
 * sample, rescans the others elsewhere, and forks a replacement.
 */
import { writeSync } from "node:fs";
import { type BindingRules, loadYaraBinding } from "./binding.js";
import {
  encodeProgress,
  type FromWorker,
  PROGRESS_BYTES,
  PROGRESS_FD,
  pathOf,
  type RulesMessage,
  type ScanMessage,
  type ToWorker,
} from "./protocol.js";
import { SampleScanner } from "./sample.js";
import type { Verdict } from "./verdict.js";

/** A buffer grown for a sample larger than the retained size is released after this long without work. */
const TRIM_AFTER_IDLE_MS = 10_000;

let scanner: SampleScanner | undefined;
let trimTimer: NodeJS.Timeout | undefined;
const progressRecord = Buffer.alloc(PROGRESS_BYTES);
/**
 * The process that forked this one. A batch runs synchronously, so the channel's 'disconnect' is seen only after
 * it; a parent that is gone (SIGKILLed: this process is then a child of init or a subreaper) is noticed between
 * two samples or two chunks read instead, and this process ends rather than scan on for nobody. Asked at most every
 * ORPHAN_CHECK_MS (`process.ppid` is a system call; a scan of /usr/lib/x86_64-linux-gnu asked it 3,366 times, one
 * per sample and chunk), by the monotonic clock, which is read without one.
 */
const parentPid = process.ppid;
const ORPHAN_CHECK_MS = 50;
let orphanCheckedAt = performance.now();
const endIfOrphaned = (): void => {
  const now = performance.now();
  if (now - orphanCheckedAt < ORPHAN_CHECK_MS) return;
  orphanCheckedAt = now;
  if (process.ppid !== parentPid) process.exit(0);
};

function send(message: FromWorker): void {
  process.send?.(message);
}

/**
 * The scanner for a rule set. YARA-X's binding is loaded and the rules deserialized (or compiled) when the first
 * sample needs YARA-X, not before: with an exact prefilter, most samples never do, and the worker starts reading
 * at once (the binding's load and the rules' deserialization are ~40 ms of a cold worker). A rule set that cannot
 * be loaded fails every sample that needs it, each with the same reason.
 */
function scannerFor(message: RulesMessage): SampleScanner {
  let failure: Error | undefined;
  const load = (): BindingRules => {
    if (failure) throw failure;
    try {
      const { binding } = loadYaraBinding();
      if (message.serialized && binding.deserialize) return binding.deserialize(message.serialized);
      return binding.compile(message.source, { defineVariables: message.externals });
    } catch (error) {
      failure = new Error(
        `cannot load the rules in the scan worker: ${error instanceof Error ? error.message : String(error)}`,
      );
      throw failure;
    }
  };
  return new SampleScanner(load, message.id, message.prefilter, endIfOrphaned);
}

function scanBatch(message: ScanMessage, using: SampleScanner): Verdict[] {
  const verdicts: Verdict[] = [];
  for (const [index, target] of message.targets.entries()) {
    endIfOrphaned();
    markStarted(message.batchId, index);
    verdicts.push(
      target.kind === "path"
        ? using.scanPath(pathOf(target), message.limits, target.displayPath)
        : using.scanBytes(target.data, message.limits),
    );
  }
  return verdicts;
}

function markStarted(batchId: number, index: number): void {
  try {
    writeSync(
      PROGRESS_FD,
      encodeProgress(progressRecord, { batchId, index, startedAt: Date.now() }),
      0,
      PROGRESS_BYTES,
      0,
    );
  } catch {
    // Started without a progress record (not by the pool): a crash is then charged to the batch's first sample.
  }
}

process.on("message", (message: ToWorker) => {
  if (message.type === "rules") {
    scanner = scannerFor(message);
    if (message.loadNow) {
      try {
        scanner.loadRules();
      } catch {
        // Kept by the loader: each sample that needs YARA-X fails with it.
      }
    }
    return;
  }
  const batchId = message.batchId;
  try {
    if (!scanner) throw new Error("no rules loaded in the scan worker");
    send({ type: "result", batchId, verdicts: scanBatch(message, scanner) });
  } catch (error) {
    send({ type: "failed", batchId, message: error instanceof Error ? error.message : String(error) });
  }
  if (trimTimer) clearTimeout(trimTimer);
  const idle = scanner;
  trimTimer = idle ? setTimeout(() => idle.trim(), TRIM_AFTER_IDLE_MS).unref() : undefined;
});

process.on("disconnect", () => process.exit(0));
send({ type: "ready" });
