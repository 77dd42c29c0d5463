import type { AST } from "toml-eslint-parser";
import { describe, expect, it } from "vitest";
import { parseDuration, parseFrom } from "../../src/rules/durations.js";
import { loadRuleText } from "../../src/rules/loader.js";
import { checkThreat } from "../../src/rules/mitre.js";
import { TACTICS, TECHNIQUES } from "../../src/rules/mitre-data.js";
import { buildSettings, defaultSettings } from "../../src/rules/settings.js";
import { formatPath, parseTomlDocument, stringContentOffsets } from "../../src/rules/toml-document.js";
import type { ThreatMapping } from "../../src/rules/types.js";

const threat = (tactic: string, technique: string, subtechniques: string[] = []): ThreatMapping => ({
  framework: "MITRE ATT&CK",
  tactic: { id: tactic, name: TACTICS[tactic] ?? "?" },
  techniques: [
    {
      id: technique,
      name: TECHNIQUES.get(technique)?.name ?? "?",
      subtechniques: subtechniques.map((id) => ({ id, name: "Unix Shell" })),
    },
  ],
});

describe("ATT&CK checks", () => {
  it("accepts a technique under each of its tactics and refuses it elsewhere", () => {
    expect(checkThreat([threat("TA0002", "T1059")])).toEqual([]);
    expect(checkThreat([threat("TA0003", "T1053"), threat("TA0004", "T1053"), threat("TA0002", "T1053")])).toEqual([]);
    const [issue] = checkThreat([threat("TA0007", "T1106")]);
    expect(issue).toMatchObject({
      severity: "error",
      code: "RULE205",
      path: ["rule", "threat", 0, "technique", 0, "id"],
    });
  });

  it("the seed choices fit: T1106 Native API under Execution, T1564 Hide Artifacts under Defense Evasion", () => {
    expect(checkThreat([threat("TA0002", "T1106"), threat("TA0005", "T1564")])).toEqual([]);
    expect(checkThreat([threat("TA0005", "T1106")])[0]?.severity).toBe("error");
  });

  it("checks sub-techniques against their parent, tactics against ATT&CK", () => {
    expect(checkThreat([threat("TA0002", "T1059", ["T1059.004"])])).toEqual([]);
    expect(checkThreat([threat("TA0002", "T1059", ["T1053.003"])])[0]).toMatchObject({
      severity: "error",
      message: "sub-technique T1053.003 is not a sub-technique of T1059",
    });
    expect(checkThreat([{ ...threat("TA0002", "T1059"), tactic: { id: "TA0099", name: "Nope" } }])[0]).toMatchObject({
      severity: "error",
      message: "TA0099 is not an ATT&CK Enterprise tactic",
    });
    expect(
      checkThreat([{ ...threat("TA0002", "T1059"), tactic: { id: "TA0002", name: "Persistence" } }])[0]?.message,
    ).toBe('tactic TA0002 is "Execution", not "Persistence"');
  });

  it("warns, without failing, on a technique outside its table", () => {
    const [issue] = checkThreat([threat("TA0002", "T1999")]);
    expect(issue).toMatchObject({ severity: "warning", code: "RULE205" });
  });
});

describe("durations", () => {
  it("reads Elastic's interval and from", () => {
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("1h")).toBe(3_600_000);
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("5 m")).toBeUndefined();
    expect(parseDuration("0m")).toBeUndefined();
    expect(parseFrom("now-9m")).toBe(540_000);
    expect(parseFrom("now-119m")).toBe(7_140_000);
    expect(parseFrom("9m")).toBeUndefined();
  });

  it("warns when runs would leave time unsearched", () => {
    const source = `[metadata]\ncreation_date = "2026/01/01"\nmaturity = "production"\nupdated_date = "2026/01/01"\n[rule]\nauthor = ["t"]\ndescription = "d"\nname = "n"\nrisk_score = 1\nrule_id = "0b6f3a52-1c1e-4d9e-8a0e-5d7c2f9e4b12"\nseverity = "low"\ntype = "query"\nlanguage = "kuery"\nquery = "a:b"\ninterval = "10m"\nfrom = "now-5m"\n`;
    const { rule, diagnostics } = loadRuleText("gap.toml", source);
    expect(rule?.intervalMs).toBe(600_000);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({
      severity: "warning",
      field: "rule.from",
      span: { start: { line: 16, column: 8 } },
    });
  });
});

