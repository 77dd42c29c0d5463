/**
 * Ownership and resumability of `deploy --apply [--prune]`, against the emulator through the real SDK clients.
 *
 * Oracles (none from the code under test):
 * - docs/deploy.md "Ownership, prune and idempotence": "A watchlist row is shmhunt's only when its id is the UUIDv5 of
 *   its own content: rows an analyst adds (random ids), or edits, are never updated or pruned."; "Names are
 *   deterministic, so re-running an interrupted apply resumes it."; "`--prune` deletes only content that is shmhunt's
 *   and no longer in the rules".
 * - Watchlists.json (2025-12-01): `PUT …/watchlists/{watchlistAlias}/watchlistItems/{watchlistItemId}` is "Create or
 *   update a watchlist item": a PUT to an existing item id replaces that item (an analyst's edit in the portal keeps
 *   the item's id).
 */
import { cp, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ContentClients } from "../../src/sentinel/content-client.js";
import type { WorkspaceRef } from "../../src/sentinel/content-types.js";
import { deploy } from "../../src/sentinel/deploy.js";
import type { Emulator } from "../emulator/server.js";
import { type DeployWorkspace, startDeployWorkspace } from "../support/deploy-workspace.js";

const SOURCE_TABLES = ["DeviceProcessEvents", "Syslog"];

let emulator: Emulator;
let clients: ContentClients;
let workspace: WorkspaceRef;
let rulesDir: string;
let fixture: DeployWorkspace | undefined;

beforeAll(async () => {
  fixture = await startDeployWorkspace(SOURCE_TABLES, "ownership-resume");
  ({ emulator, clients, workspace, rulesDir } = fixture);
}, 60_000);
afterAll(async () => {
  await fixture?.close();
});

function freshWorkspace(name: string): WorkspaceRef {
  const ws = emulator.state.addWorkspace({
    subscriptionId: workspace.subscriptionId,
    resourceGroup: workspace.resourceGroup,
    name,
  });
  for (const table of SOURCE_TABLES) ws.seedTable(table, []);
  return { ...workspace, workspaceName: name };
}

describe("ownership and resume", () => {
  it("an analyst's edit of a shmhunt watchlist row is not overwritten by the next apply", async () => {
    const target = freshWorkspace("ws-analyst-edit");
    const { securityInsights: si } = clients;
    const { resourceGroup: rg, workspaceName: ws } = target;
    const alias = "ShmhuntShmCreationExclusions";
    expect((await deploy({ rulesDir, clients, workspace: target, mode: "apply", prune: false })).ok).toBe(true);

    // One of shmhunt's rows (id = UUIDv5 of its content), edited by an analyst in place (same item id, as the portal
    // edits a row: PUT watchlistItems/{watchlistItemId}, "Create or update a watchlist item").
    const rows: { name: string; values: Record<string, string> }[] = [];
    for await (const item of si.watchlistItems.list(rg, ws, alias))
      rows.push({ name: item.name ?? "", values: item.itemsKeyValue as Record<string, string> });
    const row = rows.find((r) => r.values.Value === "dpkg");
    expect(row).toBeDefined();
    const edited = { ...row!.values, Value: "dpkg-deb", Comment: "analyst: only dpkg-deb is benign here" };
    await si.watchlistItems.createOrUpdate(rg, ws, alias, row!.name, { itemsKeyValue: edited });

    // docs/deploy.md: rows an analyst edits "are never updated or pruned".
    const plan = await deploy({ rulesDir, clients, workspace: target, mode: "plan", prune: true });
    const touching = plan.steps.filter((s) => s.kind === "watchlistItem" && s.name === row!.name);
    expect(touching.map((s) => s.action)).not.toContain("update");

    await deploy({ rulesDir, clients, workspace: target, mode: "apply", prune: true });
    const after = await si.watchlistItems.get(rg, ws, alias, row!.name);
    expect(after.itemsKeyValue).toMatchObject({ Value: "dpkg-deb" });
  }, 120_000);

  it("a prune interrupted at an analytics rule's delete is finished by the next prune", async () => {
    const target = freshWorkspace("ws-prune-resume");
    const { securityInsights: si } = clients;
    const { resourceGroup: rg, workspaceName: ws } = target;
    expect((await deploy({ rulesDir, clients, workspace: target, mode: "apply", prune: false })).ok).toBe(true);
    const rulesBefore: string[] = [];
    for await (const r of si.alertRules.list(rg, ws)) rulesBefore.push(r.name ?? "");
    expect(rulesBefore).toHaveLength(3); // shm-execution's three targets

    // shm-execution removed from the rules: its 3 analytics rules are shmhunt's and no longer described.
    const reduced = await mkdtemp(path.join(os.tmpdir(), "shmhunt-prune-resume-"));
    try {
      await cp(path.join(rulesDir, "shm-creation.toml"), path.join(reduced, "shm-creation.toml"));
      await cp(path.join(rulesDir, "shm-creation.yar"), path.join(reduced, "shm-creation.yar"));
      // The first delete of an analytics rule is refused once (a missing alertRules/delete permission, or any
      // error the service answers): the apply stops there.
      emulator.faults.push({
        api: "arm",
        method: "DELETE",
        path: "ws-prune-resume/providers/Microsoft.SecurityInsights/alertRules/",
        kind: "status",
        status: 403,
        code: "AuthorizationFailed",
        message:
          "The client does not have authorization to perform action 'Microsoft.SecurityInsights/alertRules/delete'.",
      });
      const first = await deploy({ rulesDir: reduced, clients, workspace: target, mode: "apply", prune: true });
      expect(first.ok).toBe(false);
      expect(first.failed).toMatchObject({ action: "delete", kind: "alertRule" });

      // "re-running an interrupted apply resumes it": the second prune deletes the rest of shm-execution's content.
      const second = await deploy({ rulesDir: reduced, clients, workspace: target, mode: "apply", prune: true });
      expect(second.ok).toBe(true);
      const left: string[] = [];
      for await (const r of si.alertRules.list(rg, ws)) left.push(r.name ?? "");
      expect(left, "analytics rules of a removed rule left in the workspace after the resumed prune").toEqual([]);
    } finally {
      emulator.faults.clear();
      await rm(reduced, { recursive: true, force: true });
    }
  }, 120_000);
});
