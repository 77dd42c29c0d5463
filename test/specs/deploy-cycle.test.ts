/**
 * deploy → change a rule → deploy, against the spec-validated emulator, through the project's deploy and the real
 * SDK clients. A changed rule name changes its hunting saved searches, so the second apply updates existing saved
 * searches: the OperationalInsights spec (SavedSearches.json, SavedSearch.etag) says "To override an existing saved
 * search, use "*" or specify the current Etag", so an update must carry the etag it read (else 409 Conflict).
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ContentClients } from "../../src/sentinel/content-client.js";
import type { WorkspaceRef } from "../../src/sentinel/content-types.js";
import { deploy } from "../../src/sentinel/deploy.js";
import { makeContentClients } from "../azure/clients.js";
import { type Emulator, startEmulator } from "../emulator/server.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
let emulator: Emulator;
let clients: ContentClients;
let workspace: WorkspaceRef;
let rulesDir: string;

beforeAll(async () => {
  emulator = await startEmulator();
  clients = makeContentClients(emulator);
  workspace = {
    subscriptionId: emulator.workspace.subscriptionId,
    resourceGroup: emulator.workspace.resourceGroup,
    workspaceName: emulator.workspace.name,
  };
  emulator.workspace.seedTable("DeviceProcessEvents", []);
  emulator.workspace.seedTable("Syslog", []);
  rulesDir = await mkdtemp(path.join(os.tmpdir(), "shmhunt-cycle-"));
  for (const f of ["shm-creation.toml", "shm-creation.yar", "shm-execution.toml"]) {
    await cp(path.join(repoRoot, "rules", f), path.join(rulesDir, f));
  }
}, 60_000);
afterAll(async () => {
  await emulator?.close();
  if (rulesDir) await rm(rulesDir, { recursive: true, force: true });
});

const run = (mode: "plan" | "apply") => deploy({ rulesDir, clients, workspace, mode, prune: false });

it("deploys, takes a renamed rule (saved searches updated with their etag), and then plans nothing", async () => {
  await run("apply");
  const file = path.join(rulesDir, "shm-execution.toml");
  const text = await readFile(file, "utf8");
  await writeFile(
    file,
    text.replace(
      'name = "Binary Executed from Shared Memory Directory"',
      'name = "Binary Executed from a Shared Memory Directory"',
    ),
  );
  const plan = await run("plan");
  const updatedKinds = new Set(plan.steps.filter((s) => s.action === "update").map((s) => s.kind));
  expect(updatedKinds).toContain("savedSearch");
  await run("apply");
  const savedSearchPuts = emulator.requests.filter((r) => r.method === "PUT" && /\/savedSearches\//i.test(r.path));
  expect(savedSearchPuts.filter((r) => r.status === 409)).toEqual([]);
  expect((await run("plan")).counts).toMatchObject({ create: 0, update: 0, delete: 0 });
}, 180_000);
