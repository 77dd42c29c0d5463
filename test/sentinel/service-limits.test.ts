/**
 * `shmhunt validate` and `shmhunt deploy` refuse what Microsoft Sentinel would refuse, before any request, naming the
 * rule file, line and key. The bounds are Microsoft's documented ones (src/sentinel/service-limits.ts cites each):
 * query 1–10,000 characters ("Set rule logic", learn.microsoft.com/azure/sentinel/scheduled-rules-overview),
 * frequency and period 5 minutes–14 days with period ≥ frequency, suppression 5 minutes–24 hours, grouping lookback
 * 5 minutes–7 days, 150 alerts per run with one alert per result, 10 entity mappings of 3 identifiers.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { validateContent } from "../../src/app/validate.js";
import { Codes, type Diagnostic, DiagnosticError } from "../../src/diagnostics/index.js";
import { deploy } from "../../src/sentinel/deploy.js";
import { recordingClients } from "../support/content-readers.js";

const repo = path.resolve(import.meta.dirname, "../..");
const seed = readFileSync(path.join(repo, "rules/shm-execution.toml"), "utf8");
const dir = mkdtempSync(path.join(os.tmpdir(), "shmhunt-limits-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 400 names of 30 characters each: the translated query passes 10,000 characters on every target. */
const longList = Array.from({ length: 400 }, (_, i) => `"not-a-real-binary-name-${String(i).padStart(6, "0")}"`).join(
  ", ",
);

