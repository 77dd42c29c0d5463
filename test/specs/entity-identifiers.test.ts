/**
 * Entities carry the identifiers Microsoft's entity reference calls strong, wherever the target's data has them.
 * The oracle is Microsoft's table (fixtures/entities-reference.json, transcribed from
 * learn.microsoft.com/azure/sentinel/entities-reference with its URL), not src/rules/entity-strength.ts.
 * - every rendered entity mapping of every rule on every target (the checked-in hunting-query YAML and ARM
 *   templates) holds a strong set of Host, Account and FileHash, or the target's data holds no column for one;
 * - `validate` refuses a weak-only mapping where the target's data has the strong identifier, naming file, line, key;
 * - the alert rules deploy through the spec-validated emulator and read back with the same identifiers;
 * - the hunt's incidents carry the same identifiers as the mappings.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { LocalWorkspaceQueryRunner } from "../../src/app/local-queries.js";
import { huntRuleOf } from "../../src/hunt/from-rule.js";
import { HuntState } from "../../src/hunt/hunt-state.js";
import { LocalAlertWriter } from "../../src/hunt/local-alerts.js";
import { runPlan } from "../../src/hunt/run.js";
import { translateRule } from "../../src/kql/index.js";
import { loadRuleFile, loadRules } from "../../src/rules/index.js";
import { ENTITY_IDENTIFIERS } from "../../src/rules/settings.js";
import type { LoadedRule } from "../../src/rules/types.js";
import { deploy } from "../../src/sentinel/deploy.js";
import { ruleStem } from "../../src/sentinel/rule-files.js";
import { serviceLimitsCheck } from "../../src/sentinel/service-limits.js";
import { LocalStateStore } from "../../src/store/local-state-store.js";
import { REGISTRY } from "../../src/targets/index.js";
import { makeContentClients } from "../azure/clients.js";
import { startEmulator } from "../emulator/server.js";

const repo = path.resolve(import.meta.dirname, "../..");
const reference = JSON.parse(
  readFileSync(path.join(import.meta.dirname, "fixtures/entities-reference.json"), "utf8"),
) as {
  maxIdentifiersPerMapping: number;
  internal: string[];
  strong: Record<string, string[][]>;
  fileHashAlgorithms: string[];
  identifiers: Record<string, string[]>;
};
const work = mkdtempSync(path.join(tmpdir(), "shmhunt-entity-ids-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Mapping = { entityType: string; fieldMappings: { identifier: string; columnName?: string }[] };

/** Microsoft spells AadUserId "AADUserId" in the table and ProcessId "ProcessID" once: identifiers compare case-insensitively. */
function isStrong(type: string, identifiers: readonly string[]): boolean {
  const have = new Set(identifiers.map((i) => i.toLowerCase()));
  return (reference.strong[type] ?? []).some((set) => set.every((i) => have.has(i.toLowerCase())));
}

/** The entity types this test holds to a strong set: those whose strong sets a mapping can reach. */
const HELD = ["Host", "Account", "FileHash"];

/**
 * Whether the target's data has a column for the domain of a host or account (for FileHash: always, the algorithm is
 * a constant). A weak Host or Account is accepted only where this is false, so a target that gains such a column
 * fails here until its rules map it.
 */
function dataHasDomain(target: keyof typeof REGISTRY, type: string): boolean {
  if (type === "FileHash") return true;
  const columns = REGISTRY[target].sources.flatMap((s) => {
    const own = REGISTRY[target].functions.find((f) => f.name === s.schema);
    return own ? own.columns.map((c) => c.name) : Object.values(s.fields).flatMap((f) => (f.column ? [f.column] : []));
  });
  return columns.some((c) => /Domain/i.test(c));
}

describe("rendered entity mappings", async () => {
  const { rules } = await loadRules(path.join(repo, "rules"));
  for (const rule of rules) {
    for (const target of rule.settings.targets) {
      it(`${ruleStem(rule)} on ${target}: Host, Account and FileHash with a strong identifier set`, () => {
        const dir = path.join(repo, "kql", ruleStem(rule));
        const yaml = parse(readFileSync(path.join(dir, `${target}.hunting.yaml`), "utf8")) as {
          entityMappings: Mapping[];
        };
        const arm = JSON.parse(readFileSync(path.join(dir, `${target}.arm.json`), "utf8")) as {
          resources: { type: string; properties?: { entityMappings?: Mapping[] } }[];
        };
        const ruleMappings = arm.resources
          .filter((r) => r.type.endsWith("alertRules"))
          .map((r) => r.properties?.entityMappings ?? []);
        for (const mappings of [yaml.entityMappings, ...ruleMappings]) {
          expect(mappings.length).toBeGreaterThan(0);
          for (const m of mappings) {
            const ids = m.fieldMappings.map((f) => f.identifier);
            expect(ids.length).toBeLessThanOrEqual(reference.maxIdentifiersPerMapping);
            if (!HELD.includes(m.entityType)) continue;
            if (isStrong(m.entityType, ids)) continue;
            expect(dataHasDomain(target, m.entityType), `${m.entityType} maps ${ids.join("+")} only`).toBe(false);
          }
        }
        // The query gives the FileHash algorithm as one of the values the entity's Algorithm enum takes.
        const kql = readFileSync(path.join(dir, `${target}.kql`), "utf8");
        for (const [, algorithm] of kql.matchAll(/Entity_FileHash_Algorithm = "([^"]*)"/g)) {
          expect(reference.fileHashAlgorithms).toContain(algorithm);
        }
      });
    }
  }

  it("Defender and ASIM map every one of them strong (their data has the domains)", () => {
    for (const target of ["defender", "asim"] as const) {
      const yaml = parse(readFileSync(path.join(repo, "kql/shm-execution", `${target}.hunting.yaml`), "utf8")) as {
        entityMappings: Mapping[];
      };
      for (const type of HELD) {
        const m = yaml.entityMappings.find((e) => e.entityType === type);
        expect(
          isStrong(
            type,
            (m?.fieldMappings ?? []).map((f) => f.identifier),
          ),
          `${target} ${type}`,
        ).toBe(true);
      }
    }
  });
});

