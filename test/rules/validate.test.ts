import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RuleCheck, validateAll } from "../../src/rules/validate.js";
import { runCli } from "../support/cli-in-process.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const broken = path.relative(process.cwd(), path.join(repo, "test/rules/fixtures/broken.toml"));

const run = (...args: string[]) => runCli(["validate", ...args]);

let tmp = "";
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "shmhunt-validate-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("shmhunt validate", () => {
  it("passes the shipped rules/ (TOML and YARA) with exit 0", async () => {
    const cwd = process.cwd();
    process.chdir(repo);
    try {
      const { code, stdout, stderr } = await run();
      expect(stderr).toMatch(/^4 files checked: 4 valid, 0 invalid \(0 errors, 0 warnings\)\n$/);
      // The translator's approximations are reported per rule, as info.
      const lines = stdout.trim().split("\n");
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines)
        expect(line).toMatch(
          /^rules\/shm-(creation|execution|execution-upstream)\.toml:\d+:1: info KQL302: (defender|asim|auditd): /,
        );
      expect(code).toBe(0);
    } finally {
      process.chdir(cwd);
    }
  });

  it("fails a broken rule file with file:line:column and key for each error", async () => {
    const { code, stdout, stderr } = await run(broken);
    expect(code).toBe(1);
    const lines = stdout.trim().split("\n");
    expect(lines).toContain(
      `${broken}:14:11: error RULE204: must be a UUID such as 3f3f9fe2-d095-11ec-95dc-f661ea17fbce, not "not-a-uuid" (rule.rule_id)`,
    );
    expect(lines).toContain(`${broken}:17:1: error RULE201: unknown key 'colour' (rule.colour)`);
    expect(lines).toContain(
      `${broken}:27:6: error RULE205: technique T1059 (Command and Scripting Interpreter) does not belong to tactic TA0005 (Defense Evasion) (rule.threat[0].technique[0].id) — T1059 belongs to TA0002 Execution`,
    );
    expect(lines.some((l) => l.startsWith(`${broken}:21:1: error EQL101: `) && l.endsWith("(rule.query)"))).toBe(true);
    // One line on stderr: the summary is dropped from the reason, which names the first error.
    const reason = stderr.trim().split("\n").pop();
    expect(reason).toBe(
      `shmhunt: validation failed: 14 errors; first: ${broken}:9:8: error RULE203: must be "now-" and a duration, such as "now-9m", not "9 minutes ago" (rule.from)`,
    );
  });

  it("--json prints one diagnostic per line", async () => {
    const { code, stdout } = await run(broken, "--json");
    expect(code).toBe(1);
    const records = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(records).toHaveLength(14);
    const uuid = records.find((r) => r.code === "RULE204");
    expect(uuid).toMatchObject({
      severity: "error",
      file: broken,
      field: "rule.rule_id",
      span: { start: { line: 14, column: 11 } },
    });
  });

  it("fails a rule that does not translate for one of its targets (the translator's rule check)", async () => {
    const { readFile } = await import("node:fs/promises");
    const minimal = await readFile(path.join(repo, "test/rules/fixtures/minimal.toml"), "utf8");
    const file = path.join(tmp, "untranslatable.toml");
    await writeFile(file, minimal.replace('process.name == "true"', "process.tty.char_device.major == 4"));
    const { code, stdout } = await run(file, "--json");
    expect(code).toBe(1);
    const errors = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((d) => d.severity === "error");
    expect(errors.map((d) => d.code)).toContain("KQL300");
    expect(errors.find((d) => d.code === "KQL300")).toMatchObject({ span: { start: { line: 18, column: 1 } } });
    expect(errors.find((d) => d.code === "KQL300")?.message).toContain("process.tty.char_device.major");
  });

  it("checks YARA files through the YARA validator", async () => {
    const bad = path.join(tmp, "bad.yar");
    await writeFile(bad, 'rule broken {\n  strings:\n    $a = "x"\n  condition:\n    $b\n}\n');
    const { code, stdout } = await run(bad);
    expect(code).toBe(1);
    expect(stdout).toMatch(/bad\.yar:5:5: error YARA400: /);
  });

  it("checks KQL files with Kusto.Language against the table schemas", async () => {
    const good = path.join(tmp, "good.kql");
    const bad = path.join(tmp, "bad.kql");
    await writeFile(good, 'DeviceProcessEvents\n| where FolderPath startswith "/dev/shm/"\n| take 10\n');
    await writeFile(bad, "DeviceProcessEvents\n| where NoSuchColumn == 1\n");
    const report = await validateAll([good, bad]);
    expect(report.files.map((f) => [path.basename(f.file), f.checker, f.valid])).toEqual([
      ["bad.kql", "kql", false],
      ["good.kql", "kql", true],
    ]);
    expect(report.files[0]?.diagnostics[0]).toMatchObject({ code: "KQL310", span: { start: { line: 2, column: 9 } } });
  });

  it("knows the ASIM parsers' parameters: a query calling _Im_ProcessEvent(eventtype=…) is valid", async () => {
    // Microsoft's imProcessEvent.yaml declares _Im_ProcessEvent(starttime, endtime, …, eventtype:string='*') and
    // imFileEvent.yaml _Im_FileEvent(…, eventtype_in:dynamic=dynamic([]), …): a call with them binds in Sentinel.
    const asim = path.join(tmp, "asim.kql");
    await writeFile(
      asim,
      [
        '_Im_ProcessEvent(eventtype="ProcessCreated", starttime=ago(1h))',
        '| where TargetProcessName startswith "/dev/shm/"',
        "| union (_Im_FileEvent(eventtype_in=dynamic(['FileCreated'])) | project TargetFilePath)",
        "",
      ].join("\n"),
    );
    expect((await validateAll([asim])).files[0]?.diagnostics).toEqual([]);
    // docs/rules.md's own example: the generated kql/ folder as checked in.
    const { code, stderr } = await run(path.join(repo, "kql"));
    expect(stderr).toMatch(/files checked: \d+ valid, 0 invalid/);
    expect(code).toBe(0);
  });

  it("knows the workspace functions kept in functions/ and the exclusion watchlist's columns", async () => {
    const { mkdir } = await import("node:fs/promises");
    const kql = path.join(tmp, "kql");
    await mkdir(path.join(kql, "functions"), { recursive: true });
    await mkdir(path.join(kql, "rule"), { recursive: true });
    await writeFile(
      path.join(kql, "functions", "ParserFn.kql"),
      "Syslog\n| project TimeGenerated, Computer, SyslogMessage\n",
    );
    const query = path.join(kql, "rule", "auditd.kql");
    await writeFile(
      query,
      [
        'let excluded = _GetWatchlist("W") | where Field == "process.name" | project Value;',
        "ParserFn()",
        "| where Computer !in (excluded)",
        '| where SyslogMessage has "shmget"',
        "",
      ].join("\n"),
    );
    const report = await validateAll([query]);
    expect(report.files[0]?.diagnostics).toEqual([]);
    await writeFile(query, "ParserFn()\n| where NoColumn == 1\n");
    const broken = await validateAll([kql]);
    expect(broken.files.map((f) => [path.basename(f.file), f.valid])).toEqual([
      ["ParserFn.kql", true],
      ["auditd.kql", false],
    ]);
  });

  it("groups diagnostics by file and runs rule checks on the rules that loaded", async () => {
    const seen: string[] = [];
    const check: RuleCheck = (rule) => {
      seen.push(rule.name);
      return rule.name === "Minimal"
        ? [{ code: "KQL300", severity: "error", message: "refused for defender", file: rule.file }]
        : [];
    };
    const fixtures = path.join(repo, "test/rules/fixtures");
    const report = await validateAll([path.join(fixtures, "minimal.toml"), path.join(repo, "rules")], {
      ruleChecks: [check],
    });
    expect(seen.sort()).toEqual([
      "Binary Executed from Shared Memory Directory",
      "Binary Executed from Shared Memory Directory",
      "Minimal",
      "Shared Memory Creation Matching Derusbi",
    ]);
    const minimal = report.files.find((f) => f.file.endsWith("minimal.toml"));
    expect(minimal?.diagnostics.map((d) => d.code)).toEqual(["KQL300"]);
    expect(report.files.filter((f) => f.valid)).toHaveLength(4);
    expect(report.valid).toBe(false);
  });

  it("refuses a path that does not exist and a file it cannot check", async () => {
    const notes = path.join(tmp, "notes.txt");
    await writeFile(notes, "hello\n");
    const report = await validateAll([path.join(tmp, "nope.toml"), notes]);
    expect(report.valid).toBe(false);
    expect(report.general.map((d) => d.message)).toEqual([
      `no such file or directory: ${path.join(tmp, "nope.toml")}`,
      `cannot validate ${notes}: expected .toml, .yar, .yara, .kql`,
    ]);
  });
});

