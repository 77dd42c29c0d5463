/**
 * A workspace to deploy into: the spec-validated emulator, the real SDK content clients over HTTPS, the given
 * source tables seeded empty, and a temporary copy of the seed rules. Shared by the deploy, drift and
 * deploy-cycle tests.
 */
import { cp, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { ContentClients } from "../../src/sentinel/content-client.js";
import type { WorkspaceRef } from "../../src/sentinel/content-types.js";
import { makeContentClients } from "../azure/clients.js";
import { type Emulator, startEmulator } from "../emulator/server.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const SEED_RULE_FILES = ["shm-creation.toml", "shm-creation.yar", "shm-execution.toml"] as const;

export interface DeployWorkspace {
  readonly emulator: Emulator;
  readonly clients: ContentClients;
  readonly workspace: WorkspaceRef;
  /** A temporary folder holding a copy of the seed rules (tests may edit them). */
  readonly rulesDir: string;
  close(): Promise<void>;
}

export async function startDeployWorkspace(tables: readonly string[], prefix: string): Promise<DeployWorkspace> {
  const emulator = await startEmulator();
  for (const table of tables) emulator.workspace.seedTable(table, []);
  const rulesDir = await mkdtemp(path.join(os.tmpdir(), `shmhunt-${prefix}-`));
  for (const f of SEED_RULE_FILES) await cp(path.join(repoRoot, "rules", f), path.join(rulesDir, f));
  return {
    emulator,
    clients: makeContentClients(emulator),
    workspace: {
      subscriptionId: emulator.workspace.subscriptionId,
      resourceGroup: emulator.workspace.resourceGroup,
      workspaceName: emulator.workspace.name,
    },
    rulesDir,
    async close() {
      await emulator.close();
      await rm(rulesDir, { recursive: true, force: true });
    },
  };
}
