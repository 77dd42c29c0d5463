import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { AUDITD_COLUMNS, auditdFunction, translateRule } from "../../src/kql/index.js";
import { armTemplate, isoDuration, ruleOutputs } from "../../src/kql/outputs.js";
import { buildGlobals, listItems, parseKql, validateKql } from "../../src/kusto/index.js";
import { loadRuleFile, loadRules } from "../../src/rules/index.js";

const repo = path.resolve(import.meta.dirname, "../..");
const reference = path.resolve(repo, "../shared/reference/azure-wire");

describe("generated files", () => {
  it("are up to date in kql/ (what npm run kql:check enforces)", async () => {
    const { rules } = await loadRules(path.join(repo, "rules"));
    let count = 0;
    for (const rule of rules) {
      for (const target of rule.settings.targets) {
        for (const [file, text] of ruleOutputs(rule, target, translateRule(rule, target))) {
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
    expect(yaml.entityMappings[0]).toEqual({
      entityType: "Host",
      fieldMappings: [{ identifier: "HostName", columnName: "Entity_Host_HostName" }],
    });
  });

  it("write an ARM template with the hunting query, its metadata and the scheduled rule", async () => {
    const { rule } = await loadRuleFile(path.join(repo, "rules/shm-execution.toml"));
    if (!rule) throw new Error("no rule");
    const t = translateRule(rule, "auditd");
    const arm = armTemplate(rule, "auditd", t) as { resources: Record<string, unknown>[] };
    const types = arm.resources.map((r) => r.type);
    expect(types).toEqual([
      "Microsoft.OperationalInsights/workspaces/savedSearches", // the ShmhuntAuditd function
      "Microsoft.OperationalInsights/workspaces/savedSearches",
      "Microsoft.OperationalInsights/workspaces/providers/metadata",
      "Microsoft.OperationalInsights/workspaces/providers/alertRules",
    ]);
    const alert = arm.resources[3] as { kind: string; properties: Record<string, unknown> };
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
    const search = arm.resources[1] as { properties: { category: string; query: string } };
    expect(search.properties.category).toBe("Hunting Queries");
    expect((arm.resources[0] as { properties: { functionAlias: string } }).properties.functionAlias).toBe(
      "ShmhuntAuditd",
    );
    // every query in the template is valid KQL
    expect(validateKql(alert.properties.query as string, { functions: [auditdFunction()] })).toEqual([]);
    expect(isoDuration(5 * 3600_000)).toBe("PT5H");
    expect(isoDuration(86400_000 + 60_000)).toBe("P1DT1M");
  });

  it("deploys the exclusions as a watchlist CSV (data, quoted where needed)", async () => {
    const { rule } = await loadRuleFile(path.join(repo, "rules/shm-creation.toml"));
    if (!rule) throw new Error("no rule");
    const arm = armTemplate(rule, "defender", translateRule(rule, "defender")) as {
      resources: { type: string; properties: Record<string, unknown> }[];
    };
    const watchlist = arm.resources.find((r) => r.type.endsWith("/watchlists"));
    const csv = String(watchlist?.properties.rawContent);
    expect(csv.split("\r\n")[0]).toBe("Scenario,Field,Operator,Value");
    expect(csv).toContain("virtualisation and containers,process.name,:,qemu-system-*");
    expect(arm.resources.some((r) => r.type.endsWith("/alertRules"))).toBe(false); // hunting query only
  });
});

describe("the auditd parser function", () => {
  it("is valid KQL over Syslog and returns exactly the declared columns", () => {
    expect(validateKql(auditdFunction().body ?? "")).toEqual([]);
    const code = parseKql("ShmhuntAuditd()", buildGlobals({ functions: [auditdFunction()] })) as unknown as {
      ResultType: { Columns: Parameters<typeof listItems>[0] };
    };
    const columns = listItems(code.ResultType.Columns) as unknown as { Name: string; Type: { Name: string } }[];
    expect(columns.map((c) => `${c.Name}:${c.Type.Name}`)).toEqual(AUDITD_COLUMNS.map((c) => `${c.name}:${c.type}`));
  });
});
