/**
 * Exactness where the reading is cut up: the 4 KiB head and 1 MiB chunks of the prefilter (on the CLI's reading
 * thread and in the worker), files left to the worker (over 1 MiB), and the size limit on each path. The oracle is
 * YARA-X itself: the seed rules compiled by the binding and run over each file's whole bytes.
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadYaraBinding } from "../../src/yara/binding.js";
import { createScanner, type Verdict } from "../../src/yara/index.js";
import { seedRules, tempDir } from "./tmp.js";

const KIB = 1024;
const MIB = 1024 * 1024;
/** The seed rule's hex string with its two `??` filled (rules/shm-creation.yar). */
const PATTERN = Buffer.from("B60300001140000000220D5F0182", "hex");
const ELF_MAGIC = Buffer.from("7f454c46", "hex");

/** `size` zero bytes with the ELF magic at 0 (or not) and the pattern at `at` (or nowhere). */
function sample(size: number, at: number | undefined, elf = true): Buffer {
  const bytes = Buffer.alloc(size);
  if (elf) ELF_MAGIC.copy(bytes, 0, 0, Math.min(4, size));
  if (at !== undefined) PATTERN.copy(bytes, at);
  return bytes;
}

describe("scan verdicts at the reading's boundaries", () => {
  let dir: string;
  let remove: () => Promise<void>;
  let tree: string;
  const expected = new Map<string, string>();

  beforeAll(async () => {
    ({ dir, remove } = await tempDir("yara-bounds"));
    tree = path.join(dir, "tree");
    await mkdir(tree, { recursive: true });
    const files: [string, Buffer][] = [
      ["empty", Buffer.alloc(0)],
      ["three-bytes-of-magic", ELF_MAGIC.subarray(0, 3)],
      ["magic-only", ELF_MAGIC],
      // The pattern in a file that is not ELF: `uint32(0) == 0x464C457F` fails, whatever follows.
      ["not-elf-with-pattern", sample(8 * KIB, 5000, false)],
      ["magic-later-with-pattern", Buffer.concat([Buffer.from("MZ"), ELF_MAGIC, PATTERN])],
    ];
    // Across the 4 KiB head and the 1 MiB chunks (and the seams of a second and fourth chunk).
    for (const at of [4 * KIB - 14, 4 * KIB - 7, 4 * KIB - 1, 4 * KIB, MIB - 14, MIB - 7, MIB - 1, MIB, 2 * MIB - 5]) {
      files.push([`at-${at}`, sample(Math.max(at + PATTERN.length + 3, 64), at)]);
    }
    files.push(["at-4MiB-7-in-5MiB", sample(5 * MIB, 4 * MIB - 7)]);
    // Every way the pattern (its every byte) can sit across the seams of the reads: after the 4 KiB head, and after
    // the first 1 MiB chunk that follows it (the prefilter reads [0, 4 KiB), then 1 MiB at a time).
    for (const seam of [4 * KIB, 4 * KIB + MIB]) {
      for (let back = 1; back < PATTERN.length; back++) {
        files.push([`seam-${seam}-minus-${back}`, sample(seam + 64, seam - back)]);
      }
    }
    // Files of 1 MiB and either side (read here, or left to the worker), the pattern at the end or across 1 MiB.
    for (const size of [MIB - 1, MIB, MIB + 1, 2 * MIB + 1]) {
      files.push([`size-${size}-end`, sample(size, size - PATTERN.length)]);
      files.push([`size-${size}-none`, sample(size, undefined)]);
      if (size > MIB + PATTERN.length) files.push([`size-${size}-across-1MiB`, sample(size, MIB - 7)]);
    }
    await Promise.all(files.map(([name, bytes]) => writeFile(path.join(tree, name), bytes)));

    const { binding } = loadYaraBinding();
    const source = readdirSync(seedRules)
      .filter((name) => name.endsWith(".yar"))
      .map((name) => readFileSync(path.join(seedRules, name), "utf8"))
      .join("\n");
    const rules = binding.compile(source);
    for (const [name, bytes] of files) {
      const found = rules.scan(bytes).map((m) => m.ruleIdentifier);
      expected.set(name, found.length > 0 ? found.sort().join(",") : "no-match");
    }
  }, 60_000);
  afterAll(() => remove());

  const outcome = (v: Verdict) =>
    v.verdict === "match"
      ? v.matches
          .map((m) => m.rule)
          .sort()
          .join(",")
      : v.verdict;

  for (const prefilterOnThisThread of [true, false]) {
    for (const workers of [1, 2]) {
      it(`gives YARA-X's verdict for every file (prefilterOnThisThread: ${prefilterOnThisThread}, workers: ${workers})`, async () => {
        const scanner = await createScanner({ rules: [seedRules], workers, prefilterOnThisThread, sha256: "always" });
        try {
          const got = new Map<string, string>();
          for await (const v of scanner.scanPaths([tree])) {
            const name = path.basename(v.path ?? "");
            expect(got.has(name), name).toBe(false);
            got.set(name, outcome(v));
            expect(v.size, name).toBe(readFileSync(path.join(tree, name)).length);
          }
          expect(Object.fromEntries(got)).toEqual(Object.fromEntries(expected));
          // Not a vacuous oracle: both answers occur.
          expect([...expected.values()]).toContain("no-match");
          expect([...expected.values()].filter((o) => o !== "no-match").length).toBeGreaterThan(30);
        } finally {
          await scanner.close();
        }
      }, 60_000);
    }

    it(`skips exactly the files over the size limit (prefilterOnThisThread: ${prefilterOnThisThread})`, async () => {
      const scanner = await createScanner({
        rules: [seedRules],
        workers: 1,
        prefilterOnThisThread,
        maxSampleSize: MIB,
      });
      try {
        const got = new Map<string, string>();
        for await (const v of scanner.scanPaths([tree])) got.set(path.basename(v.path ?? ""), outcome(v));
        for (const [name, want] of expected) {
          const size = readFileSync(path.join(tree, name)).length;
          expect(got.get(name), name).toBe(size > MIB ? "skipped" : want);
        }
      } finally {
        await scanner.close();
      }
    }, 60_000);
  }
});
