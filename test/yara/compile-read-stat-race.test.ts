/**
 * compile.ts readRuleFiles() read a rule file and only then stat()ed it for its stamp (until 8 December 2026; it
 * stats first now). A write landing between the read and the stat gave the compiled set the stamp (size, mtime) of
 * the new file and the content of the old, so YaraRuleCache.current() found the file "unchanged" and kept serving
 * the stale rules for good. The write is
 * injected deterministically right after the read (the editor saving while the scanner compiles).
 */
import type * as fs from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

const race = vi.hoisted(() => ({ file: "", next: "", armed: false }));

vi.mock("node:fs", async (importOriginal) => {
  const real = await importOriginal<typeof fs>();
  const readFileSync = ((...args: Parameters<typeof real.readFileSync>) => {
    const out = real.readFileSync(...args);
    if (race.armed && args[0] === race.file) {
      race.armed = false;
      real.writeFileSync(race.file, race.next); // the save lands after the read, before the stat
    }
    return out;
  }) as typeof real.readFileSync;
  return { ...real, readFileSync, default: { ...real, readFileSync } };
});

const { YaraRuleCache } = await import("../../src/yara/index.js");
const { tempDir } = await import("./tmp.js");

describe("a rule file saved while it is being compiled", () => {
  let dir: string;
  let remove: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, remove } = await tempDir("read-stat"));
  });
  afterAll(() => remove());

  it("is picked up by the next current() (the stamp must describe the bytes compiled)", async () => {
    const file = path.join(dir, "r.yar");
    await writeFile(file, "rule old_rule { condition: filesize > 1 }\n");
    Object.assign(race, { file, next: "rule new_rule_saved_meanwhile { condition: filesize > 1 }\n", armed: true });
    const cache = new YaraRuleCache([dir]);
    const first = await cache.current();
    expect(race.armed).toBe(false); // the save happened during the compile
    expect(first.source).toContain("old_rule");
    // The file on disk now holds new_rule_saved_meanwhile; nothing else changes it.
    const later = await cache.current();
    expect(later.source).toContain("new_rule_saved_meanwhile");
  });
});
