import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type Diagnostic, formatDiagnostic } from "../../src/diagnostics/index.js";
import { loadRuleFile, loadRules, loadRuleText } from "../../src/rules/index.js";
import { seedExecutionQuery } from "../support/seed-text.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const fixtures = path.join(repo, "test/rules/fixtures");
const fixture = (name: string) => path.join(fixtures, name);

/** `line:column code field` of each diagnostic: what a reader needs to find and fix it. */
const where = (diagnostics: readonly Diagnostic[]) =>
  diagnostics.map((d) => `${d.span?.start.line}:${d.span?.start.column} ${d.code} ${d.field ?? ""}`.trim());

describe("seed rules", () => {
  it("shm-execution is the published Elastic rule with the schedule and MITRE of the issue", async () => {
    const { rule, diagnostics } = await loadRuleFile(path.join(repo, "rules/shm-execution.toml"));
    expect(diagnostics).toEqual([]);
    expect(rule).toBeDefined();
    if (!rule) return;
    expect(rule.id).toBe("3f3f9fe2-d095-11ec-95dc-f661ea17fbce");
    expect(rule.name).toBe("Binary Executed from Shared Memory Directory");
    expect(rule).toMatchObject({
      severity: "high",
      riskScore: 73,
      intervalMs: 300_000,
      lookbackMs: 540_000,
      maxSignals: 100,
    });
    expect(rule.threat[0]).toMatchObject({ tactic: { id: "TA0002" }, techniques: [{ id: "T1059" }] });
    expect(rule.references).toContain("https://www.elastic.co/security-labs/a-peek-behind-the-bpfdoor");
    expect(rule.query?.ast?.kind).toBe("event");
    expect(rule.settings).toMatchObject({ declared: true, deploy: ["hunting_query", "analytics_rule"] });
    expect(rule.settings.sampleGate).toMatchObject({ mode: "annotate", yara: [], pathFields: ["process.executable"] });
  });

  it("shm-execution is the seed's version 103, its query byte for byte the seed's", async () => {
    const seed = await loadRuleFile(path.join(repo, "rules/shm-execution.toml"));
    expect(seed.rule?.query?.text).toBe(seedExecutionQuery);
    // The seed: version 103 of Elastic package 8.5.1, over logs-endpoint.events.* and endgame-*, with its tags.
    expect(seed.rule).toMatchObject({
      version: 103,
      elasticRuleId: "3f3f9fe2-d095-11ec-95dc-f661ea17fbce",
      index: ["logs-endpoint.events.*", "endgame-*"],
      tags: ["Elastic", "Host", "Linux", "Threat Detection", "Execution", "BPFDoor", "Elastic Endgame"],
      references: [
        "https://linuxsecurity.com/features/fileless-malware-on-linux",
        "https://twitter.com/GossiTheDog/status/1522964028284411907",
        "https://www.elastic.co/security-labs/a-peek-behind-the-bpfdoor",
      ],
    });
    expect(seed.rule?.threat.map((t) => `${t.tactic.id}/${t.techniques.map((x) => x.id).join(",")}`)).toEqual([
      "TA0002/T1059",
    ]);
  });

  it("the later upstream revision ships beside the seed under its own identity, its query as published", async () => {
    const { readFile } = await import("node:fs/promises");
    const published = await readFile(
      path.resolve(
        repo,
        "../shared/corpus/elastic-rules-linux/rules_linux/execution_process_started_in_shared_memory_directory.toml",
      ),
      "utf8",
    );
    const upstream = await loadRuleFile(path.join(repo, "rules/shm-execution-upstream.toml"));
    const original = loadRuleText("published.toml", published);
    expect(original.rule?.query?.text).toBeDefined();
    expect(upstream.rule?.query?.text).toBe(original.rule?.query?.text);
    expect(upstream.rule?.description).toBe(original.rule?.description);
    expect(upstream.rule?.threat).toEqual(original.rule?.threat);
    expect(upstream.rule?.elasticRuleId).toBe(original.rule?.id);
    expect(upstream.rule?.id).toBe(`${original.rule?.id}-upstream`);
  });

  it("shm-creation is a gated EQL hunt with its exclusions as data", async () => {
    const { rule, diagnostics } = await loadRuleFile(path.join(repo, "rules/shm-creation.toml"));
    expect(diagnostics).toEqual([]);
    if (!rule) throw new Error("shm-creation did not load");
    expect(rule.id).not.toBe("3f3f9fe2-d095-11ec-95dc-f661ea17fbce");
    expect(rule.language).toBe("eql");
    expect(rule.query?.ast).not.toBeNull();
    expect(rule.query?.text).toContain('?auditd.data.a0 : "82015f0d"');
    // The EQL names no excluded process: exclusions are applied from the list.
    for (const name of ["apt", "cron", "mysqld", "ipcs", "lxc"]) expect(rule.query?.text).not.toContain(name);
    const gate = rule.settings.sampleGate;
    expect(gate.mode).toBe("require");
    expect(gate.yara.map((y) => y.name)).toEqual(["shm-creation.yar"]);
    expect(gate.yara[0]?.path).toBe(path.join(repo, "rules/shm-creation.yar"));
    expect(rule.settings.deploy).toEqual(["hunting_query"]);
    const exclusions = rule.settings.exclusions;
    expect(exclusions?.watchlist).toBe("ShmhuntShmCreationExclusions");
    expect(exclusions?.items.map((i) => i.scenario)).toEqual([
      "package managers",
      "schedulers",
      "mmap-heavy services",
      "System V IPC tools",
      "virtualisation and containers",
    ]);
    const values = exclusions?.items.flatMap((i) => i.values) ?? [];
    for (const v of [
      "apt",
      "yum",
      "dnf",
      "cron",
      "systemd",
      "at",
      "mysqld",
      "postgres",
      "dockerd",
      "kvm",
      "sysvmsg",
      "msgget",
      "ipcs",
      "lxc-*",
    ]) {
      expect(values).toContain(v);
    }
    expect(rule.settings.entities.find((e) => e.type === "FileHash")).toMatchObject({ algorithm: "SHA256" });
    expect(rule.threat.map((t) => `${t.tactic.id}/${t.techniques.map((x) => x.id).join(",")}`)).toEqual([
      "TA0002/T1106",
      "TA0005/T1564",
    ]);
  });

  it("the seed rules have different ids and load together", async () => {
    const { rules, diagnostics } = await loadRules(path.join(repo, "rules"));
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(rules.map((r) => `${path.basename(r.file)} ${r.id}`).sort()).toEqual([
      "shm-creation.toml 87450601-f927-4e83-ac0a-419afde944df",
      "shm-execution-upstream.toml 3f3f9fe2-d095-11ec-95dc-f661ea17fbce-upstream",
      "shm-execution.toml 3f3f9fe2-d095-11ec-95dc-f661ea17fbce",
    ]);
  });
});

