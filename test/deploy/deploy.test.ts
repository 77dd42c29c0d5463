/**
 * `deploy` against the emulator through the real SDK clients: plan on an empty workspace, apply, idempotence,
 * updates with their changed paths, prune that spares foreign content, a broken rule that stops everything, and a
 * missing table reported with the data connector to enable.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DiagnosticError } from "../../src/diagnostics/index.js";
import type { ContentClients } from "../../src/sentinel/content-client.js";
import type { WorkspaceRef } from "../../src/sentinel/content-types.js";
import { type DeployReport, deploy } from "../../src/sentinel/deploy.js";
import { contentIds } from "../../src/sentinel/ids.js";
import type { Emulator } from "../emulator/server.js";
import type { WorkspaceState } from "../emulator/state.js";
import { type DeployWorkspace, startDeployWorkspace } from "../support/deploy-workspace.js";

let emulator: Emulator;
let clients: ContentClients;
let workspace: WorkspaceRef;
let rulesDir: string;
let fixture: DeployWorkspace | undefined;

/** The tables the seed rules' analytics queries read (the ASIM parsers are known to the emulator). */
const SEED_SOURCE_TABLES = ["DeviceProcessEvents", "Syslog"];
function seedSourceTables(ws: WorkspaceState): void {
  for (const table of SEED_SOURCE_TABLES) ws.seedTable(table, []);
}

beforeAll(async () => {
  fixture = await startDeployWorkspace(SEED_SOURCE_TABLES, "deploy");
  ({ emulator, clients, workspace, rulesDir } = fixture);
}, 60_000);
afterAll(async () => {
  await fixture?.close();
});

const run = (mode: "plan" | "apply", prune = false, dir = rulesDir) =>
  deploy({ rulesDir: dir, clients, workspace, mode, prune });

const writes = () => emulator.requests.filter((r) => r.method !== "GET").length;
const byAction = (report: DeployReport, action: string) => report.steps.filter((s) => s.action === action);

