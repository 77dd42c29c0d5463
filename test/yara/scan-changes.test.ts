/**
 * Entries that are not what the walk saw by the time they are opened (a file replaced by a FIFO, a directory, a
 * symlink, or deleted) and special entries in the tree, on the path a CLI scan reads on its own thread. Nothing may
 * hang (a FIFO opened for reading blocks until a writer comes) and each gets one named skip or error.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScanner, type Verdict } from "../../src/yara/index.js";
import { derivePrefilter } from "../../src/yara/prefilter.js";
import { SampleScanner } from "../../src/yara/sample.js";
import { seedRules, tempDir } from "./tmp.js";

const limits = { maxSampleSize: 1 << 30, timeoutMs: 10_000 };

describe.runIf(process.platform === "linux")("entries that change under a scan", () => {
  let dir: string;
  let remove: () => Promise<void>;

  beforeAll(async () => {
    ({ dir, remove } = await tempDir("yara-changes"));
  });
  afterAll(() => remove());

  it("opens what the walk saw as a file without blocking or following, and names what it found instead", async () => {
    const prefilter = derivePrefilter(readFileSync(path.join(seedRules, "shm-creation.yar"), "utf8"));
    expect(prefilter).toBeDefined();
    const here = new SampleScanner(undefined, "rules", prefilter);
    const fifo = path.join(dir, "was-a-file-now-fifo");
    execFileSync("mkfifo", [fifo]);
    const folder = path.join(dir, "was-a-file-now-folder");
    await mkdir(folder);
    const link = path.join(dir, "was-a-file-now-link");
    await writeFile(path.join(dir, "target"), "x");
    await symlink(path.join(dir, "target"), link);

    expect(here.ruleOut(fifo, limits)).toMatchObject({
      verdict: "skipped",
      path: fifo,
      error: { code: "YARA411", message: "not a regular file (FIFO)" },
    });
    expect(here.ruleOut(folder, limits)).toMatchObject({
      verdict: "skipped",
      error: { message: "not a regular file (directory)" },
    });
    // O_NOFOLLOW: a file swapped for a symlink after the walk is not followed (ELOOP).
    expect(here.ruleOut(link, limits)).toMatchObject({ verdict: "error", error: { code: "YARA410" } });
    expect((here.ruleOut(link, limits) as Verdict).error?.message).toBe("cannot open: a symbolic link (not followed)");
    expect(here.ruleOut(path.join(dir, "deleted"), limits)).toMatchObject({
      verdict: "error",
      error: { message: "cannot open: no such file or directory" },
    });
  });

  it("gives every special entry of a tree one named verdict, reading on the CLI's thread", async () => {
    const tree = path.join(dir, "tree");
    await mkdir(path.join(tree, "sub"), { recursive: true });
    await writeFile(path.join(tree, "sub", "file"), "plain");
    execFileSync("mkfifo", [path.join(tree, "fifo")]);
    await symlink("fifo", path.join(tree, "to-fifo"));
    await symlink("loop-b", path.join(tree, "loop-a"));
    await symlink("loop-a", path.join(tree, "loop-b"));
    await symlink("/etc/hostname", path.join(tree, "outside"));
    await symlink("sub", path.join(tree, "to-sub"));
    await symlink("sub/file", path.join(tree, "to-file"));
    const scanner = await createScanner({ rules: [seedRules], workers: 1, prefilterOnThisThread: true });
    try {
      const got: Record<string, string> = {};
      for await (const v of scanner.scanPaths([tree])) {
        const name = path.relative(tree, v.path ?? "");
        expect(got[name], name).toBeUndefined();
        got[name] = `${v.verdict}${v.error ? `: ${v.error.message}` : ""}`;
      }
      expect(got).toEqual({
        fifo: "skipped: not a regular file (FIFO)",
        "to-fifo": "skipped: not a regular file (FIFO)",
        "loop-a": "skipped: broken symlink",
        "loop-b": "skipped: broken symlink",
        outside: "skipped: symlink points outside the scanned root (/etc/hostname)",
        "to-sub": "skipped: symlink to a directory (not followed)",
        // The same file reached twice (by its name and by a link inside the tree): a verdict for each path.
        "to-file": "no-match",
        "sub/file": "no-match",
      });
    } finally {
      await scanner.close();
    }
  }, 30_000);
});
