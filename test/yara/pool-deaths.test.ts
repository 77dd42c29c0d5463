/**
 * The pool charges a worker's death to a sample. It must charge it only to a sample the worker had started
 * (the progress record says which one), and a scanner closed by its caller is not a YARA-X crash. Until 8 December
 * 2026 a worker killed between two batches failed the first sample of the batch it had not started, and a scan in
 * flight when the scanner closed was reported as a crash.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScanner } from "../../src/yara/index.js";
import { seedRules, tempDir } from "./tmp.js";

/** The seed rule's hex string with its two `??` filled (rules/shm-creation.yar). */
const PATTERN = Buffer.from("B60300001140000000220D5F0182", "hex");
const ELF_MAGIC = Buffer.from("7f454c46", "hex");

describe.runIf(process.platform === "linux")("which sample a worker's death is charged to", () => {
  let dir: string;
  let remove: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, remove } = await tempDir("pool"));
  });
  afterAll(() => remove());

  it("rescans a sample whose batch the killed worker had not started (it did not crash on it)", async () => {
    const first = path.join(dir, "first");
    const matching = path.join(dir, "matching");
    await writeFile(first, "plain text");
    await writeFile(matching, Buffer.concat([ELF_MAGIC, Buffer.alloc(60), PATTERN]));
    const scanner = await createScanner({ rules: [seedRules], workers: 1 });
    try {
      // The worker scans one sample (its progress record now names that batch) and is then held still, so it
      // cannot start the next batch; it is killed (the OOM killer, an operator) while holding that batch unstarted.
      expect((await scanner.scanFile(first)).verdict).toBe("no-match");
      const [pid] = scanner.workerPids();
      process.kill(pid as number, "SIGSTOP");
      const pending = scanner.scanFile(matching);
      await new Promise((resolve) => setTimeout(resolve, 300));
      process.kill(pid as number, "SIGKILL");
      const verdict = await pending;
      // The sample never ran on the dead worker: the replacement scans it, and it matches.
      expect({ verdict: verdict.verdict, error: verdict.error?.message }).toEqual({
        verdict: "match",
        error: undefined,
      });
      expect(scanner.stats().crashes).toBe(0);
    } finally {
      await scanner.close();
    }
  }, 60_000);

  it("does not report a YARA-X crash for the scan in flight when the caller closes the scanner", async () => {
    const sample = path.join(dir, "sample");
    await writeFile(sample, Buffer.alloc(8 * 1024 * 1024, 0x2e));
    const scanner = await createScanner({ rules: [seedRules], workers: 1 });
    try {
      await scanner.warmUp();
      const [pid] = scanner.workerPids();
      // Held still so that the scan is certainly in flight (not answered yet) when close() is called.
      process.kill(pid as number, "SIGSTOP");
      const pending = scanner.scanFile(sample);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const closing = scanner.close();
      process.kill(pid as number, "SIGCONT");
      await closing;
      const verdict = await pending;
      expect(verdict.verdict).toBe("error");
      // Nothing crashed: the caller closed the scanner (queued scans get "the scan pool was closed").
      expect(verdict.error?.message).not.toMatch(/crashed/);
      expect(scanner.stats().crashes).toBe(0);
    } finally {
      await scanner.close();
    }
  }, 60_000);
});
