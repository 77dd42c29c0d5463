/**
 * Paths given to a command that are not there (or are not what the command reads). README, Command line: "Every
 * command … exits non-zero on error with a one-line reason on stderr"; the project's rule: bad input "gets a clear
 * error naming the file". So the line names the path as given and says what is wrong in the project's words (as
 * `validate` says it: "no such file or directory"), not in the system's (`ENOENT: …, stat 'nope.toml'`: the code,
 * the system call, the path again). Exit codes as documented: 1 for a command's bad input (docs/kql.md: a rule file
 * that does not load; docs/rules.md: validate), 2 for a path `scan` could not scan (test/yara/scan-cli.test.ts).
 */
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli-in-process.js";
import { tempDirs } from "../support/temp-dirs.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const temp = tempDirs("missing-paths");

/** Runs the CLI in this process; `out` and `err`: what it wrote. */
async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout, stderr } = await runCli(args);
  return { code, out: stdout, err: stderr };
}
afterEach(() => {
  process.exitCode = undefined;
});

/** Node's words for a failed file system call: its error code, or the system call with the path quoted after it. */
const SYSTEM_WORDS = /\bE[A-Z]{3,}\b|\b(?:stat|lstat|open|scandir|realpath|read)\b '/;

/** The last stderr line: `shmhunt: ` and a reason naming `file` and saying `what`, in the project's words. */
function expectReason(err: string, file: string, what: string): void {
  const last = err.trimEnd().split("\n").at(-1) ?? "";
  expect(last.startsWith("shmhunt: "), last).toBe(true);
  expect(last).toContain(`${file}: `);
  expect(last).toContain(what);
  expect(last).not.toMatch(SYSTEM_WORDS);
}

describe("a path that does not exist", () => {
  it("translate <rule.toml>: the rule file named, no such file or directory, exit 1", async () => {
    const missing = path.join(temp(), "nope.toml");
    const r = await run("translate", missing, "--target", "defender");
    expect(r.code).toBe(1);
    expect(r.err.trimEnd().split("\n")).toHaveLength(1);
    expectReason(r.err, missing, "no such file or directory");
  });

  it("translate <rule.toml> --json: the {rule, error} line of a rule file that does not load (docs/kql.md)", async () => {
    const missing = path.join(temp(), "nope.toml");
    const r = await run("translate", missing, "--target", "defender", "--json");
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual({
      rule: missing,
      error: expect.stringMatching(/no such file or directory/),
    });
    expect(JSON.parse(r.out).error).not.toMatch(SYSTEM_WORDS);
    expectReason(r.err, missing, "no such file or directory");
  });

  it("translate over several paths: the others are translated and written, then exit 1 naming the missing one", async () => {
    const dir = temp();
    const missing = path.join(dir, "nope");
    const out = path.join(dir, "out");
    const rule = path.join(repoRoot, "rules", "shm-creation.toml");
    const r = await run("translate", rule, missing, "--target", "defender", "--out", out);
    expect(r.code).toBe(1);
    expect(readdirSync(path.join(out, "shm-creation"))).toEqual(["defender.kql"]);
    expectReason(r.err, missing, "no such file or directory");
  });

  it("validate <path>: no such file or directory, exit 1", async () => {
    const missing = path.join(temp(), "nope.toml");
    const r = await run("validate", missing);
    expect(r.code).toBe(1);
    expectReason(r.err, missing, "no such file or directory");
  });

  it("scan <path>: the path's verdict is an error saying so; exit 2", async () => {
    const missing = path.join(temp(), "nope.bin");
    const r = await run("scan", missing, "--rules", path.join(repoRoot, "rules"), "--json");
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toMatchObject({
      verdict: "error",
      path: missing,
      error: { message: "no such file or directory" },
    });
    expectReason(r.err, missing, "no such file or directory");
  });

  it("scan --rules <path>: the rule path named (as given), exit 1", async () => {
    const dir = temp();
    writeFileSync(path.join(dir, "sample"), "bytes");
    const missing = path.join(dir, "nope.yar");
    const r = await run("scan", path.join(dir, "sample"), "--rules", missing);
    expect(r.code).toBe(1);
    expectReason(r.err, missing, "no such file or directory");
  });

  it("kql --workspace <dir>: the workspace folder named, exit 1", async () => {
    const missing = path.join(temp(), "nope");
    const r = await run("kql", "T", "--workspace", missing);
    expect(r.code).toBe(1);
    expectReason(r.err, missing, "no such file or directory");
  });

  it("eql --events <file> and --mapping <file>: the file named, exit 1", async () => {
    const dir = temp();
    const missing = path.join(dir, "nope.ndjson");
    const events = await run("eql", "any where true", "--events", missing);
    expect(events.code).toBe(1);
    expectReason(events.err, missing, "no such file or directory");
    const present = path.join(dir, "events.ndjson");
    writeFileSync(present, '{"event":{"category":"process"},"@timestamp":"2026-01-01T00:00:00Z"}\n');
    const mapping = path.join(dir, "nope.json");
    const mapped = await run("eql", "any where true", "--events", present, "--mapping", mapping);
    expect(mapped.code).toBe(1);
    expectReason(mapped.err, mapping, "no such file or directory");
  });
});

describe("a workspace's table file that cannot be read", () => {
  it("a link to nothing: the table file named, no such file or directory, exit 1", async () => {
    const ws = temp();
    const table = path.join(ws, "T.ndjson");
    symlinkSync(path.join(ws, "gone.ndjson"), table);
    const r = await run("kql", "T", "--workspace", ws);
    expect(r.code).toBe(1);
    expectReason(r.err, table, "no such file or directory");
  });

  it("a folder named as a table file: the table file named, a folder, exit 1", async () => {
    const ws = temp();
    const table = path.join(ws, "T.ndjson");
    mkdirSync(table);
    const r = await run("kql", "T", "--workspace", ws);
    expect(r.code).toBe(1);
    expectReason(r.err, table, "a folder, not a file");
  });
});

describe("an output folder that cannot be made", () => {
  it("translate --out under a file: the folder named, a part of its path not a folder, exit 1", async () => {
    const file = path.join(temp(), "a-file");
    writeFileSync(file, "not a folder");
    const rule = path.join(repoRoot, "rules", "shm-creation.toml");
    const r = await run("translate", rule, "--target", "defender", "--out", path.join(file, "out"));
    expect(r.code).toBe(1);
    expectReason(r.err, path.join(file, "out", "shm-creation"), "a part of the path is not a folder");
  });
});
