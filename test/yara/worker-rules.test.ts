/**
 * A scan worker loads YARA-X and its rules when the first sample needs YARA-X (src/yara/worker.ts): a sample the
 * exact prefilter rules out is settled without them. So a rule set the worker cannot load must still fail every
 * sample that needs YARA-X, with the reason, while the samples the prefilter settles keep their exact verdict.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type CompiledRuleSet, compileYaraRules, resolveYaraPaths } from "../../src/yara/index.js";
import { ScanPool } from "../../src/yara/pool.js";
import { processesMarked } from "./processes.js";
import { seedRules, tempDir } from "./tmp.js";

const limits = { maxSampleSize: 16 * 1024 * 1024, timeoutMs: 10_000 };
/** An ELF header's magic, then the seed rule's bytes (`shmget(0x82015F0D, 64, 0x3b6)` as the compiler emits it). */
const candidate = Buffer.concat([
  Buffer.from("7f454c46020101", "hex"),
  Buffer.alloc(57),
  Buffer.from("b6030000" + "00" + "40000000" + "00" + "0d5f0182", "hex"),
]);
const notElf = Buffer.from("#!/bin/sh\necho 0d5f0182\n");

/** Scans bytes held in memory on `pool` with `rules`. */
function scanBytes(pool: ScanPool, data: Buffer, rules: CompiledRuleSet) {
  return pool.run({ target: { kind: "bytes", data }, limits, rules, knownSize: data.length });
}

describe("a scan worker whose rules cannot be loaded", () => {
  const pool = new ScanPool(1);
  afterAll(() => pool.close());
  const compiled = compileYaraRules(resolveYaraPaths([seedRules]));
  // What the worker is sent in place of YARA-X's serialized rules: bytes YARA-X refuses.
  const broken = { ...compiled, id: `${compiled.id}-broken`, serialized: new Uint8Array(Buffer.from("not rules")) };

  it("has the seed rule's exact prefilter (else nothing here is settled without YARA-X)", () => {
    expect(compiled.prefilter).toBeDefined();
  });

  it("fails a sample that needs YARA-X, with the reason, and settles the others by the prefilter", async () => {
    const { dir, remove } = await tempDir("worker-rules");
    try {
      await mkdir(path.join(dir, "t"));
      const files = {
        candidate: path.join(dir, "t/candidate"),
        elf: path.join(dir, "t/elf"),
        text: path.join(dir, "t/text"),
      };
      await writeFile(files.candidate, candidate);
      await writeFile(files.elf, candidate.subarray(0, 64));
      await writeFile(files.text, notElf);
      const verdicts = await Promise.all(
        pool.runTogether(
          Object.values(files).map((file) => ({
            target: { kind: "path" as const, path: file, displayPath: file },
            limits,
            rules: broken,
            knownSize: 0,
          })),
        ),
      );
      const [first, elf, text] = verdicts;
      expect(first?.verdict).toBe("error");
      expect(first?.error?.message).toMatch(/cannot load the rules in the scan worker/);
      expect(elf?.verdict).toBe("no-match");
      expect(text?.verdict).toBe("no-match");
      // Bytes held in memory: the same.
      const bytes = await scanBytes(pool, candidate, broken);
      expect(bytes.verdict).toBe("error");
      expect(bytes.error?.message).toMatch(/cannot load the rules in the scan worker/);
      const clean = await scanBytes(pool, notElf, broken);
      expect(clean.verdict).toBe("no-match");
    } finally {
      await remove();
    }
  });

  it("scans with YARA-X once it is sent rules it can load", async () => {
    const verdict = await scanBytes(pool, candidate, compiled);
    expect(verdict.verdict).toBe("match");
  });
});

/** Whether process `pid` has YARA-X's native binding mapped (loaded). */
function mapsYaraX(pid: number): boolean {
  return readFileSync(`/proc/${pid}/maps`, "utf8").includes("yara-x");
}

describe.runIf(process.platform === "linux")("when a scan worker loads YARA-X", () => {
  const compiled = compileYaraRules(resolveYaraPaths([seedRules]));

  /** A pool whose workers carry a mark in their environment (inherited from this process's), and their pids. */
  async function markedPool(): Promise<{ pool: ScanPool; pids: () => number[]; restore: () => void }> {
    const mark = randomUUID();
    const previous = process.env.SHMHUNT_TEST_MARK;
    process.env.SHMHUNT_TEST_MARK = mark;
    const pool = new ScanPool(1);
    return {
      pool,
      pids: () => processesMarked(mark),
      restore: () => {
        if (previous === undefined) delete process.env.SHMHUNT_TEST_MARK;
        else process.env.SHMHUNT_TEST_MARK = previous;
      },
    };
  }

  it("not for samples the prefilter settles; at the first that needs it", async () => {
    const { pool, pids, restore } = await markedPool();
    try {
      const clean = await scanBytes(pool, notElf, compiled);
      expect(clean.verdict).toBe("no-match");
      const [pid] = pids();
      expect(pid).toBeDefined();
      expect(mapsYaraX(pid as number)).toBe(false);
      const match = await scanBytes(pool, candidate, compiled);
      expect(match.verdict).toBe("match");
      expect(mapsYaraX(pid as number)).toBe(true);
    } finally {
      restore();
      await pool.close();
    }
  });

  it("at once when the pool is warmed up (a server's first candidate does not wait for it)", async () => {
    const { pool, pids, restore } = await markedPool();
    try {
      await pool.warmUp(compiled);
      const [pid] = pids();
      expect(pid).toBeDefined();
      // The rules message is handled after warmUp resolves: wait for the worker to have loaded them (up to 30 s, for
      // a loaded machine; a worker that waited for its first scan would never load them here).
      const until = Date.now() + 30_000;
      while (!mapsYaraX(pid as number) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(mapsYaraX(pid as number)).toBe(true);
    } finally {
      restore();
      await pool.close();
    }
  });
});
