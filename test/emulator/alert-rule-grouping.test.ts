/**
 * The emulator refuses the incident grouping a scheduled rule's spec rules out (it accepted any, so a deploy that
 * sent one would pass here and be refused by Sentinel). Oracle: the constraints AlertRules.json (2025-12-01) states
 * in `GroupingConfiguration`, read from the spec file by this test.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { ScheduledAlertRule } from "@azure/arm-securityinsight";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DeployWorkspace, startDeployWorkspace } from "../support/deploy-workspace.js";

const SPEC = path.resolve(
  import.meta.dirname,
  "../../../shared/reference/azure-specs/specification/securityinsights/resource-manager/Microsoft.SecurityInsights/stable/2025-12-01/AlertRules.json",
);
const grouping = (
  JSON.parse(readFileSync(SPEC, "utf8")) as {
    definitions: { GroupingConfiguration: { properties: Record<string, { description?: string }> } };
  }
).definitions.GroupingConfiguration.properties;

let f: DeployWorkspace | undefined;
beforeAll(async () => {
  f = await startDeployWorkspace(["Syslog"], "grouping");
}, 60_000);
afterAll(async () => {
  await f?.close();
});

let n = 0;
async function put(groupingConfiguration: Record<string, unknown>, extra: Partial<ScheduledAlertRule> = {}) {
  const { clients, workspace } = f!;
  return clients.securityInsights.alertRules
    .createOrUpdate(workspace.resourceGroup, workspace.workspaceName, `grouping-${++n}`, {
      kind: "Scheduled",
      displayName: "grouping",
      enabled: true,
      severity: "Low",
      query: "Syslog | extend HostName = Computer",
      queryFrequency: "PT5M",
      queryPeriod: "PT5M",
      triggerOperator: "GreaterThan",
      triggerThreshold: 0,
      suppressionDuration: "PT1H",
      suppressionEnabled: false,
      entityMappings: [{ entityType: "Host", fieldMappings: [{ identifier: "HostName", columnName: "HostName" }] }],
      incidentConfiguration: {
        createIncident: true,
        groupingConfiguration: {
          enabled: true,
          reopenClosedIncident: false,
          lookbackDuration: "PT5H",
          ...groupingConfiguration,
        } as never,
      },
      ...extra,
    } as ScheduledAlertRule)
    .then(
      () => 200,
      (error: { statusCode?: number }) => error.statusCode,
    );
}

describe("a scheduled rule's incident grouping (AlertRules.json 2025-12-01)", () => {
  it("Selected needs something to group by", async () => {
    expect(grouping.matchingMethod?.description).toContain(
      "When method is Selected at least one of groupByEntities, groupByAlertDetails, groupByCustomDetails must be provided and not empty",
    );
    expect(await put({ matchingMethod: "Selected", groupByEntities: [] })).toBe(400);
    expect(await put({ matchingMethod: "Selected", groupByEntities: ["Host"] })).toBe(200);
    expect(await put({ matchingMethod: "AllEntities" })).toBe(200);
  });

  it("groups only by entities the rule maps", async () => {
    expect(grouping.groupByEntities?.description).toContain(
      "Only entities defined in the current alert rule may be used",
    );
    expect(await put({ matchingMethod: "Selected", groupByEntities: ["Account"] })).toBe(400);
  });

  it("groups only by custom details the rule defines", async () => {
    expect(grouping.groupByCustomDetails?.description).toContain(
      "Only keys defined in the current alert rule may be used",
    );
    expect(await put({ matchingMethod: "Selected", groupByCustomDetails: ["NoSuchKey"] })).toBe(400);
    expect(
      await put({ matchingMethod: "Selected", groupByCustomDetails: ["Key"] }, { customDetails: { Key: "HostName" } }),
    ).toBe(200);
  });
});