describe("settings", () => {
  it("defaults every key for a rule without [shmhunt]", () => {
    const { settings, issues } = buildSettings(undefined, "/r/x.toml");
    expect(issues).toEqual([]);
    expect(settings).toEqual(defaultSettings());
    expect(settings.sampleGate.pendingTimeoutMs).toBe(86_400_000);
  });

  it("resolves YARA files beside the rule and derives the FileHash algorithm", () => {
    const { settings, issues } = buildSettings(
      {
        sample_gate: { mode: "require", yara: ["a.yar"], pending_timeout: "2h" },
        entities: { FileHash: { Value: "process.hash.md5" } },
      },
      "/r/x.toml",
    );
    expect(issues).toEqual([]);
    expect(settings.sampleGate).toMatchObject({
      yara: [{ name: "a.yar", path: "/r/a.yar" }],
      pendingTimeoutMs: 7_200_000,
    });
    expect(settings.entities).toEqual([
      { type: "FileHash", identifiers: [{ identifier: "Value", field: "process.hash.md5" }], algorithm: "MD5" },
    ]);
    expect(settings.analytics.groupBy).toEqual([]);
  });

  it("reports settings that contradict each other", () => {
    const { issues } = buildSettings(
      {
        deploy: ["hunting_query", "analytics_rule"],
        sample_gate: { mode: "require" },
        entities: { Host: { HostName: "host.name" }, FileHash: { Value: "file.hash.tlsh" } },
        analytics: { group_by: ["Account"] },
        exclusions: {
          watchlist: "W",
          items: [{ scenario: "s", field: "process.name", operator: "==", values: ["a*"] }],
        },
      },
      "/r/x.toml",
    );
    expect(issues.map((i) => `${i.severity} ${formatPath(i.path)}`)).toEqual([
      "error shmhunt.entities.FileHash",
      "warning shmhunt.deploy",
      "error shmhunt.analytics.group_by",
      "warning shmhunt.exclusions.items[0].values",
    ]);
  });
});

describe("TOML positions", () => {
  it("formats paths as diagnostics show them", () => {
    expect(formatPath(["rule", "threat", 0, "technique", 1, "id"])).toBe("rule.threat[0].technique[1].id");
    expect(formatPath(["shmhunt", "odd key"])).toBe('shmhunt["odd key"]');
  });

  it("maps each character of a basic string back to the file across escapes", () => {
    const text = 'q = "a\\tb\\u00e9\\\\c"\n';
    const { document } = parseTomlDocument("x.toml", text);
    const node = document?.locate(["q"]).node as AST.TOMLStringValue;
    expect(node.value).toBe("a\tbé\\c");
    const offsets = stringContentOffsets(text, node);
    expect(offsets).toEqual([5, 6, 8, 9, 15, 17, 18]);
    expect(text[offsets[5] ?? 0]).toBe("c");
  });

  it("skips the newline that opens a multi-line string and line-ending backslashes", () => {
    const text = 'q = """\nab \\\n    cd"""\n';
    const { document } = parseTomlDocument("x.toml", text);
    const node = document?.locate(["q"]).node as AST.TOMLStringValue;
    expect(node.value).toBe("ab cd");
    const offsets = stringContentOffsets(text, node);
    expect(offsets.map((o) => text[o])).toEqual(["a", "b", " ", "c", "d", '"']);
  });

  it("locates array-of-tables entries and falls back to the nearest ancestor for a missing key", () => {
    const text = "[[a]]\nx = 1\n[[a]]\ny = [1, 2]\n";
    const { document } = parseTomlDocument("x.toml", text);
    expect(document?.locate(["a", 1, "y", 1]).value.start).toMatchObject({ line: 4, column: 9 });
    expect(document?.locate(["a", 1, "z"]).key.start).toMatchObject({ line: 3, column: 3 });
  });
});

describe("text fields", () => {
  it("trims the description and dedents false positives", () => {
    const source = `[metadata]\ncreation_date = "2026/01/01"\nmaturity = "production"\nupdated_date = "2026/01/01"\n[rule]\nauthor = ["t"]\ndescription = """\nTwo\nlines.\n"""\nfalse_positives = ["""\n    First line,\n      indented more.\n    """]\nname = "n"\nrisk_score = 1\nrule_id = "0b6f3a52-1c1e-4d9e-8a0e-5d7c2f9e4b12"\nseverity = "low"\ntype = "query"\nlanguage = "kuery"\nquery = "a:b"\n`;
    const { rule } = loadRuleText("text.toml", source);
    expect(rule?.description).toBe("Two\nlines.");
    expect(rule?.falsePositives).toEqual(["First line,\n  indented more."]);
  });
});

describe("technique ids", () => {
  it("explains where a sub-technique id belongs", () => {
    const source = `[metadata]\ncreation_date = "2026/01/01"\nmaturity = "production"\nupdated_date = "2026/01/01"\n[rule]\nauthor = ["t"]\ndescription = "d"\nname = "n"\nrisk_score = 1\nrule_id = "0b6f3a52-1c1e-4d9e-8a0e-5d7c2f9e4b12"\nseverity = "low"\ntype = "query"\nlanguage = "kuery"\nquery = "a:b"\n[[rule.threat]]\nframework = "MITRE ATT&CK"\n[[rule.threat.technique]]\nid = "T1059.004"\nname = "Unix Shell"\n[rule.threat.tactic]\nid = "TA0002"\nname = "Execution"\n`;
    const { diagnostics } = loadRuleText("sub.toml", source);
    expect(diagnostics.map((d) => [d.field, d.span?.start.line, d.message])).toEqual([
      [
        "rule.threat[0].technique[0].id",
        18,
        'must be a technique id like T1059, not "T1059.004" (T1059.004 is a sub-technique: list it under [[rule.threat.technique.subtechnique]] of T1059)',
      ],
    ]);
  });
});
