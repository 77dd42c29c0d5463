/** The desired content of the seed rules, and the advice given for service errors. */
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { translateRule } from "../../src/kql/index.js";
import { loadRules } from "../../src/rules/index.js";
import type { LoadedRule } from "../../src/rules/types.js";
import { armTypes, contentResourceId } from "../../src/sentinel/content-types.js";
import { defaultFunctionsDir } from "../../src/sentinel/deploy.js";
import {
  buildDesiredContent,
  type DesiredOptions,
  exclusionItemId,
  isManagedWatchlistItem,
} from "../../src/sentinel/desired.js";
import { contentIds } from "../../src/sentinel/ids.js";
import { isManagedMetadata } from "../../src/sentinel/markers.js";
import { applyOrder, type DesiredResource, planDeployment } from "../../src/sentinel/plan.js";
import { wireBody } from "../../src/sentinel/render-sdk.js";
import { explainServiceError, missingTableAdvice } from "../../src/sentinel/service-errors.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const workspace = { subscriptionId: "sub", resourceGroup: "rg", workspaceName: "ws" };
const options: DesiredOptions = {
  workspace,
  translate: (rule, target) => translateRule(rule, target, { validate: false }),
  functionsDir: defaultFunctionsDir(),
};
let creation: LoadedRule;
let execution: LoadedRule;
let desired: DesiredResource[];

beforeAll(async () => {
  const { rules } = await loadRules(path.join(repoRoot, "rules"));
  creation = rules.find((r) => r.file.endsWith("shm-creation.toml")) as LoadedRule;
  execution = rules.find((r) => r.file.endsWith("shm-execution.toml")) as LoadedRule;
  desired = buildDesiredContent(rules, options);
});

const ofKind = (kind: string, list = desired) => list.filter((r) => r.kind === kind);
const prop = (r: DesiredResource | undefined, key: string) => r?.properties[key] as unknown;