function variant(name: string, edit: (text: string) => string): string {
  const file = path.join(dir, name, "rule.toml");
  const text = edit(seed);
  expect(text).not.toBe(seed);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

const lineOf = (file: string, key: RegExp) =>
  readFileSync(file, "utf8")
    .split("\n")
    .findIndex((l) => key.test(l)) + 1;

async function limitFindings(file: string): Promise<Diagnostic[]> {
  const report = await validateContent([file]);
  return report.files.flatMap((f) => f.diagnostics).filter((d) => d.code === Codes.RuleServiceLimit);
}

describe("service limits", () => {
  it("the seed rules are within every limit", async () => {
    const report = await validateContent([path.join(repo, "rules")]);
    expect(report.files.flatMap((f) => f.diagnostics).filter((d) => d.code === Codes.RuleServiceLimit)).toEqual([]);
  }, 120_000);

  it("refuses schedule, suppression, grouping and max_signals out of range, at the key's line", async () => {
    const file = variant("schedule", (t) =>
      t
        .replace('from = "now-9m"', 'from = "now-15d"')
        .replace('interval = "5m"', 'interval = "1m"')
        .replace("max_signals = 100", "max_signals = 151")
        .replace('grouping_window = "5h"', 'grouping_window = "8d"\nsuppression = "25h"'),
    );
    const found = await limitFindings(file);
    const at = (field: string) => found.filter((d) => d.field === field);
    expect(at("rule.interval")[0]?.message).toMatch(/1m; Sentinel takes 5m to 14d/);
    expect(at("rule.interval")[0]?.span?.start.line).toBe(lineOf(file, /^interval =/));
    expect(at("rule.from")[0]?.message).toMatch(/15d; Sentinel takes 5m to 14d/);
    expect(at("rule.from")[0]?.span?.start.line).toBe(lineOf(file, /^from =/));
    expect(at("rule.max_signals")[0]?.message).toMatch(/151.*at most 150 per run/);
    expect(at("rule.max_signals")[0]?.span?.start.line).toBe(lineOf(file, /^max_signals =/));
    expect(at("shmhunt.analytics.grouping_window")[0]?.message).toMatch(/8d; Sentinel takes 5m to 7d/);
    expect(at("shmhunt.analytics.suppression")[0]?.message).toMatch(/25h; Sentinel takes 5m to 24h/);
    expect(at("shmhunt.analytics.suppression")[0]?.span?.start.line).toBe(lineOf(file, /^suppression =/));
    expect(found.every((d) => d.file?.endsWith(path.join("schedule", "rule.toml")) && d.severity === "error")).toBe(
      true,
    );
  }, 120_000);

  it("refuses a lookback shorter than the interval (period ≥ frequency)", async () => {
    const file = variant("period", (t) =>
      t.replace('from = "now-9m"', 'from = "now-6m"').replace('interval = "5m"', 'interval = "10m"'),
    );
    const found = await limitFindings(file);
    expect(found.map((d) => [d.field, d.message])).toEqual([
      ["rule.from", expect.stringMatching(/lookback \(6m\) is shorter than the interval \(10m\)/)],
    ]);
  }, 120_000);

  // Microsoft's analytics-rule model (github.com/Azure/Azure-Sentinel, .script/tests/detectionTemplateSchemaValidation/
  // Models/ScheduledTemplateInternalModel.cs: the Scheduled model carries `[FrequencyLimitationForLongPeriodQuery]`,
  // a ...AnalyticsManagement.Contracts.Model.ARM.ModelValidation attribute whose message is "Invalid Properties for
  // Scheduled alert rule: When 'queryPeriod' greater than or equal to 2 days, the 'queryFrequency' should be greater
  // than or equal to 1 hour." and whose test is `queryPeriod.TotalDays >= 2 ? queryFrequency.TotalHours >= 1 : true`).
  it("refuses a lookback of 2 days or more that runs more often than hourly, and not one just under 2 days", async () => {
    const twoDays = variant("long-period", (t) => t.replace('from = "now-9m"', 'from = "now-2d"'));
    const found = await limitFindings(twoDays);
    expect(found.map((d) => d.field)).toEqual(["rule.interval"]);
    expect(found[0]?.message).toMatch(/lookback.*2d.*interval.*5m.*at least 1h/);
    expect(found[0]?.span?.start.line).toBe(lineOf(twoDays, /^interval =/));

    const hourly = variant("long-period-hourly", (t) =>
      t.replace('from = "now-9m"', 'from = "now-2d"').replace('interval = "5m"', 'interval = "1h"'),
    );
    expect(await limitFindings(hourly)).toEqual([]);
    const justUnder = variant("long-period-47h", (t) => t.replace('from = "now-9m"', 'from = "now-47h"'));
    expect(await limitFindings(justUnder)).toEqual([]);
  }, 120_000);

  // Microsoft's analytics-rule model (github.com/Azure/Azure-Sentinel, .script/tests/detectionTemplateSchemaValidation/
  // Models/AnalyticsTemplateInternalModelBase.cs): `[JsonProperty("name")] [StringLength(256)] DisplayName` and
  // `[JsonProperty("description")] [StringLength(5000)] Description`. The deployed name is the rule's name and
  // " (<target>)" (docs/rules.md), so a 246-character name is 257 characters on defender, 253 on asim, 255 on auditd.
  it("refuses an analytics rule name over 256 characters per target, and a description over 5,000", async () => {
    const file = variant("long-name", (t) =>
      t
        .replace('name = "Binary Executed from Shared Memory Directory"', `name = "${"N".repeat(246)}"`)
        .replace(
          'description = """\nIdentifies',
          `description = """\n${"D".repeat(5000 - "Identifies".length)}Identifies`,
        ),
    );
    const found = await limitFindings(file);
    expect(found.map((d) => [d.field, d.message])).toEqual([
      [
        "rule.name",
        expect.stringMatching(/^the defender analytics rule's name is 257 characters; Sentinel takes at most 256/),
      ],
      ["rule.description", expect.stringMatching(/^the description is \d{4} characters; Sentinel takes at most 5000/)],
    ]);
    expect(found[0]?.span?.start.line).toBe(lineOf(file, /^name = /));

    const atLimit = variant("name-at-limit", (t) =>
      t.replace('name = "Binary Executed from Shared Memory Directory"', `name = "${"N".repeat(245)}"`),
    );
    expect(await limitFindings(atLimit)).toEqual([]);
  }, 120_000);

  it("refuses a query over 10,000 characters, per target, at rule.query; a hunting query alone is not held to it", async () => {
    const file = variant("long", (t) =>
      t.replace(
        'not process.executable : ( "/var/run/docker/*")',
        `not process.executable : ( "/var/run/docker/*") and not process.name in (${longList})`,
      ),
    );
    const found = await limitFindings(file);
    expect(found.map((d) => d.message)).toEqual([
      expect.stringMatching(/^the defender query is \d{5} characters; Sentinel takes 1 to 10000$/),
      expect.stringMatching(/^the asim query is \d{5} characters/),
      expect.stringMatching(/^the auditd query is \d{5} characters/),
    ]);
    expect(found[0]?.span?.start.line).toBe(lineOf(file, /^query = /));

    const huntOnly = variant("long-hunt-only", (t) =>
      t
        .replace(
          'not process.executable : ( "/var/run/docker/*")',
          `not process.executable : ( "/var/run/docker/*") and not process.name in (${longList})`,
        )
        .replace('deploy = ["hunting_query", "analytics_rule"]', 'deploy = ["hunting_query"]'),
    );
    expect(await limitFindings(huntOnly)).toEqual([]);
  }, 120_000);

  // Azure-Sentinel's analytics-rule validation (github.com/Azure/Azure-Sentinel, .script/tests/
  // detectionTemplateSchemaValidation/Models/EntityMappingIdentifiers.cs, `RequiredIdentifiers`, checked by
  // ValidEntityMappingsAttribute.cs: "Missing required identifiers in 'entityMappings' for type '{entityType}'"): a
  // Host mapping needs FullName, HostName, NetBiosName, AzureID or OMSAgentID; DnsDomain alone is not one of them.
  it("refuses an entity mapped without one of the identifiers Sentinel requires of its type, per target", async () => {
    const file = variant("required-identifiers", (t) =>
      t.replace(
        'Host = { HostName = "host.hostname", DnsDomain = "host.domain" }',
        'Host = { DnsDomain = "host.domain" }',
      ),
    );
    const found = await limitFindings(file);
    // auditd data has no host domain: the auditd query maps no Host at all.
    expect(found.map((d) => [d.field, d.message])).toEqual([
      [
        "shmhunt.entities.Host",
        expect.stringMatching(
          /^the defender query maps Host by DnsDomain only; Sentinel requires one of FullName, HostName, NetBiosName, AzureID, OMSAgentID/,
        ),
      ],
      ["shmhunt.entities.Host", expect.stringMatching(/^the asim query maps Host by DnsDomain only;/)],
    ]);
    expect(found[0]?.span?.start.line).toBe(lineOf(file, /^Host = /));
  }, 120_000);

  it("deploy --plan and --apply refuse the rule set before any request", async () => {
    const file = variant("deploy", (t) => t.replace("max_signals = 100", "max_signals = 1000"));
    const workspace = { subscriptionId: "s-1", resourceGroup: "rg", workspaceName: "ws" };
    for (const mode of ["plan", "apply"] as const) {
      const { clients, sent } = recordingClients(workspace);
      const error = await deploy({ rulesDir: path.dirname(file), clients, workspace, mode, prune: false }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DiagnosticError);
      expect((error as DiagnosticError).diagnostics.map((d) => [d.code, d.field])).toEqual([
        [Codes.RuleServiceLimit, "rule.max_signals"],
      ]);
      expect(sent).toEqual([]);
    }
  }, 120_000);
});
