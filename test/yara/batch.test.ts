/**
 * Directory scans travel to the workers in batches. A crash in the middle of a batch must still fail only the
 * sample that crashed: the others of that batch (scanned or not yet) get their own verdicts, and the worker is
 * replaced once.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScanner, type Verdict } from "../../src/yara/index.js";
import { tempDir } from "./tmp.js";

describe("batched directory scans", () => {
  let dir: string;
  let remove: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, remove } = await tempDir("yara-batch"));
  });
  afterAll(() => remove());

  it("charges a crash inside a batch to exactly the sample that crashed", async () => {
    const rules = path.join(dir, "rules");
    const tree = path.join(dir, "tree");
    await mkdir(rules, { recursive: true });
    await mkdir(tree, { recursive: true });
    // From libyara's suite: INT64_MIN \ -1 aborts YARA-X 1.20's process. Only evaluated when "BOOM" is present.
    await writeFile(
      path.join(rules, "crash.yar"),
      'rule division_overflow {\n  strings:\n    $boom = "BOOM"\n  condition:\n    $boom and not defined ((#boom - 1 + -0x7FFFFFFFFFFFFFFF - 1) \\ -1)\n}\n' +
        'rule fine {\n  strings:\n    $ok = "fine"\n  condition:\n    $ok\n}\n',
    );
    const names = Array.from({ length: 60 }, (_, i) => `f${String(i).padStart(2, "0")}`);
    await Promise.all(
      names.map((name, i) =>
        writeFile(path.join(tree, name), i === 37 ? "BOOM fine" : i % 2 === 0 ? `fine ${i}` : `plain ${i}`),
      ),
    );
    const scanner = await createScanner({ rules: [rules], workers: 1 });
    try {
      const verdicts = new Map<string, Verdict>();
      for await (const v of scanner.scanPaths([tree])) verdicts.set(path.basename(v.path ?? ""), v);
      expect(verdicts.size).toBe(60);
      for (const [i, name] of names.entries()) {
        const v = verdicts.get(name);
        if (i === 37) {
          expect(v).toMatchObject({ verdict: "error", size: 9, error: { code: "YARA410" } });
          expect(v?.error?.message).toMatch(/^YARA-X crashed while scanning this sample/);
        } else {
          expect(v?.verdict).toBe(i % 2 === 0 ? "match" : "no-match");
          expect(v?.matches.map((m) => m.rule)).toEqual(i % 2 === 0 ? ["fine"] : []);
        }
      }
      expect(scanner.stats()).toMatchObject({ crashes: 1, started: 2, workers: 1 });
    } finally {
      await scanner.close();
    }
  });
});