describe("buildDesiredContent", () => {
  it("is deterministic, and names content from the rule id and target", async () => {
    const { rules } = await loadRules(path.join(repoRoot, "rules"));
    expect(buildDesiredContent([...rules].reverse(), options)).toEqual(desired);
    const names = ofKind("savedSearch").map((r) => r.name);
    expect(names).toContain(contentIds.huntingQuery(creation.id, "auditd"));
    // The seed and its upstream revision (its own id, `<rule_id>-upstream`) both deploy analytics rules.
    expect(
      ofKind("alertRule")
        .map((r) => r.name)
        .sort(),
    ).toEqual(
      [execution.id, `${execution.id}-upstream`]
        .flatMap((id) => ["defender", "asim", "auditd"].map((t) => contentIds.alertRule(id, t)))
        .sort(),
    );
    const keys = desired.map((r) => `${r.kind}/${r.parent ?? ""}/${r.name.toLowerCase()}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  // Two revisions of one rule_id whose labels share their first ten characters, both valid labels (src/rules/settings.ts:
  // up to 16 characters): their hunting queries must stay two (a saved search's name is its identity), each name
  // within 64 characters, a short name kept as it reads.
  it("gives two revisions with long labels of a shared head two hunting-query names", () => {
    const revision = (label: string): LoadedRule => ({ ...execution, id: `${execution.elasticRuleId}-${label}` });
    const revisions = [revision("upstream-2024-01"), revision("upstream-2024-06")];
    const content = buildDesiredContent([creation, ...revisions], options);
    const names = ofKind("savedSearch", content).map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBe(2 * 3 + 3);
    // The plan (before any change) refuses two desired resources of one name: it must take this content.
    expect(() => planDeployment(content, [], { prune: false })).not.toThrow();
    for (const name of names) expect(name.length).toBeLessThanOrEqual(64);
    expect(contentIds.huntingQuery(execution.id, "asim")).toBe(`shmhunt-asim-${execution.id}`);
    for (const [a, b] of [[revisions[0]!, revisions[1]!]] as const)
      for (const target of ["defender", "asim", "auditd"])
        expect(contentIds.huntingQuery(a.id, target)).not.toBe(contentIds.huntingQuery(b.id, target));
  });

  it("builds hunting queries with the category, tags and the managedBy marker", () => {
    const q = ofKind("savedSearch").find((r) => r.name === contentIds.huntingQuery(execution.id, "defender"));
    expect(q?.properties).toMatchObject({ category: "Hunting Queries", version: 2 });
    expect(prop(q, "displayName")).toBe(`${execution.name} (defender)`);
    expect(prop(q, "query")).toBe(translateRule(execution, "defender", { validate: false }).kql);
    const tags = prop(q, "tags") as { name: string; value: string }[];
    expect(tags.map((t) => t.name)).toEqual(["description", "tactics", "techniques", "managedBy"]);
    // The seed (DESIGN.md): MITRE TA0002 / T1059.
    expect(tags.find((t) => t.name === "tactics")?.value).toBe("Execution");
    expect(tags.find((t) => t.name === "managedBy")?.value).toBe("shmhunt");
  });

  it("builds scheduled analytics rules from the rule's schedule, severity, MITRE, entities and grouping", () => {
    const rule = ofKind("alertRule").find((r) => r.name === contentIds.alertRule(execution.id, "defender"));
    expect(rule?.properties).toMatchObject({
      kind: "Scheduled",
      severity: "High",
      queryFrequency: "PT5M",
      queryPeriod: "PT9M",
      triggerOperator: "GreaterThan",
      triggerThreshold: 0,
      suppressionEnabled: false,
      tactics: ["Execution"],
      techniques: ["T1059"],
      eventGroupingSettings: { aggregationKind: "AlertPerResult" },
    });
    const grouping = (prop(rule, "incidentConfiguration") as { groupingConfiguration: Record<string, unknown> })
      .groupingConfiguration;
    expect(grouping).toMatchObject({
      enabled: true,
      matchingMethod: "Selected",
      groupByEntities: ["Host", "FileHash"],
      lookbackDuration: "PT5H",
    });
    const hash = (prop(rule, "entityMappings") as { entityType: string; fieldMappings: unknown[] }[]).find(
      (m) => m.entityType === "FileHash",
    );
    expect(hash?.fieldMappings).toEqual([
      { identifier: "Algorithm", columnName: "Entity_FileHash_Algorithm" },
      { identifier: "Value", columnName: "Entity_FileHash_Value" },
    ]);
    const { top, properties } = wireBody(rule as DesiredResource);
    expect(top.kind).toBe("Scheduled");
    expect(properties.kind).toBeUndefined();
  });

  it("folds sub-techniques into their technique on analytics rules and keeps them on hunting tags", () => {
    const threat = execution.threat.map((th, i) =>
      i === 0
        ? {
            ...th,
            techniques: th.techniques.map((t) => ({
              ...t,
              subtechniques: [{ id: `${t.id}.004`, name: "Unix Shell" }],
            })),
          }
        : th,
    );
    const rule: LoadedRule = { ...execution, threat, severity: "critical" };
    const content = buildDesiredContent([rule], options);
    const alert = ofKind("alertRule", content)[0];
    expect(prop(alert, "techniques")).toEqual(["T1059"]);
    expect(prop(alert, "severity")).toBe("High");
    const tags = prop(ofKind("savedSearch", content)[0], "tags") as { name: string; value: string }[];
    expect(tags.find((t) => t.name === "techniques")?.value).toBe("T1059,T1059.004");
  });

  it("without group_by, one incident per alert; a suppression window when the rule sets one", () => {
    const rule: LoadedRule = {
      ...execution,
      settings: {
        ...execution.settings,
        analytics: { groupBy: [], groupingWindowMs: 3_600_000, suppressionMs: 7_200_000 },
      },
    };
    const alert = ofKind("alertRule", buildDesiredContent([rule], options))[0];
    expect(alert?.properties).toMatchObject({ suppressionEnabled: true, suppressionDuration: "PT2H" });
    expect(prop(alert, "incidentConfiguration")).toMatchObject({
      groupingConfiguration: { enabled: false, matchingMethod: "AllEntities", groupByEntities: [] },
    });
  });

  it("deploys the exclusions as a watchlist with one item per value, ids derived from the content", () => {
    const [watchlist] = ofKind("watchlist");
    expect(watchlist?.name).toBe("ShmhuntShmCreationExclusions");
    expect(watchlist?.properties).toMatchObject({ itemsSearchKey: "Value", provider: "shmhunt" });
    const items = ofKind("watchlistItem");
    const values = creation.settings.exclusions?.items.flatMap((i) => i.values) ?? [];
    expect(items).toHaveLength(values.length);
    for (const item of items) {
      expect(item.parent).toBe("ShmhuntShmCreationExclusions");
      const row = prop(item, "itemsKeyValue") as Record<string, string>;
      expect(Object.keys(row)).toEqual(["Scenario", "Field", "Operator", "Value", "Comment"]);
      expect(item.name).toBe(exclusionItemId("ShmhuntShmCreationExclusions", row as never));
      expect(isManagedWatchlistItem("ShmhuntShmCreationExclusions", item.name, row)).toBe(true);
      // An analyst's edit of the row makes it theirs: never pruned.
      expect(isManagedWatchlistItem("ShmhuntShmCreationExclusions", item.name, { ...row, Value: "x" })).toBe(false);
    }
    expect(isManagedWatchlistItem("ShmhuntShmCreationExclusions", "0b0e2c1e-1111-4222-8333-444455556666", {})).toBe(
      false,
    );
  });

  it("deploys kql/functions as workspace functions, and one shmhunt metadata per content item", () => {
    const [fn] = ofKind("workspaceFunction");
    expect(fn?.properties).toMatchObject({ functionAlias: "ShmhuntAuditd", category: "shmhunt parsers" });
    const metadata = ofKind("metadata");
    const items = desired.filter((r) =>
      ["savedSearch", "alertRule", "watchlist", "workspaceFunction"].includes(r.kind),
    );
    expect(metadata).toHaveLength(items.length);
    for (const item of items) {
      const m = metadata.find((x) => prop(x, "parentId") === contentResourceId(workspace, item.kind, item.name));
      expect(m, `${item.kind} ${item.name}`).toBeDefined();
      expect(isManagedMetadata(m?.properties as never)).toBe(true);
    }
  });

  it("refuses a rule that does not translate for a target it declares, naming both", () => {
    const rule: LoadedRule = { ...execution, language: "kuery" as LoadedRule["language"] };
    expect(() => buildDesiredContent([rule], options)).toThrow(/rule .* does not translate for defender/);
  });

  it("has an ARM type and API version for every kind", () => {
    for (const kind of applyOrder) {
      expect(armTypes[kind].armType).toMatch(/^Microsoft\.(OperationalInsights|SecurityInsights)\//);
      expect(armTypes[kind].apiVersion).toMatch(/^\d{4}-\d{2}-\d{2}/);
    }
  });
});

describe("service error advice", () => {
  it("names the data connector of a missing table", () => {
    expect(missingTableAdvice("One of the tables does not exist.", "ShmhuntAuditd() | where x")).toMatch(
      /Syslog via AMA/,
    );
    expect(missingTableAdvice("One of the tables does not exist.", "_Im_ProcessEvent | take 1")).toMatch(
      /ASIM parsers/,
    );
    expect(
      missingTableAdvice("The name 'DeviceFileEvents' does not refer to any known table", "DeviceFileEvents"),
    ).toMatch(/no table DeviceFileEvents: enable the Microsoft Defender XDR connector/);
  });

  it("names the missing role on 403 and the settings on a missing workspace", () => {
    const forbidden = Object.assign(new Error("The client does not have authorization"), { statusCode: 403 });
    const step = { action: "create" as const, kind: "alertRule" as const, name: "r" };
    expect(explainServiceError(forbidden, step).advice).toMatch(/Microsoft Sentinel Contributor/);
    const missing = Object.assign(new Error("not found"), { statusCode: 404 });
    expect(explainServiceError(missing).advice).toMatch(/SHMHUNT_WORKSPACE_NAME/);
  });
});
