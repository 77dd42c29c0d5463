/**
 * The private cache of compiled rules (src/yara/compiled-cache.ts): a second compile of the same rules takes the
 * cached set, and an entry that is not private or does not hash to its digest is never used.
 */
import { chmod, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileYaraRules } from "../../src/yara/compile.js";
import { readCachedRules } from "../../src/yara/compiled-cache.js";
import { seedRules, tempDir } from "./tmp.js";

describe("the compiled-rules cache", () => {
  let dir: string;
  let remove: () => Promise<void>;
  const previous = process.env.XDG_CACHE_HOME;

  beforeAll(async () => {
    ({ dir, remove } = await tempDir("yara-cache"));
    process.env.XDG_CACHE_HOME = dir;
  });
  afterAll(async () => {
    if (previous === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = previous;
    await remove();
  });

  it("keeps a compiled set private and gives it back unchanged", async () => {
    const first = compileYaraRules([seedRules], { cacheCompiled: true });
    const entries = path.join(dir, "shmhunt", "yara");
    const [name] = await readdir(entries);
    expect(name).toMatch(/^[0-9a-f]{64}\.rules$/);
    const file = path.join(entries, name as string);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(entries)).mode & 0o777).toBe(0o700);
    const second = compileYaraRules([seedRules], { cacheCompiled: true });
    expect(second.id).toBe(first.id);
    expect(Buffer.from(second.serialized!).equals(Buffer.from(first.serialized!))).toBe(true);
    expect(second.prefilter).toEqual(first.prefilter);
    const key = (name as string).replace(/\.rules$/, "");
    expect(readCachedRules(key)).toBeDefined();

    await chmod(file, 0o644);
    expect(readCachedRules(key)).toBeUndefined();
    await chmod(file, 0o600);
    const bytes = await readFile(file);
    bytes.writeUInt8((bytes.at(-1) as number) ^ 0xff, bytes.length - 1);
    await writeFile(file, bytes);
    expect(readCachedRules(key)).toBeUndefined();
    // A damaged entry is a miss: the rules compile again (and the entry is rewritten).
    const third = compileYaraRules([seedRules], { cacheCompiled: true });
    expect(Buffer.from(third.serialized!).equals(Buffer.from(first.serialized!))).toBe(true);
    expect(readCachedRules(key)).toBeDefined();
  });
});
