/**
 * The tactics a rule carries reach Sentinel as AlertTypes.json's AttackTactic enum spells them (both api-versions:
 * `CommandAndControl`, `PrivilegeEscalation`, …). The project derives them from the ATT&CK names of the rule's
 * `[[rule.threat]]` tactics; the spec-validated emulator judges the result as the service would.
 */
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadRuleFile } from "../../src/rules/loader.js";
import { TACTICS } from "../../src/rules/mitre-data.js";
import type { LoadedRule } from "../../src/rules/types.js";
import { sentinelTactics } from "../../src/sentinel/vocabulary.js";
import { makeClients } from "../azure/clients.js";
import { scheduledRule } from "../azure/fixtures.js";
import { type Emulator, startEmulator } from "../emulator/server.js";
import { readSpec, SPEC_ROOT } from "../emulator/spec/files.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
let emulator: Emulator;
let seed: LoadedRule;

beforeAll(async () => {
  emulator = await startEmulator();
  emulator.workspace.seedTable("Syslog", []);
  const loaded = await loadRuleFile(path.join(repoRoot, "rules", "shm-execution.toml"));
  if (!loaded.rule) throw new Error("the seed rule does not load");
  seed = loaded.rule;
}, 60_000);
afterAll(async () => {
  await emulator?.close();
});

/** AttackTactic, from the spec the request names (2022-09-01-preview, what the project sends). */
function specTactics(): string[] {
  const file = path.join(
    SPEC_ROOT,
    "securityinsights/resource-manager/Microsoft.SecurityInsights/SecurityInsights/preview/2022-09-01-preview/common/AlertTypes.json",
  );
  return (readSpec(file) as { definitions: { AttackTactic: { enum: string[] } } }).definitions.AttackTactic.enum;
}

/** The seed rule with one threat entry per ATT&CK tactic of the project's table (no techniques). */
function everyTactic(): LoadedRule {
  const threat = Object.entries(TACTICS).map(([id, name]) => ({
    framework: "MITRE ATT&CK",
    tactic: { id, name, reference: `https://attack.mitre.org/tactics/${id}/` },
    techniques: [],
  }));
  return { ...seed, threat } as unknown as LoadedRule;
}

// Regression: sentinelTactics once removed the spaces of "Command and Control" and sent "CommandandControl";
// AlertTypes.json's AttackTactic (and the service) spells it "CommandAndControl".
it("derives every tactic of the ATT&CK table as the spec's AttackTactic spells it", () => {
  const allowed = specTactics();
  const derived = sentinelTactics(everyTactic());
  expect(derived.filter((t) => !allowed.includes(t))).toEqual([]);
});

// The same spelling made Sentinel refuse a rule with the Command and Control tactic (400)
it("deploys a rule with the Command and Control tactic", async () => {
  const rule = {
    ...seed,
    threat: [
      {
        framework: "MITRE ATT&CK",
        tactic: { id: "TA0011", name: TACTICS.TA0011, reference: "https://attack.mitre.org/tactics/TA0011/" },
        techniques: [],
      },
    ],
  } as unknown as LoadedRule;
  const clients = makeClients(emulator);
  const { resourceGroup, name } = emulator.workspace;
  const created = await clients.sentinel.alertRules.createOrUpdate(
    resourceGroup,
    name,
    "c2-rule",
    scheduledRule({ tactics: sentinelTactics(rule) as never, techniques: [] }),
  );
  expect(created.name).toBe("c2-rule");
});
