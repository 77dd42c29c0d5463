import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runCli } from "../support/cli-in-process.js";

const repo = path.resolve(import.meta.dirname, "../..");

const run = (...args: string[]) => runCli(args);

afterEach(() => vi.restoreAllMocks());

describe("shmhunt translate", () => {
  it("prints the KQL of a rule file for one target", async () => {
    const r = await run("translate", path.join(repo, "rules/shm-execution-upstream.toml"), "--target", "defender");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("DeviceProcessEvents\n| where ");
    expect(r.stdout).toContain("// approximation: user.id:");
  });

  it("prints one JSON record per target with --json", async () => {
    const r = await run("translate", "--eql", 'process where process.name == "x"', "--target", "all", "--json");
    expect(r.code).toBe(0);
    const records = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(records.map((x) => x.target)).toEqual(["defender", "asim", "auditd"]);
    expect(records[0]).toEqual({
      rule: "<eql>",
      target: "defender",
      kql: 'DeviceProcessEvents\n| where FileName == "x"',
      approximations: [],
    });
  });

  it("exits non-zero on a refusal, naming the field", async () => {
    const r = await run(
      "translate",
      "--eql",
      'process where process.entry_leader.entry_meta.type == "container"',
      "--target",
      "defender",
      "--json",
    );
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).refused).toContain("process.entry_leader.entry_meta.type");
    expect(r.stderr).toMatch(/^shmhunt: refused for defender: field 'process.entry_leader.entry_meta.type'/);
  });

  it("with --json, prints a query that does not parse as its one {rule, error} line, as a batch does, and exits 1", async () => {
    // The translate command's contract: "with `--json` one line per rule and target, with the refusal reason when
    // refused"; a rule file of a batch that cannot be read is its line {rule, error} (test/cli/translate.test.ts).
    // A bad --eql query wrote its reason on stderr only: a CI reading stdout got no line at all.
    const r = await run("translate", "--eql", "process where (", "--target", "all", "--json");
    expect(r.code).toBe(1);
    const lines = r.stdout
      .trim()
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0].rule).toBe("<eql>");
    expect(lines[0].error).toMatch(/^1:16: error EQL101: /);
    expect(r.stderr).toMatch(/^shmhunt: 1:16: error EQL101: /);
  });

  it("reports EQL syntax errors, unknown targets and missing input on one line", async () => {
    expect((await run("translate", "--eql", "process where (", "--target", "defender")).stderr).toMatch(/EQL1\d\d/);
    expect((await run("translate", "--eql", "process where true", "--target", "splunk")).stderr).toContain(
      "unknown target 'splunk'",
    );
    expect((await run("translate")).code).toBe(1);
  });
});
