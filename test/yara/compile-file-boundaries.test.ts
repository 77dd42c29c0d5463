/**
 * A rule moved from one file to the next, with the files' joined text unchanged. Both the in-process
 * YaraRuleCache and the per-user compiled cache identify a rule set by the joined sources (and, for the latter, the
 * paths), not by where each file starts, so until 8 December 2026 the old set's rule → file map and warnings
 * (file:line) were kept; each file's own content (and length, for the cache) now counts.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileYaraRules, YaraRuleCache } from "../../src/yara/index.js";
import { tempDir } from "./tmp.js";

const X = "rule x { condition: filesize > 1 }\n";
const Y = 'rule y {\n  strings:\n    $a = "abcd"\n  condition:\n    0 of them\n}\n'; // warns (ambiguous 0 of them) at its line 5
const Z = "rule z { condition: filesize > 2 }\n";

describe("a rule moved between files, joined text unchanged", () => {
  let dir: string;
  let remove: () => Promise<void>;
  const previous = process.env.XDG_CACHE_HOME;
  beforeAll(async () => {
    ({ dir, remove } = await tempDir("boundaries"));
    process.env.XDG_CACHE_HOME = path.join(dir, "cache");
  });
  afterAll(async () => {
    if (previous === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = previous;
    await remove();
  });

  it("YaraRuleCache: after rule y moves from a.yar to b.yar, ruleFiles and warnings name b.yar", async () => {
    const set = path.join(dir, "live");
    await mkdir(set, { recursive: true });
    const a = path.join(set, "a.yar");
    const b = path.join(set, "b.yar");
    await writeFile(a, X + Y);
    await writeFile(b, Z);
    const cache = new YaraRuleCache([set]);
    const before = await cache.current();
    expect(before.ruleFiles).toEqual({ x: "a.yar", y: "a.yar", z: "b.yar" });
    expect(before.warnings).toEqual([expect.objectContaining({ file: a })]);

    await writeFile(a, X);
    await writeFile(b, Y + Z);
    const fresh = compileYaraRules([set]); // what the files on disk compile to
    expect(fresh.ruleFiles).toEqual({ x: "a.yar", y: "b.yar", z: "b.yar" });
    expect(fresh.warnings).toEqual([
      expect.objectContaining({
        file: b,
        span: expect.objectContaining({ start: expect.objectContaining({ line: 5 }) }),
      }),
    ]);

    const after = await cache.current();
    expect(after.ruleFiles).toEqual(fresh.ruleFiles);
    expect(after.warnings).toEqual(fresh.warnings);
  });

  it("compiled cache: the second layout's warnings name b.yar, not the first layout's a.yar:6", async () => {
    const set = path.join(dir, "cached");
    await mkdir(set, { recursive: true });
    const a = path.join(set, "a.yar");
    const b = path.join(set, "b.yar");
    await writeFile(a, X + Y);
    await writeFile(b, Z);
    const first = compileYaraRules([set], { cacheCompiled: true });
    expect(first.warnings).toEqual([expect.objectContaining({ file: a })]);

    await writeFile(a, X);
    await writeFile(b, Y + Z);
    const uncached = compileYaraRules([set]);
    const cached = compileYaraRules([set], { cacheCompiled: true });
    expect(uncached.warnings).toEqual([expect.objectContaining({ file: b })]);
    expect(cached.warnings).toEqual(uncached.warnings);
  });
});
