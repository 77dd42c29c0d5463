import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli-in-process.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// Elastic's rule, refused on every target for process.env_vars (no counterpart column: docs/targets.md).
const refusedRule = path.resolve(
  root,
  "../shared/corpus/elastic-rules-linux/rules_linux/command_and_control_curl_socks_proxy_detected.toml",
);

/** Runs the CLI in this process; `out` and `err`: what it wrote. */
async function run(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout, stderr } = await runCli(args);
  return { code, out: stdout, err: stderr };
}

/** The query lines of a KQL file (comments dropped: the generated files carry a header). */
const body = (text: string) =>
  text
    .split("\n")
    .filter((l) => !l.startsWith("//"))
    .join("\n")
    .trim();

describe("shmhunt translate over many rules", () => {
  const dirs: string[] = [];
  const temp = () => {
    const d = mkdtempSync(path.join(tmpdir(), "shmhunt-translate-"));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    process.exitCode = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("writes <out>/<rule file name>/<target>.kql for a folder, the same query as kql/ holds", async () => {
    const out = temp();
    const r = await run(["translate", path.join(root, "rules"), "--target", "all", "--out", out]);
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["shm-creation", "shm-execution", "shm-execution-upstream"]);
    for (const rule of readdirSync(out)) {
      expect(readdirSync(path.join(out, rule)).sort()).toEqual(["asim.kql", "auditd.kql", "defender.kql"]);
      for (const target of ["asim", "auditd", "defender"]) {
        const written = readFileSync(path.join(out, rule, `${target}.kql`), "utf8");
        const golden = readFileSync(path.join(root, "kql", rule, `${target}.kql`), "utf8");
        expect(body(written), `${rule}/${target}`).toBe(body(golden));
      }
    }
    expect(r.err).toContain("3 rule files: 9 translated, 0 refused, 0 failed (rule × target); wrote 9 .kql files to");
  });

  it("says what --out received: nothing when no rule file could be read", async () => {
    const out = path.join(temp(), "out");
    const missing = path.join(temp(), "missing.toml");
    const r = await run(["translate", missing, "--target", "defender", "--out", out]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `1 rule files: 0 translated, 0 refused, 1 failed (rule × target); wrote nothing to ${out}\n`,
    );
    expect(r.err).not.toContain(`; wrote ${out}`);
  });

  it("prints one JSON line per rule and target with --json, refusals with their reason, and goes on", async () => {
    const r = await run([
      "translate",
      path.join(root, "rules/shm-execution.toml"),
      refusedRule,
      "--target",
      "defender",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const lines = r.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [path.basename(l.rule), l.target])).toEqual([
      ["shm-execution.toml", "defender"],
      [path.basename(refusedRule), "defender"],
    ]);
    expect(lines[0].kql).toContain("DeviceProcessEvents");
    expect(lines[1].kql).toBeUndefined();
    expect(lines[1].refused).toContain("process.env_vars");
    expect(r.err).toBe("");
  });

  it("reports a rule file that cannot be loaded (file and line), finishes the batch, and exits 1", async () => {
    const input = temp();
    writeFileSync(path.join(input, "a-broken.toml"), '[rule]\nname = "x"\nquery = \n');
    writeFileSync(path.join(input, "b-good.toml"), readFileSync(path.join(root, "rules/shm-execution.toml")));
    const out = temp();
    const r = await run(["translate", input, "--target", "defender", "--out", out]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/a-broken\.toml:\d+:\d+: error RULE200/);
    expect(readdirSync(out)).toEqual(["b-good"]);
  });

  it("with --json, prints one rule file that cannot be loaded as its {rule, error} line, as in a batch, and exits 1", async () => {
    const input = temp();
    const broken = path.join(input, "a-broken.toml");
    writeFileSync(broken, '[rule]\nname = "x"\nquery = \n');
    const alone = await run(["translate", broken, "--target", "all", "--json"]);
    const batch = await run(["translate", broken, path.join(root, "rules/shm-execution.toml"), "--json"]);
    expect(alone.code).toBe(1);
    expect(batch.code).toBe(1);
    const first = (text: string) => JSON.parse(text.split("\n")[0] ?? "");
    expect(first(alone.out)).toEqual(first(batch.out));
    expect(first(alone.out).error).toMatch(/a-broken\.toml:\d+:\d+: error RULE200/);
    expect(alone.err).toMatch(/a-broken\.toml:\d+:\d+: error RULE200/);
  });

  it("takes a path that is not there as a rule file that cannot be loaded: its {rule, error} line, the batch goes on", async () => {
    // docs/kql.md: "a rule file that cannot be loaded is {rule, error}", "the exit code is 1 … after the whole
    // batch"; a missing path ended the batch before its first line (`ENOENT: … stat`), nothing translated.
    const missing = path.join(temp(), "missing.toml");
    const r = await run([
      "translate",
      missing,
      path.join(root, "rules/shm-execution.toml"),
      "--target",
      "defender",
      "--json",
    ]);
    expect(r.code).toBe(1);
    const lines = r.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { rule: missing, error: expect.stringMatching(/missing\.toml: error RULE200/) },
      expect.objectContaining({ target: "defender", kql: expect.stringContaining("DeviceProcessEvents") }),
    ]);
  });

  it("asks for --out or --json when given several rules, and keeps the one-rule form on stdout", async () => {
    const many = await run(["translate", path.join(root, "rules"), "--target", "defender"]);
    expect(many.code).toBe(1);
    expect(many.err).toContain("--out");
    const one = await run(["translate", path.join(root, "rules/shm-execution.toml"), "--target", "defender"]);
    expect(one.code).toBe(0);
    expect(body(one.out)).toBe(body(readFileSync(path.join(root, "kql/shm-execution/defender.kql"), "utf8")));
  });
});