describe("Elastic's Linux corpus", () => {
  const corpus = path.resolve(repo, "../shared/corpus/elastic-rules-linux");

  it("loads every rule with no diagnostic and defaulted settings", async () => {
    const { rules, diagnostics } = await loadRules([
      path.join(corpus, "rules_linux"),
      path.join(corpus, "rules_building_block_linux"),
    ]);
    expect(diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(rules.length).toBe(384);
    const byLanguage: Record<string, number> = {};
    for (const r of rules) byLanguage[r.language] = (byLanguage[r.language] ?? 0) + 1;
    expect(byLanguage).toEqual({ eql: 295, kuery: 80, esql: 9 });
    expect(rules.filter((r) => r.type === "new_terms")).toHaveLength(59);
    expect(rules.filter((r) => r.type === "threshold")).toHaveLength(4);
    expect(rules.filter((r) => r.buildingBlock)).toHaveLength(21);
    // Every EQL rule's query parsed; other languages are kept as text.
    for (const r of rules) {
      expect(r.query?.ast === null, r.file).toBe(r.language !== "eql");
      expect(r.settings.declared).toBe(false);
      expect(r.settings.targets).toEqual(["defender", "asim", "auditd"]);
      expect(r.settings.sampleGate.mode).toBe("none");
    }
    // Elastic's defaults apply where the rule omits them.
    const defaults = rules.find((r) => r.file.endsWith("execution_process_started_in_shared_memory_directory.toml"));
    expect(defaults).toMatchObject({ intervalMs: 300_000, maxSignals: 100, lookbackMs: 540_000 });
  });
});

describe("diagnostics", () => {
  it("a broken rule file names line, column and key for each mistake", async () => {
    const { rule, diagnostics } = await loadRuleFile(fixture("broken.toml"));
    expect(rule).toBeUndefined();
    expect(where(diagnostics)).toEqual([
      "9:8 RULE203 rule.from",
      "10:12 RULE203 rule.interval",
      "13:14 RULE203 rule.risk_score",
      "14:11 RULE204 rule.rule_id",
      "15:12 RULE203 rule.severity",
      "17:1 RULE201 rule.colour",
      "21:1 EQL101 rule.query",
      "27:6 RULE205 rule.threat[0].technique[0].id",
      "38:6 RULE205 rule.threat[1].technique[0].id",
      "46:24 RULE203 shmhunt.targets[1]",
      "48:1 RULE201 shmhunt.mystery",
      "51:8 RULE203 shmhunt.sample_gate.mode",
      "55:10 RULE201 shmhunt.entities.Host.Hostname",
      "56:1 RULE201 shmhunt.entities.Device",
    ]);
    for (const d of diagnostics) expect(d.file).toBe(fixture("broken.toml"));
    const mismatch = diagnostics.find((d) => d.field === "rule.threat[0].technique[0].id");
    expect(mismatch?.message).toBe(
      "technique T1059 (Command and Scripting Interpreter) does not belong to tactic TA0005 (Defense Evasion)",
    );
    expect(mismatch?.hint).toBe("T1059 belongs to TA0002 Execution");
  });

  it("missing keys point at their table, wrong types at the value", async () => {
    const { diagnostics } = await loadRuleFile(fixture("missing-fields.toml"));
    expect(where(diagnostics)).toEqual([
      "6:2 RULE202 rule.rule_id",
      "6:2 RULE202 rule.name",
      "6:2 RULE202 rule.description",
      "9:14 RULE203 rule.risk_score",
    ]);
    expect(diagnostics[3]?.message).toBe("must be an integer, not a string");
  });

  it("a TOML syntax error is reported where it is", async () => {
    const { diagnostics } = await loadRuleFile(fixture("bad-toml.toml"));
    expect(where(diagnostics)).toEqual(["2:21 RULE200"]);
  });

  it("an EQL error inside a basic string is placed past its escapes", async () => {
    const { diagnostics } = await loadRuleFile(fixture("basic-string-query.toml"));
    expect(where(diagnostics)).toEqual(["15:61 EQL101 rule.query"]);
    const text = (await import("node:fs/promises")).readFile(fixture("basic-string-query.toml"), "utf8");
    expect((await text).split("\n")[14]?.slice(60, 63)).toBe("===");
  });

  it("an EQL error in a multi-line literal query is shifted to the file's line and column", () => {
    const source = [
      "[metadata]",
      'creation_date = "2026/01/01"',
      'maturity = "production"',
      'updated_date = "2026/01/01"',
      "[rule]",
      'author = ["t"]',
      'description = "d"',
      'name = "n"',
      "risk_score = 1",
      'rule_id = "0b6f3a52-1c1e-4d9e-8a0e-5d7c2f9e4b12"',
      'severity = "low"',
      'type = "eql"',
      'language = "eql"',
      "query = '''process where",
      "   process.name : ?'''",
    ].join("\n");
    const { diagnostics } = loadRuleText("inline.toml", source);
    expect(where(diagnostics)).toEqual(["15:19 EQL101 rule.query"]);
  });

  it("an unknown key gets a did-you-mean hint", () => {
    const source = `[metadata]\ncreation_date = "2026/01/01"\nmaturity = "production"\nupdated_date = "2026/01/01"\n[rule]\nauthor = ["t"]\ndescription = "d"\nname = "n"\nrisk_score = 1\nrule_id = "0b6f3a52-1c1e-4d9e-8a0e-5d7c2f9e4b12"\nseverity = "low"\ntype = "query"\nlanguage = "kuery"\nquery = "a:b"\nrefrences = []\n`;
    const { diagnostics } = loadRuleText("typo.toml", source);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({
      code: "RULE201",
      field: "rule.refrences",
      hint: "did you mean 'references'?",
    });
  });

  it("a watchlist alias outside Microsoft's rule (3 to 64 characters, first and last alphanumeric) is refused", async () => {
    // learn.microsoft.com/azure/sentinel/watchlists, "Limitations of watchlists": "the watchlist name and alias must
    // each be between 3 and 64 characters. The first and last characters must be alphanumeric."
    const { readFile } = await import("node:fs/promises");
    const text = await readFile(path.join(repo, "rules/shm-creation.toml"), "utf8");
    const withAlias = (alias: string) => {
      const edited = text.replace('watchlist = "ShmhuntShmCreationExclusions"', `watchlist = "${alias}"`);
      expect(edited).not.toBe(text);
      return loadRuleText("alias.toml", edited).diagnostics.map((d) => d.field);
    };
    for (const bad of ["Ab", "A", "Shmhunt_", `S${"a".repeat(64)}`]) {
      expect(withAlias(bad), bad).toEqual(["shmhunt.exclusions.watchlist"]);
    }
    for (const good of ["Ab1", "Shm_Creation", `S${"a".repeat(63)}`]) {
      expect(withAlias(good), good).toEqual([]);
    }
  });

  it("a rule id used twice is an error on the later file", async () => {
    const { rules, diagnostics } = await loadRules([fixture("minimal.toml"), fixture("duplicate-id.toml")]);
    expect(rules.map((r) => r.name)).toEqual(["Minimal"]);
    expect(where(diagnostics)).toEqual(["12:11 RULE206 rule.rule_id"]);
    expect(diagnostics[0]?.file).toBe(fixture("duplicate-id.toml"));
    expect(diagnostics[0]?.message).toContain(fixture("minimal.toml"));
  });

  // learn.microsoft.com/azure/sentinel/scheduled-rules-overview, "Analytics rule name and details": "**Name:** The name
  // of the rule as it appears in the list of rules and in any rule-based filters. The name must be unique to your
  // workspace." (create-analytics-rules, "Name the rule and define general information": "A unique name for your
  // rule."). Two rule files of one name that both deploy an analytics rule on a target would give it twice.
  it("two rules whose analytics rules would have the same name on a target: an error at the later file's name", async () => {
    const { mkdtemp, readFile, writeFile, rm } = await import("node:fs/promises");
    const os = await import("node:os");
    const dir = await mkdtemp(path.join(os.tmpdir(), "shmhunt-names-"));
    try {
      const seed = await readFile(path.join(repo, "rules/shm-execution.toml"), "utf8");
      const copy = (text: string) =>
        text.replace(
          'rule_id = "3f3f9fe2-d095-11ec-95dc-f661ea17fbce"',
          'rule_id = "00000000-1111-4222-8333-444444444444"',
        );
      expect(copy(seed)).not.toBe(seed);
      const first = path.join(dir, "a.toml");
      const second = path.join(dir, "b.toml");
      await writeFile(first, seed);
      await writeFile(second, copy(seed));
      const { rules, diagnostics } = await loadRules(dir);
      expect(rules.map((r) => r.file)).toEqual([first]);
      expect(diagnostics.map((d) => [d.code, d.field, d.file, d.severity])).toEqual([
        ["RULE208", "rule.name", second, "error"],
      ]);
      expect(diagnostics[0]?.message).toContain("Binary Executed from Shared Memory Directory (defender)");
      expect(diagnostics[0]?.message).toContain(first);
      expect(diagnostics[0]?.span?.start.line).toBe(
        copy(seed)
          .split("\n")
          .findIndex((l) => l.startsWith("name = ")) + 1,
      );

      // Only hunting queries (saved searches, for which Microsoft states no such rule): both load.
      await writeFile(
        second,
        copy(seed).replace('deploy = ["hunting_query", "analytics_rule"]', 'deploy = ["hunting_query"]'),
      );
      expect((await loadRules(dir)).diagnostics).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a sample gate naming a YARA file that does not exist is an error at that name", async () => {
    const { mkdtemp, readFile, writeFile, rm } = await import("node:fs/promises");
    const os = await import("node:os");
    const dir = await mkdtemp(path.join(os.tmpdir(), "shmhunt-rules-"));
    try {
      const base = await readFile(fixture("minimal.toml"), "utf8");
      const file = path.join(dir, "gated.toml");
      await writeFile(file, `${base}\n[shmhunt.sample_gate]\nmode = "require"\nyara = ["nope.yar"]\n`);
      const { rule, diagnostics } = await loadRuleFile(file);
      expect(rule).toBeUndefined();
      expect(diagnostics).toHaveLength(1);
      expect(diagnostics[0]).toMatchObject({ code: "RULE203", field: "shmhunt.sample_gate.yara[0]" });
      expect(diagnostics[0]?.message).toContain("YARA file 'nope.yar' not found");
      const written = (await readFile(file, "utf8")).split("\n");
      expect(diagnostics[0]?.span?.start.line).toBe(written.indexOf('yara = ["nope.yar"]') + 1);
      expect(diagnostics[0]?.span?.start.column).toBe(9);
      await writeFile(path.join(dir, "nope.yar"), "rule x { condition: true }\n");
      expect((await loadRuleFile(file)).diagnostics).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
