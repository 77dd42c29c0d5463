/**
 * `shmhunt scan` with stderr not a terminal (a pipe, a log file, CI): no progress as it goes, as every long command
 * stays quiet when piped; only its closing summary line, once.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { collect, shmhunt } from "../support/cli-process.js";
import { tempDirs } from "../support/temp-dirs.js";

const root = path.resolve(import.meta.dirname, "../..");
const temp = tempDirs("scan-quiet");

describe("scan with stderr piped", () => {
  it("writes no progress lines, and its summary once when the count is a multiple of 500", async () => {
    const tree = temp();
    mkdirSync(path.join(tree, "sub"));
    for (let i = 0; i < 1000; i++) writeFileSync(path.join(tree, i % 2 ? "sub" : "", `f${i}`), `small ${i}`);
    const run = collect(shmhunt(["scan", tree, "--rules", path.join(root, "rules")], {}));
    expect(await run.exit).toBe(0);
    expect(run.out().trimEnd().split("\n")).toHaveLength(1000);
    // Was: "scanned 500 files …", then "scanned 1000 files …" twice (the last progress line, then the summary).
    expect(run.err()).toBe("scanned 1000 files (0 MB): 0 matched, 0 skipped, 0 errors\n");
  }, 60_000);
});
