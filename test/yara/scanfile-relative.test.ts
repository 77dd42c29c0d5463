/**
 * `scanFile(path)` with a relative path scans the file the caller names: resolved against the caller's current
 * directory at call time, not the one the worker process was forked in (which it opened until 8 December 2026).
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScanner } from "../../src/yara/index.js";
import { seedRules, tempDir } from "./tmp.js";

const PATTERN = Buffer.from("B60300001140000000220D5F0182", "hex");
const ELF_MAGIC = Buffer.from("7f454c46", "hex");

describe("scanFile with a relative path", () => {
  let dir: string;
  let remove: () => Promise<void>;
  const cwd = process.cwd();
  beforeAll(async () => {
    ({ dir, remove } = await tempDir("cwd"));
  });
  afterAll(async () => {
    process.chdir(cwd);
    await remove();
  });

  it("scans the file the caller names, relative to the caller's current directory", async () => {
    await mkdir(path.join(dir, "started-here"));
    await mkdir(path.join(dir, "now-here"));
    await writeFile(path.join(dir, "started-here", "sample"), "clean");
    const named = Buffer.concat([ELF_MAGIC, Buffer.alloc(60), PATTERN]);
    await writeFile(path.join(dir, "now-here", "sample"), named);
    process.chdir(path.join(dir, "started-here"));
    const scanner = await createScanner({ rules: [seedRules], workers: 1 });
    try {
      await scanner.warmUp();
      process.chdir(path.join(dir, "now-here"));
      const verdict = await scanner.scanFile("sample");
      expect({ verdict: verdict.verdict, size: verdict.size }).toEqual({ verdict: "match", size: named.length });
    } finally {
      process.chdir(cwd);
      await scanner.close();
    }
  }, 60_000);
});
