/**
 * `shmhunt deploy --plan` over rules folders that `shmhunt validate` passes. The standard: "a broken rule file fails
 * validation, never a half-deploy", and bad input gets "a clear error naming the file, line and column or the
 * field"; README, Operations: "Adding a rule. Drop an Elastic TOML (EQL) into rules/ … run npx shmhunt validate".
 * The deploy runs as test/deploy/entry-points.test.ts runs it: the command's runner with the emulator's clients.
 */
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runDeployCommand } from "../../src/cli/commands/deploy.js";
import { reasonOf } from "../../src/cli/output.js";
import { makeContentClients } from "../azure/clients.js";
import { type Emulator, startEmulator } from "../emulator/server.js";
import { runCli } from "../support/cli-in-process.js";
import { tempDirs } from "../support/temp-dirs.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const temp = tempDirs("deploy-rules");
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator();
  emulator.workspace.seedTable("DeviceProcessEvents", []);
  emulator.workspace.seedTable("Syslog", []);
}, 60_000);
afterAll(async () => {
  await emulator?.close();
});
afterEach(() => {
  process.exitCode = undefined;
});

/** `shmhunt deploy --plan --json` over `rulesDir`: the plan's JSON lines, or the one-line reason it failed with. */
async function plan(rulesDir: string): Promise<{ steps: { kind: string; name: string }[]; error?: string }> {
  const out: string[] = [];
  const env = {
    SHMHUNT_SUBSCRIPTION_ID: emulator.workspace.subscriptionId,
    SHMHUNT_RESOURCE_GROUP: emulator.workspace.resourceGroup,
    SHMHUNT_WORKSPACE_NAME: emulator.workspace.name,
    SHMHUNT_RULES_DIR: rulesDir,
  };
  try {
    await runDeployCommand(
      { plan: true, json: true },
      {
        env,
        clients: async () => makeContentClients(emulator),
        out: { write: (s: string) => out.push(s) },
        err: { write: () => true },
      },
    );
  } catch (error) {
    return { steps: [], error: reasonOf(error) };
  }
  const steps = out
    .join("")
    .trim()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as { kind: string; name: string });
  return { steps };
}

describe("deploy --plan over rules that validate passes", () => {
  it("a rule whose [shmhunt] targets names defender twice: validate refuses it, or deploy names the file and key", async () => {
    const dir = temp();
    const text = readFileSync(path.join(repoRoot, "rules/shm-execution.toml"), "utf8").replace(
      /^targets = .*$/m,
      'targets = ["defender", "defender"]',
    );
    writeFileSync(path.join(dir, "shm-execution.toml"), text);
    copyFileSync(path.join(repoRoot, "rules/shm-creation.yar"), path.join(dir, "shm-creation.yar"));

    const validated = await runCli(["validate", dir]);
    const deployed = await plan(dir);
    // Either the broken file fails validation (then deploy refuses it the same way) …
    if (validated.code === 0) {
      // … or the plan, which validate promised, is made; a failure must at least name the rule file and the key.
      expect(deployed.error ?? "").toContain("shm-execution.toml");
      expect(deployed.error ?? "").toContain("shmhunt.targets");
    }
    expect(validated.code).toBe(1);
  }, 120_000);

  it("a rule file named *.TOML: validate checks it as a rule, and deploy plans it (or neither does)", async () => {
    const dir = temp();
    copyFileSync(path.join(repoRoot, "rules/shm-execution.toml"), path.join(dir, "EXECUTION.TOML"));
    copyFileSync(path.join(repoRoot, "rules/shm-creation.yar"), path.join(dir, "shm-creation.yar"));

    const validated = await runCli(["validate", dir]);
    expect(validated.code).toBe(0);
    // validate counted the file among the files it checked: "2 files checked: 2 valid" (the rule and the .yar)
    const checkedAsRule = /2 files checked: 2 valid/.test(validated.stderr);

    const deployed = await plan(dir);
    expect(deployed.error).toBeUndefined();
    const plansTheRule = deployed.steps.some(
      (s) => s.kind === "savedSearch" && s.name.includes("3f3f9fe2-d095-11ec-95dc-f661ea17fbce"),
    );
    expect({ checkedAsRule, plansTheRule }).toEqual({ checkedAsRule, plansTheRule: checkedAsRule });
  }, 120_000);
});