describe("validate", () => {
  it("takes for each entity type only identifiers Microsoft's table lists for it", () => {
    for (const [type, identifiers] of Object.entries(ENTITY_IDENTIFIERS)) {
      const listed = new Set((reference.identifiers[type] ?? []).map((i) => i.toLowerCase()));
      expect(
        identifiers.filter((i) => !listed.has(i.toLowerCase())),
        type,
      ).toEqual([]);
    }
  });

  async function limitsOf(edit: (text: string) => string) {
    const dir = mkdtempSync(path.join(work, "rule-"));
    const file = path.join(dir, "shm-execution.toml");
    writeFileSync(file, edit(readFileSync(path.join(repo, "rules/shm-execution.toml"), "utf8")));
    const { rule } = await loadRuleFile(file);
    if (!rule) throw new Error("rule did not load");
    return { file, findings: serviceLimitsCheck(rule, (r, t) => translateRule(r, t, { validate: false })) };
  }
  const weakHost = (text: string) =>
    text
      .replace(/^Host = \{.*\}$/m, 'Host = { HostName = "host.hostname" }')
      .replace(/^Account = .*$/m, 'Account = { Name = "user.name" }');

  it("refuses a Host or Account mapped by its weak identifier alone where the target's data has the domain", async () => {
    const { file, findings } = await limitsOf(weakHost);
    const lines = readFileSync(file, "utf8").split("\n");
    const lineOf = (key: string) => lines.findIndex((l) => l.startsWith(`${key} =`)) + 1;
    const entityFindings = findings.filter((f) => f.field?.startsWith("shmhunt.entities."));
    // Defender has the device's domain and the account's domain, ASIM its DvcDomain and Windows user domains.
    expect(entityFindings.map((f) => [f.field, f.span?.start.line, f.message.match(/ on (\w+),/)?.[1]])).toEqual([
      ["shmhunt.entities.Host", lineOf("Host"), "defender"],
      ["shmhunt.entities.Account", lineOf("Account"), "defender"],
      ["shmhunt.entities.Host", lineOf("Host"), "asim"],
      ["shmhunt.entities.Account", lineOf("Account"), "asim"],
    ]);
    expect(entityFindings.every((f) => f.file === file && f.code === "RULE208" && f.severity === "error")).toBe(true);
    expect(entityFindings[0]?.message).toContain('add DnsDomain = "host.domain"');
    expect(entityFindings[1]?.message).toContain('add NTDomain = "user.domain"');
  });

  it("takes the weak identifier alone on a target whose data has no domain (auditd)", async () => {
    const { findings } = await limitsOf((text) => weakHost(text).replace(/^targets = .*$/m, 'targets = ["auditd"]'));
    expect(findings.filter((f) => f.field?.startsWith("shmhunt.entities."))).toEqual([]);
  });

  it("takes the seed rules as they are", async () => {
    const { findings } = await limitsOf((text) => text);
    expect(findings).toEqual([]);
  });
});

