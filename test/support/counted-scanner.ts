/**
 * A real scanner wrapped for tests that count scans: each scan waits `delayMs()` first (a large sample's scan, long
 * enough for a second delivery or upload to arrive meanwhile), then notes the SHA-256 of the file scanned in `scans`.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { SampleScanner } from "../../src/app/services.js";
import type { createScanner } from "../../src/yara/scanner.js";

export function countedScanner(
  scanner: Awaited<ReturnType<typeof createScanner>>,
  scans: string[],
  delayMs: () => number,
): SampleScanner {
  return {
    scanFile: async (file) => {
      await sleep(delayMs());
      const verdict = await scanner.scanFile(file);
      scans.push(String(verdict.sha256));
      return verdict;
    },
    ruleProblems: () => scanner.ruleProblems(),
    rules: () => scanner.rules(),
    close: () => scanner.close(),
  };
}