describe("a rule file linked into the rules folder", () => {
  // The standard: "a broken rule file fails validation, never a half-deploy", and nothing is lost. A symbolic link
  // to a rule file was skipped by the folder walks of validate and of the loader deploy uses: validate passed with
  // the broken rule unchecked, and deploy left the rule out without a word.
  it("is checked by validate and loaded by loadRules; a dangling link is an error", async () => {
    const { mkdir, readFile, symlink } = await import("node:fs/promises");
    const { loadRules } = await import("../../src/rules/loader.js");
    const dir = path.join(tmp, "linked");
    const elsewhere = path.join(tmp, "elsewhere");
    await mkdir(dir, { recursive: true });
    await mkdir(elsewhere, { recursive: true });
    const minimal = await readFile(path.join(repo, "test/rules/fixtures/minimal.toml"), "utf8");
    await writeFile(path.join(elsewhere, "broken.toml"), minimal.replace("risk_score = 21", "risk_score = 21 x"));
    await symlink(path.join(elsewhere, "broken.toml"), path.join(dir, "linked.toml"));
    const report = await validateAll([dir]);
    expect(report.valid).toBe(false);
    expect(report.files.map((f) => [path.basename(f.file), f.valid])).toEqual([["linked.toml", false]]);
    expect(report.files[0]?.diagnostics.map((d) => `${d.span?.start.line}:${d.span?.start.column} ${d.code}`)).toEqual([
      "13:17 RULE200",
    ]);

    await writeFile(path.join(elsewhere, "broken.toml"), minimal);
    expect((await loadRules(dir)).rules.map((r) => r.name)).toEqual(["Minimal"]);

    await symlink(path.join(elsewhere, "gone.toml"), path.join(dir, "dangling.toml"));
    const dangling = await validateAll([dir]);
    expect(dangling.valid).toBe(false);
    expect(dangling.general.map((d) => [path.basename(d.file ?? ""), d.code, d.severity])).toEqual([
      ["dangling.toml", "RULE200", "error"],
    ]);
    expect((await loadRules(dir)).diagnostics.map((d) => [path.basename(d.file ?? ""), d.code])).toEqual([
      ["dangling.toml", "RULE200"],
    ]);
  });
});
