/**
 * The deploy entry points over the emulator: `shmhunt deploy` (the command's runner, with the emulator's SDK
 * clients injected in place of DefaultAzureCredential's) and the fastify routes `/deploy/plan|apply` and
 * `/translate`, served by the real services.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServices } from "../../src/app/compose.js";
import { loadConfig } from "../../src/app/config.js";
import type { Services } from "../../src/app/services.js";
import { runDeployCommand } from "../../src/cli/commands/deploy.js";
import { CliError } from "../../src/cli/output.js";
import type { ContentClients } from "../../src/sentinel/content-client.js";
import { createDeployService } from "../../src/sentinel/deploy.js";
import { buildServer } from "../../src/server/app.js";
import { makeContentClients } from "../azure/clients.js";
import { type Emulator, startEmulator } from "../emulator/server.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const rulesDir = path.join(repoRoot, "rules");
let emulator: Emulator;
let clients: ContentClients;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  emulator = await startEmulator();
  clients = makeContentClients(emulator);
  emulator.workspace.seedTable("DeviceProcessEvents", []);
  emulator.workspace.seedTable("Syslog", []);
  env = {
    SHMHUNT_SUBSCRIPTION_ID: emulator.workspace.subscriptionId,
    SHMHUNT_RESOURCE_GROUP: emulator.workspace.resourceGroup,
    SHMHUNT_WORKSPACE_NAME: emulator.workspace.name,
    SHMHUNT_RULES_DIR: rulesDir,
  };
}, 60_000);
afterAll(async () => {
  await emulator?.close();
});

function sinks() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, deps: { out: { write: (s: string) => out.push(s) }, err: { write: (s: string) => err.push(s) } } };
}

describe("shmhunt deploy", () => {
  it("without Azure settings fails with one line saying what to set", async () => {
    const error = await runDeployCommand({ plan: true }, { env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).toMatch(
      /SHMHUNT_SUBSCRIPTION_ID, SHMHUNT_RESOURCE_GROUP and SHMHUNT_WORKSPACE_NAME/,
    );
    expect((error as Error).message).not.toContain("\n");
    await expect(runDeployCommand({ plan: true, apply: true }, { env })).rejects.toThrow(/exactly one of/);
  });

  it("with no rules folder names it as the rules folder (as loadRules words it), not as a rule file", async () => {
    const missing = path.join(mkdtempSync(path.join(tmpdir(), "shmhunt-no-rules-")), "rules");
    try {
      const error = await runDeployCommand({ plan: true, rules: missing }, { env, clients: async () => clients }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect(String(error)).toContain(
        `${missing}: error RULE200: cannot read the rules folder: no such file or directory`,
      );
      expect(String(error)).not.toContain("rule file");
    } finally {
      rmSync(path.dirname(missing), { recursive: true, force: true });
    }
  });

  it("--plan prints one line per step; --apply --json one step per line; then all unchanged", async () => {
    const plan = sinks();
    await runDeployCommand({ plan: true }, { env, clients: async () => clients, ...plan.deps });
    const lines = plan.out.join("").trimEnd().split("\n");
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.every((l) => l.startsWith("create "))).toBe(true);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^create\s+alertRule\s+[0-9a-f-]{36} {2}"Binary Executed from Shared Memory Directory \(asim\)"$/,
      ),
    );
    expect(plan.err.join("")).toMatch(/plan for ws-shmhunt \(3 rules\): \d+ create, 0 update, 0 unchanged, 0 delete/);

    const apply = sinks();
    await runDeployCommand({ apply: true, json: true }, { env, clients: async () => clients, ...apply.deps });
    const records = apply.out
      .join("")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { action: string; status: string });
    expect(records).toHaveLength(lines.length);
    expect(records.every((r) => r.action === "create" && r.status === "done")).toBe(true);
    expect(apply.err).toEqual([]);

    const again = sinks();
    await runDeployCommand({ plan: true, json: true }, { env, clients: async () => clients, ...again.deps });
    const actions = again.out
      .join("")
      .trimEnd()
      .split("\n")
      .map((l) => (JSON.parse(l) as { action: string }).action);
    expect(new Set(actions)).toEqual(new Set(["unchanged"]));
  }, 120_000);
});

describe("server routes", () => {
  let dir: string;
  let services: Services;
  let app: FastifyInstance;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "shmhunt-deploy-server-"));
    const config = loadConfig({ SHMHUNT_DATA_DIR: dir, SHMHUNT_RULES_DIR: rulesDir }, repoRoot);
    const deploy = createDeployService({
      rulesDir,
      workspace: {
        subscriptionId: emulator.workspace.subscriptionId,
        resourceGroup: emulator.workspace.resourceGroup,
        workspaceName: emulator.workspace.name,
      },
      clients: async () => clients,
    });
    services = await createServices(config, { scanner: null, deploy });
    app = await buildServer(services, {
      host: "127.0.0.1",
      apiKeys: [],
      maxBodyBytes: 1_000_000,
      maxSampleBytes: 1_000_000,
      logger: false,
    });
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("POST /deploy/plan answers the plan (the content deployed above: all unchanged)", async () => {
    const response = await app.inject({ method: "POST", url: "/deploy/plan", payload: { prune: true } });
    expect(response.statusCode).toBe(200);
    const body = response.json() as { mode: string; counts: Record<string, number>; ok: boolean };
    expect(body).toMatchObject({ mode: "plan", ok: true, counts: { create: 0, update: 0, delete: 0 } });
    expect(body.counts.unchanged).toBeGreaterThan(10);
  }, 60_000);

  it("POST /translate answers KQL, and 422 for a query the target cannot express", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/translate",
      payload: { target: "auditd", eql: 'process where process.executable : "/dev/shm/*"' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().kql).toContain("ShmhuntAuditd()");
    const refused = await app.inject({
      method: "POST",
      url: "/translate",
      payload: { target: "defender", eql: 'process where no.such.field == "x"' },
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ code: "TRANSLATION_REFUSED" });
    expect(refused.json().message).toContain("no.such.field");
  }, 60_000);
});