describe("deploy", () => {
  it("plans everything as create on an empty workspace, applies it, and then reports all unchanged", async () => {
    const plan = await run("plan");
    expect(plan.counts.create).toBeGreaterThan(0);
    expect(plan.counts).toMatchObject({ update: 0, unchanged: 0, delete: 0 });
    const kinds = new Set(plan.steps.map((s) => s.kind));
    expect([...kinds].sort()).toEqual(
      ["alertRule", "metadata", "savedSearch", "watchlist", "watchlistItem", "workspaceFunction"].sort(),
    );
    // Two seed rules × three targets of hunting queries; shm-execution alone deploys analytics rules.
    expect(plan.steps.filter((s) => s.kind === "savedSearch")).toHaveLength(6);
    expect(plan.steps.filter((s) => s.kind === "alertRule")).toHaveLength(3);
    expect(writes()).toBe(0);

    const applied = await run("apply");
    expect(applied.ok).toBe(true);
    expect(applied.applied).toHaveLength(plan.counts.create);
    expect(applied.notApplied).toEqual([]);

    const again = await run("plan");
    expect(byAction(again, "unchanged")).toHaveLength(plan.steps.length);
    expect(again.counts).toMatchObject({ create: 0, update: 0, delete: 0 });
    const before = writes();
    const second = await run("apply");
    expect(second.applied).toEqual([]);
    expect(second.counts.unchanged).toBe(plan.steps.length);
    expect(writes()).toBe(before);
  }, 120_000);

  it("deployed content reads back as Sentinel expects (rule settings, watchlist rows, metadata marker)", async () => {
    const { securityInsights: si, operationalInsights: oi } = clients;
    const rules = [];
    for await (const r of si.alertRules.list(workspace.resourceGroup, workspace.workspaceName)) rules.push(r);
    const defender = rules.find((r) => (r as { displayName?: string }).displayName?.endsWith("(defender)")) as
      | Record<string, unknown>
      | undefined;
    expect(defender).toMatchObject({
      kind: "Scheduled",
      queryFrequency: "PT5M",
      queryPeriod: "PT9M",
      severity: "High",
      triggerOperator: "GreaterThan",
      triggerThreshold: 0,
      eventGroupingSettings: { aggregationKind: "AlertPerResult" },
    });
    const types = ((defender?.entityMappings ?? []) as { entityType: string }[]).map((m) => m.entityType).sort();
    expect(types).toEqual(["Account", "File", "FileHash", "Host", "Process"]);
    // The hash is the SHA-256, or the SHA-1 where Defender left the SHA-256 empty (DeviceProcessEvents docs: SHA256 "usually not populated").
    expect(String(defender?.query)).toContain(
      'Entity_FileHash_Algorithm = iff(isempty(SHA256) and isnotempty(SHA1), "SHA1", "SHA256")',
    );

    const items = [];
    for await (const i of si.watchlistItems.list(
      workspace.resourceGroup,
      workspace.workspaceName,
      "ShmhuntShmCreationExclusions",
    )) {
      items.push(i.itemsKeyValue as Record<string, string>);
    }
    expect(items.some((i) => i.Value === "qemu-system-*" && i.Operator === ":")).toBe(true);

    const searches = await oi.savedSearches.listByWorkspace(workspace.resourceGroup, workspace.workspaceName);
    const fn = searches.value?.find((s) => s.functionAlias === "ShmhuntAuditd");
    expect(fn?.tags).toContainEqual({ name: "managedBy", value: "shmhunt" });
  });

  it("reports a changed rule as updates naming the changed properties", async () => {
    const file = path.join(rulesDir, "shm-execution.toml");
    const text = await readFile(file, "utf8");
    await writeFile(
      file,
      text.replace(/^severity = "high"$/m, 'severity = "medium"').replace('interval = "5m"', 'interval = "6m"'),
    );
    try {
      const plan = await run("plan");
      const updates = byAction(plan, "update");
      expect(updates.map((u) => u.kind)).toEqual(["alertRule", "alertRule", "alertRule"]);
      // The Defender rule's query keeps its table's rows and takes those ingested since the previous run
      // (docs/service.md, ingestion-time windows), so its query text follows the frequency; the ASIM and auditd
      // queries read through parsers and keep an event-time window.
      const expected = (name: string) =>
        name.includes("(defender)") ? ["severity", "query", "queryFrequency"] : ["severity", "queryFrequency"];
      for (const u of updates) {
        expect(u.changes, u.label).toEqual(expected(String(u.label)));
      }
      const applied = await run("apply");
      expect(applied.applied).toHaveLength(3);
      expect((await run("plan")).counts.update).toBe(0);
    } finally {
      await writeFile(file, text);
    }
    expect((await run("apply")).applied).toHaveLength(3);
  }, 120_000);

  it("prunes only shmhunt's resources: foreign saved searches, rules and analysts' watchlist rows survive", async () => {
    const { securityInsights: si, operationalInsights: oi } = clients;
    const { resourceGroup: rg, workspaceName: ws } = workspace;
    await oi.savedSearches.createOrUpdate(rg, ws, "analyst-query", {
      category: "Hunting Queries",
      displayName: "An analyst's query",
      query: "Syslog | take 1",
    });
    await si.alertRules.createOrUpdate(rg, ws, "analyst-rule", {
      kind: "Scheduled",
      displayName: "An analyst's rule",
      severity: "Low",
      enabled: true,
      query: "Syslog | take 1",
      queryFrequency: "PT1H",
      queryPeriod: "PT1H",
      triggerOperator: "GreaterThan",
      triggerThreshold: 0,
      suppressionDuration: "PT1H",
      suppressionEnabled: false,
    });
    const analystItem = "0b0e2c1e-1111-4222-8333-444455556666";
    await si.watchlistItems.createOrUpdate(rg, ws, "ShmhuntShmCreationExclusions", analystItem, {
      itemsKeyValue: { Scenario: "local", Field: "process.name", Operator: "==", Value: "mytool", Comment: "" },
    });

    const withForeign = await run("plan", true);
    expect(withForeign.counts).toMatchObject({ create: 0, update: 0, delete: 0 });

    const reduced = await mkdtemp(path.join(os.tmpdir(), "shmhunt-deploy-reduced-"));
    try {
      await cp(path.join(rulesDir, "shm-creation.toml"), path.join(reduced, "shm-creation.toml"));
      await cp(path.join(rulesDir, "shm-creation.yar"), path.join(reduced, "shm-creation.yar"));
      const noPrune = await run("plan", false, reduced);
      expect(noPrune.counts.delete).toBe(0);
      const pruned = await run("apply", true, reduced);
      expect(pruned.ok).toBe(true);
      const deleted = pruned.applied.filter((s) => s.action === "delete");
      // shm-execution's 3 hunting queries and 3 analytics rules, and their 6 metadata.
      expect(deleted.map((d) => d.kind).sort()).toEqual([
        ...Array(3).fill("alertRule"),
        ...Array(6).fill("metadata"),
        ...Array(3).fill("savedSearch"),
      ]);
      expect(deleted.map((d) => d.name)).not.toContain("analyst-query");
      expect(deleted.map((d) => d.name)).not.toContain("analyst-rule");
      expect(deleted.map((d) => d.name)).not.toContain(analystItem);
      await expect(oi.savedSearches.get(rg, ws, "analyst-query")).resolves.toMatchObject({ query: "Syslog | take 1" });
      await expect(si.alertRules.get(rg, ws, "analyst-rule")).resolves.toMatchObject({ kind: "Scheduled" });
      await expect(si.watchlistItems.get(rg, ws, "ShmhuntShmCreationExclusions", analystItem)).resolves.toBeTruthy();
      expect((await run("plan", true, reduced)).counts).toMatchObject({ create: 0, update: 0, delete: 0 });
    } finally {
      await rm(reduced, { recursive: true, force: true });
      await si.watchlistItems.delete(rg, ws, "ShmhuntShmCreationExclusions", analystItem);
    }
    // Back to the full rule set for the tests after this one.
    expect((await run("apply")).ok).toBe(true);
  }, 120_000);

  /**
   * Deleting a watchlist deletes its rows (Watchlists.json 2025-12-01, delete: "Delete a watchlist."; its items are
   * its children), and the project's documentation promises that rows an analyst adds are never pruned
   * (docs/deploy.md "Ownership, prune and idempotence", README "Tuning exclusions"). So a watchlist of a rule no
   * longer in the rules that holds an analyst's row is kept, with every row; its metadata goes (it is no longer
   * shmhunt's, and a later prune leaves it alone).
   */
  it("keeps a pruned rule's watchlist that holds an analyst's row, with all its rows, and lets it go", async () => {
    const { securityInsights: si } = clients;
    const { resourceGroup: rg, workspaceName: ws } = workspace;
    const alias = "ShmhuntShmCreationExclusions";
    const analystItem = "0b0e2c1e-2222-4222-8333-444455556666";
    await si.watchlistItems.createOrUpdate(rg, ws, alias, analystItem, {
      itemsKeyValue: { Scenario: "local", Field: "process.name", Operator: "==", Value: "another", Comment: "" },
    });
    const rows = async () => {
      const names: string[] = [];
      for await (const item of si.watchlistItems.list(rg, ws, alias)) names.push(item.name ?? "");
      return names.sort();
    };
    const before = await rows();
    expect(before.length).toBeGreaterThan(1);

    const onlyExecution = await mkdtemp(path.join(os.tmpdir(), "shmhunt-deploy-kept-"));
    try {
      await cp(path.join(rulesDir, "shm-execution.toml"), path.join(onlyExecution, "shm-execution.toml"));
      const plan = await run("plan", true, onlyExecution);
      expect(plan.kept.map((k) => [k.kind, k.name])).toEqual([["watchlist", alias]]);
      expect(plan.kept[0]?.reason).toMatch(/^holds \d+ rows? added outside shmhunt/);
      const deletes = byAction(plan, "delete");
      expect(deletes.filter((s) => s.kind === "watchlist" || s.parent === alias)).toEqual([]);
      expect(deletes.map((s) => s.name)).toContain(contentIds.metadata("Watchlist", alias));

      const applied = await run("apply", true, onlyExecution);
      expect(applied.ok, JSON.stringify(applied.failed)).toBe(true);
      await expect(si.watchlists.get(rg, ws, alias)).resolves.toMatchObject({ watchlistAlias: alias });
      expect(await rows()).toEqual(before);
      // No longer shmhunt's: a later prune neither deletes nor mentions it.
      const again = await run("plan", true, onlyExecution);
      expect(again.kept).toEqual([]);
      expect(byAction(again, "delete")).toEqual([]);
    } finally {
      await rm(onlyExecution, { recursive: true, force: true });
      await si.watchlistItems.delete(rg, ws, alias, analystItem);
    }
    // Back to the full rule set (the watchlist marked again) for the tests after this one.
    expect((await run("apply")).ok).toBe(true);
  }, 120_000);

  it("follows a watchlist's asynchronous create and delete (Watchlists.json 2025-12-01: 201 and 202) to their end", async () => {
    // The spec marks both long-running (`final-state-via: azure-async-operation`): the create answers 201 and the
    // delete 202, each naming an operation, which the emulator reads `InProgress` once, then `Succeeded`.
    const spec = JSON.parse(
      await readFile(
        path.join(
          import.meta.dirname,
          "../../../shared/reference/azure-specs/specification/securityinsights/resource-manager/Microsoft.SecurityInsights/stable/2025-12-01/Watchlists.json",
        ),
        "utf8",
      ),
    ) as { paths: Record<string, Record<string, { "x-ms-long-running-operation"?: boolean; responses: object }>> };
    const watchlist = Object.entries(spec.paths).find(([p]) => p.endsWith("/watchlists/{watchlistAlias}"))![1];
    expect(watchlist.delete?.["x-ms-long-running-operation"]).toBe(true);
    expect(Object.keys(watchlist.delete!.responses)).toEqual(["202", "204", "default"]);
    expect(watchlist.put?.["x-ms-long-running-operation"]).toBe(true);

    const onlyExecution = await mkdtemp(path.join(os.tmpdir(), "shmhunt-deploy-execution-"));
    try {
      await cp(path.join(rulesDir, "shm-execution.toml"), path.join(onlyExecution, "shm-execution.toml"));
      const before = emulator.requests.length;
      const pruned = await run("apply", true, onlyExecution);
      expect(pruned.ok, JSON.stringify(pruned.failed)).toBe(true);
      expect(pruned.applied.filter((s) => s.action === "delete" && s.kind === "watchlist").map((s) => s.name)).toEqual([
        "ShmhuntShmCreationExclusions",
      ]);
      const since = emulator.requests.slice(before);
      const deletes = since.filter((r) => r.method === "DELETE" && /\/watchlists\/[^/]+$/i.test(r.path));
      expect(deletes.map((r) => r.status)).toEqual([202]); // answered once, as the spec says: no retry
      const statusReads = since.filter((r) => r.method === "GET" && /\/operationStatuses\//i.test(r.path));
      expect(statusReads.map((r) => r.status)).toEqual([200, 200]); // InProgress, then Succeeded

      const restoreFrom = emulator.requests.length;
      expect((await run("apply")).ok).toBe(true); // the watchlist again: created, its operation followed
      const again = emulator.requests.slice(restoreFrom);
      const put = again.findIndex((r) => r.method === "PUT" && /\/watchlists\/[^/]+$/i.test(r.path));
      expect(again[put]?.status).toBe(201);
      const firstItem = again.findIndex((r) => r.method === "PUT" && /\/watchlistItems\//i.test(r.path));
      const reads = again.flatMap((r, i) => (r.method === "GET" && /\/operationStatuses\//i.test(r.path) ? [i] : []));
      expect(reads).toHaveLength(2);
      // Its rows are written once its operation is over.
      expect(reads.every((i) => i > put && i < firstItem)).toBe(true);
    } finally {
      await rm(onlyExecution, { recursive: true, force: true });
    }
  }, 120_000);

  it("stops on a rule that fails validation before any change to the workspace", async () => {
    const broken = await mkdtemp(path.join(os.tmpdir(), "shmhunt-deploy-broken-"));
    try {
      await cp(rulesDir, broken, { recursive: true });
      const file = path.join(broken, "shm-execution.toml");
      await writeFile(file, (await readFile(file, "utf8")).replace(/^severity = "high"$/m, 'severity = "extreme"'));
      await rm(path.join(broken, "shm-creation.toml"));
      const before = emulator.requests.length;
      const error = await run("apply", true, broken).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DiagnosticError);
      const diagnostics = (error as DiagnosticError).diagnostics;
      expect(diagnostics[0]?.file).toContain("shm-execution.toml");
      expect(diagnostics[0]?.span?.start.line).toBeGreaterThan(0);
      // Not even read: validation comes before anything reaches the workspace.
      expect(emulator.requests.length).toBe(before);
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  }, 60_000);

  it("names the data connector to enable when an analytics rule reads a table the workspace lacks", async () => {
    const bare = emulator.state.addWorkspace({
      subscriptionId: workspace.subscriptionId,
      resourceGroup: workspace.resourceGroup,
      name: "ws-no-defender",
    });
    bare.seedTable("Syslog", []);
    const target = { ...workspace, workspaceName: "ws-no-defender" };
    const report = await deploy({ rulesDir, clients, workspace: target, mode: "apply", prune: false });
    expect(report.ok).toBe(false);
    expect(report.failed).toMatchObject({ action: "create", kind: "alertRule" });
    expect(report.failed?.error.status).toBe(400);
    expect(report.failed?.error.advice).toContain("DeviceProcessEvents");
    expect(report.failed?.error.advice).toContain("Microsoft Defender XDR connector");
    // Everything before the failure was done; nothing after it was attempted.
    expect(report.applied.length).toBeGreaterThan(0);
    expect(report.notApplied.length).toBeGreaterThan(0);
    expect(report.applied.length + report.notApplied.length + 1).toBe(report.counts.create);
  }, 60_000);
  it("stops at the first failing step, says which role is missing, and resumes on the next apply", async () => {
    const ws = emulator.state.addWorkspace({
      subscriptionId: workspace.subscriptionId,
      resourceGroup: workspace.resourceGroup,
      name: "ws-no-role",
    });
    seedSourceTables(ws);
    const target = { ...workspace, workspaceName: "ws-no-role" };
    emulator.faults.push({
      api: "arm",
      method: "PUT",
      path: "ws-no-role/providers/Microsoft.SecurityInsights/alertRules/",
      kind: "status",
      status: 403,
      code: "AuthorizationFailed",
      message:
        "The client does not have authorization to perform action 'Microsoft.SecurityInsights/alertRules/write'.",
    });
    const first = await deploy({ rulesDir, clients, workspace: target, mode: "apply", prune: false });
    expect(first.ok).toBe(false);
    expect(first.failed).toMatchObject({ kind: "alertRule", error: { status: 403 } });
    expect(first.failed?.error.advice).toMatch(/grant it Microsoft Sentinel Contributor/);
    // Functions, watchlists, items and hunting queries come before analytics rules, each followed by its metadata.
    expect(new Set(first.applied.map((s) => s.kind))).toEqual(
      new Set(["workspaceFunction", "watchlist", "watchlistItem", "savedSearch", "metadata"]),
    );
    const owners = first.applied.filter((s) => s.kind !== "metadata" && s.kind !== "watchlistItem");
    expect(first.applied.filter((s) => s.kind === "metadata")).toHaveLength(owners.length);
    expect(first.applied[first.applied.indexOf(owners[0] as never) + 1]?.kind).toBe("metadata");
    expect(first.notApplied.map((s) => s.kind)).toEqual(["metadata", "alertRule", "metadata", "alertRule", "metadata"]);

    const second = await deploy({ rulesDir, clients, workspace: target, mode: "apply", prune: false });
    expect(second.ok).toBe(true);
    expect(second.counts.unchanged).toBe(first.applied.length);
    expect(second.applied).toHaveLength(first.notApplied.length + 1);
    expect((await deploy({ rulesDir, clients, workspace: target, mode: "plan", prune: true })).counts).toMatchObject({
      create: 0,
      update: 0,
      delete: 0,
    });
  }, 120_000);
  it("given loaded rules, refuses one that does not translate before reading the workspace", async () => {
    const { loadRules } = await import("../../src/rules/index.js");
    const { rules } = await loadRules(rulesDir);
    const notEql = rules.map((r, i) => (i === 0 ? { ...r, language: "kuery" as typeof r.language } : r));
    const before = emulator.requests.length;
    const error = await deploy({ rules: notEql, clients, workspace, mode: "apply", prune: true }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DiagnosticError);
    expect((error as DiagnosticError).diagnostics[0]?.message).toMatch(/only EQL rules deploy/);
    expect(emulator.requests.length).toBe(before);
  });
});
