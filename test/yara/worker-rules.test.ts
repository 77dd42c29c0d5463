/**
 * A scan worker loads YARA-X and its rules when the first sample needs YARA-X (src/yara/worker.ts): a sample the
 * exact prefilter rules out is settled without them. So a rule set the worker cannot load must still fail every
 * sample that needs YARA-X, with the reason, while the samples the prefilter settles keep their exact verdict.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileYaraRules, resolveYaraPaths } from "../../src/yara/index.js";
import { ScanPool } from "../../src/yara/pool.js";
import { seedRules, tempDir } from "./tmp.js";

const limits = { maxSampleSize: 16 * 1024 * 1024, timeoutMs: 10_000 };
/** An ELF header's magic, then the seed rule's bytes (`shmget(0x82015F0D, 64, 0x3b6)` as the compiler emits it). */
const candidate = Buffer.concat([
  Buffer.from("7f454c46020101", "hex"),
  Buffer.alloc(57),
  Buffer.from("b6030000" + "00" + "40000000" + "00" + "0d5f0182", "hex"),
]);
const notElf = Buffer.from("#!/bin/sh\necho 0d5f0182\n");

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
      const bytes = await pool.run({ target: { kind: "bytes", data: candidate }, limits, rules: broken, knownSize: 0 });
      expect(bytes.verdict).toBe("error");
      expect(bytes.error?.message).toMatch(/cannot load the rules in the scan worker/);
      const clean = await pool.run({ target: { kind: "bytes", data: notElf }, limits, rules: broken, knownSize: 0 });
      expect(clean.verdict).toBe("no-match");
    } finally {
      await remove();
    }
  });

  it("scans with YARA-X once it is sent rules it can load", async () => {
    const verdict = await pool.run({
      target: { kind: "bytes", data: candidate },
      limits,
      rules: compiled,
      knownSize: 0,
    });
    expect(verdict.verdict).toBe("match");
  });
});
