import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { translateRule } from "../../src/kql/index.js";
import { validateKql } from "../../src/kusto/index.js";
import { type LoadedRule, loadRuleFile, loadRules } from "../../src/rules/index.js";
import { defaultFunctionsDir } from "../../src/sentinel/deploy.js";
import type { Json } from "../../src/sentinel/plan.js";
import { contentOfRules, ruleOutputs } from "../../src/sentinel/rule-files.js";
import { isoDuration } from "../../src/sentinel/vocabulary.js";
import { functionWithBody, REGISTRY } from "../../src/targets/index.js";

const repo = path.resolve(import.meta.dirname, "../..");
const reference = path.resolve(repo, "../shared/reference/azure-wire");

type Target = LoadedRule["settings"]["targets"][number];

/** The files of one rule on one target, rendered from the content model of `rules`. */
function outputsOf(rules: readonly LoadedRule[], rule: LoadedRule, target: Target): Map<string, string> {
  const content = contentOfRules(rules, (r, x) => translateRule(r, x), defaultFunctionsDir());
  return ruleOutputs(rule, target, translateRule(rule, target), content);
}

type Template = { resources: { type: string; kind?: string; properties: Record<string, Json> }[] };
const armOf = (rule: LoadedRule, target: Target) =>
  JSON.parse(
    outputsOf([rule], rule, target).get(`${path.basename(rule.file, ".toml")}/${target}.arm.json`) ?? "{}",
  ) as Template;

describe("generated files", () => {
  it("are up to date in kql/ (what npm run kql:check enforces)", async () => {
    const { rules } = await loadRules(path.join(repo, "rules"));
    const content = contentOfRules(rules, (r, x) => translateRule(r, x), defaultFunctionsDir());
    let count = 0;
    for (const rule of rules) {
      for (const target of rule.settings.targets) {
        for (const [file, text] of ruleOutputs(rule, target, translateRule(rule, target), content)) {
          expect(readFileSync(path.join(repo, "kql", file), "utf8"), `kql/${file} is stale: npm run kql:generate`).toBe(
            text,
          );
          count++;
        }
      }
    }
    expect(count).toBe(27);
  });

  it("write hunting-query YAML with the Azure-Sentinel repository's fields", async () => {
    const { rule } = await loadRuleFile(path.join(repo, "rules/shm-execution.toml"));
    if (!rule) throw new Error("no rule");
    const yaml = parse(readFileSync(path.join(repo, "kql/shm-execution/defender.hunting.yaml"), "utf8"));
    const sample = parse(readFileSync(path.join(reference, "hunting-query.Certutil-LOLBins.yaml"), "utf8"));
    for (const key of [
      "id",
      "name",
      "description",
      "requiredDataConnectors",
      "tactics",
      "relevantTechniques",
      "query",
    ]) {
      expect(Object.keys(sample)).toContain(key);
      expect(yaml[key], key).toBeDefined();
    }
    // The seed (DESIGN.md): MITRE TA0002 / T1059.
    expect(yaml.tactics).toEqual(["Execution"]);
    expect(yaml.relevantTechniques).toEqual(["T1059"]);
    expect(yaml.query).toContain("DeviceProcessEvents");
    // HostName + DnsDomain: a strong identifier set of a Host (learn.microsoft.com/azure/sentinel/entities-reference).
    expect(yaml.entityMappings[0]).toEqual({
      entityType: "Host",
      fieldMappings: [
        { identifier: "HostName", columnName: "Entity_Host_HostName" },
        { identifier: "DnsDomain", columnName: "Entity_Host_DnsDomain" },
      ],
    });
  });

  it("write an ARM template with the hunting query, its metadata and the scheduled rule", async () => {
    const { rule } = await loadRuleFile(path.join(repo, "rules/shm-execution.toml"));
    if (!rule) throw new Error("no rule");
    const arm = armOf(rule, "auditd");
    const types = arm.resources.map((r) => r.type);
    expect(types).toEqual([
      "Microsoft.OperationalInsights/workspaces/savedSearches", // the ShmhuntAuditd function
      "Microsoft.SecurityInsights/metadata",
      "Microsoft.OperationalInsights/workspaces/savedSearches",
      "Microsoft.SecurityInsights/metadata",
      "Microsoft.SecurityInsights/alertRules",
      "Microsoft.SecurityInsights/metadata",
    ]);
    const alert = arm.resources[4] as { kind: string; properties: Record<string, unknown> };
    expect(alert.kind).toBe("Scheduled");
    expect(alert.properties).toMatchObject({
      severity: "High",
      queryFrequency: "PT5M",
      queryPeriod: "PT9M",
      triggerOperator: "GreaterThan",
      triggerThreshold: 0,
      tactics: ["Execution"],
      techniques: ["T1059"],
    });
    const search = arm.resources[2] as unknown as { properties: { category: string; query: string } };
    expect(search.properties.category).toBe("Hunting Queries");
    expect(arm.resources[0]?.properties.functionAlias).toBe("ShmhuntAuditd");
    // every query in the template is valid KQL
    expect(
      validateKql(alert.properties.query as string, { functions: REGISTRY.auditd.functions.map(functionWithBody) }),
    ).toEqual([]);
    expect(isoDuration(5 * 3600_000)).toBe("PT5H");
    expect(isoDuration(86400_000 + 60_000)).toBe("P1DT1M");
    // The alert rule spec's suppressionDuration and lookbackDuration are ISO 8601 durations: one minute is PT1M.
    expect(isoDuration(60_000)).toBe("PT1M");
  });

  it("deploys the exclusions as the watchlist and items shmhunt deploy writes, Comment column included", async () => {
    const { rule } = await loadRuleFile(path.join(repo, "rules/shm-creation.toml"));
    if (!rule) throw new Error("no rule");
    const arm = armOf(rule, "defender");
    const watchlist = arm.resources.find((r) => r.type === "Microsoft.SecurityInsights/watchlists");
    expect(watchlist?.properties.itemsSearchKey).toBe("Value");
    const items = arm.resources.filter((r) => r.type === "Microsoft.SecurityInsights/watchlists/watchlistItems");
    expect(items.map((i) => Object.keys(i.properties.itemsKeyValue as object))[0]).toEqual([
      "Scenario",
      "Field",
      "Operator",
      "Value",
      "Comment",
    ]);
    expect(items.map((i) => i.properties.itemsKeyValue)).toContainEqual(
      expect.objectContaining({
        Scenario: "virtualisation and containers",
        Field: "process.name",
        Value: "qemu-system-*",
      }),
    );
    expect(arm.resources.some((r) => r.type.endsWith("/alertRules"))).toBe(false); // hunting query only
  });
});