describe("through the spec-validated emulator", () => {
  it("deploys the analytics rules, and they read back with the strong identifiers", async () => {
    const emulator = await startEmulator();
    const rulesDir = await mkdtemp(path.join(tmpdir(), "shmhunt-entity-deploy-"));
    try {
      emulator.workspace.seedTable("DeviceProcessEvents", []);
      emulator.workspace.seedTable("Syslog", []);
      await cp(path.join(repo, "rules/shm-execution.toml"), path.join(rulesDir, "shm-execution.toml"));
      const clients = makeContentClients(emulator);
      const workspace = {
        subscriptionId: emulator.workspace.subscriptionId,
        resourceGroup: emulator.workspace.resourceGroup,
        workspaceName: emulator.workspace.name,
      };
      await deploy({ rulesDir, clients, workspace, mode: "apply", prune: false });
      const puts = emulator.requests.filter((r) => r.method === "PUT" && /\/alertRules\//i.test(r.path));
      expect(puts.length).toBe(3);
      const read: Mapping[][] = [];
      for await (const r of clients.securityInsights.alertRules.list(
        workspace.resourceGroup,
        workspace.workspaceName,
      )) {
        read.push(((r as { entityMappings?: Mapping[] }).entityMappings ?? []) as Mapping[]);
      }
      expect(read).toHaveLength(3);
      for (const mappings of read) {
        const ids = (type: string) =>
          mappings.find((m) => m.entityType === type)?.fieldMappings.map((f) => f.identifier) ?? [];
        expect(isStrong("FileHash", ids("FileHash")) || ids("FileHash").length === 0).toBe(true);
        expect(isStrong("Host", ids("Host")) || !ids("Host").includes("DnsDomain")).toBe(true);
      }
      // Defender's and ASIM's rules map every held entity strong.
      const strongEverywhere = read.filter((mappings) =>
        HELD.every((type) =>
          isStrong(type, mappings.find((m) => m.entityType === type)?.fieldMappings.map((f) => f.identifier) ?? []),
        ),
      );
      expect(strongEverywhere).toHaveLength(2);
    } finally {
      await emulator.close();
      await rm(rulesDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("the hunt's incidents", () => {
  it("carry the identifiers of the mapping: a Defender hit on an FQDN device", async () => {
    const { rule } = await loadRuleFile(path.join(repo, "rules/shm-execution.toml"));
    if (!rule) throw new Error("rule did not load");
    const t = translateRule(rule as LoadedRule, "defender");
    const dir = mkdtempSync(path.join(work, "ws-"));
    const at = Date.UTC(2026, 10, 23, 10, 1, 0);
    // DeviceName is the device's FQDN and AccountDomain the account's domain (schemas/DeviceProcessEvents.docs.json:
    // "Fully qualified domain name (FQDN) of the device", "Domain of the account"); a local account's domain is the
    // device name, as in Elastic's m365_defender test events (corpus/paired: account.domain testmachine6).
    const row = {
      Timestamp: new Date(at).toISOString(),
      TimeGenerated: new Date(at).toISOString(),
      DeviceId: "58a9bbf419290ea59d0c319f0c1afb82b9f0fcd9",
      DeviceName: "web-01.corp.contoso.com",
      ReportId: 7,
      ActionType: "ProcessCreated",
      FileName: "kworkerd",
      FolderPath: "/dev/shm/kworkerd",
      SHA256: "26a2d5d95405e2aa072837703d2315c203d3394d299c02bde0e3ae7f16de84ea",
      ProcessId: 4242,
      ProcessCommandLine: "/dev/shm/kworkerd",
      AccountName: "root",
      AccountDomain: "web-01",
      InitiatingProcessFileName: "bash",
      InitiatingProcessFolderPath: "/usr/bin/bash",
      InitiatingProcessCommandLine: "-bash",
    };
    writeFileSync(path.join(dir, "DeviceProcessEvents.ndjson"), `${JSON.stringify(row)}\n`);
    mkdirSync(path.join(dir, "functions"));
    const state = new HuntState(new LocalStateStore(path.join(dir, "state")));
    const end = at + 2 * 60_000;
    const hunted = huntRuleOf(rule as LoadedRule);
    const report = await runPlan(
      {
        rule: {
          ...hunted,
          gate: { mode: "none", yaraRules: [], pendingTimeoutMs: 0 },
          lookbackMs: 10 * 60_000,
          intervalMs: 60_000,
        },
        target: "defender",
        query: t.kql ?? "",
      },
      {
        state,
        queries: new LocalWorkspaceQueryRunner(dir, async () => ({})),
        alerts: new LocalAlertWriter(state, () => new Date(end)),
        clock: () => new Date(end),
      },
      { force: true },
    );
    expect(report.status, report.error).toBe("completed");
    const incidents = await state.incidents();
    expect(incidents).toHaveLength(1);
    const entities = incidents[0]?.evidence.entities ?? [];
    const value = (type: string, identifier: string) =>
      entities.find((e) => e.entityType === type)?.fieldMappings.find((f) => f.identifier === identifier)?.value;
    expect(value("Host", "HostName")).toBe("web-01");
    expect(value("Host", "DnsDomain")).toBe("corp.contoso.com");
    expect(value("Account", "Name")).toBe("root");
    expect(value("Account", "NTDomain")).toBe("web-01");
    expect(value("FileHash", "Algorithm")).toBe("SHA256");
    expect(value("FileHash", "Value")).toBe(row.SHA256);
    // The same identifiers, per entity type, as the analytics rule's mapping names.
    const mapped = new Map<string, string[]>();
    for (const c of t.entityColumns) mapped.set(c.type, [...(mapped.get(c.type) ?? []), c.identifier]);
    expect(new Map(entities.map((e) => [e.entityType, e.fieldMappings.map((f) => f.identifier)]))).toEqual(mapped);
  });
});
