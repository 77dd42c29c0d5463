/**
 * The sample broker end to end, offline: hunts query the Log Analytics emulator, state and samples live in Azurite
 * (Table, Blob), YARA-X scans, incidents go to the Sentinel emulator, and the samples no one uploaded are fetched
 * from the Defender for Endpoint emulator through live response (DefenderClient). The expected hashes are the
 * bytes' own (node:crypto over the ELF the test compiled); the action states and limits are Microsoft's
 * documentation (api/run-live-response, api/get-live-response-result, api/machineaction), as docs/emulator.md cites.
 */
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createServices, type ServiceOverrides } from "../../src/app/compose.js";
import { loadConfig, type ServiceConfig } from "../../src/app/config.js";
import { kqlFilePlans } from "../../src/app/plans.js";
import type { HitView, Services } from "../../src/app/services.js";
import { main } from "../../src/cli/main.js";
import { DefenderClient } from "../../src/sentinel/defender-client.js";
import { SentinelAlertWriter, writableIncident } from "../../src/sentinel/incidents.js";
import { LogAnalyticsQueryRunner } from "../../src/sentinel/logs-query.js";
import { startServer } from "../../src/server/start.js";
import { functionFile } from "../../src/targets/index.js";
import { type Clients, makeClients } from "../azure/clients.js";
import { type Emulator, startEmulator } from "../emulator/server.js";
import { type Azurite, startAzurite } from "../support/azurite.js";
import { SHM_CREATION_QUERY } from "../support/hunt-fixtures.js";
import { buildShmgetElf } from "../support/shmget-elf.js";
import { emulatedDefender, expiredDownloadLinks } from "./emulated-defender.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const MINUTE = 60_000;

let emulator: Emulator;
let clients: Clients;
let azurite: Azurite;
let dir: string;
let elf: Buffer;
let now = Date.parse("2026-05-04T10:00:00Z");
const hash = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest("hex");

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([
    startEmulator({ now: () => new Date(now), ingestionDelayMs: 0 }),
    startAzurite(),
  ]);
  clients = makeClients(emulator);
  dir = mkdtempSync(path.join(tmpdir(), "shmhunt-broker-"));
  elf = readFileSync(await buildShmgetElf(dir, "-O2"));
  mkdirSync(path.join(dir, "kql", "shm-creation"), { recursive: true });
  writeFileSync(path.join(dir, "kql", "shm-creation", "defender.kql"), SHM_CREATION_QUERY);
  // The seed shm-execution hunt (gate `annotate`) as generated for Defender.
  mkdirSync(path.join(dir, "kql", "shm-execution"), { recursive: true });
  copyFileSync(
    path.join(repoRoot, "kql", "shm-execution", "defender.kql"),
    path.join(dir, "kql", "shm-execution", "defender.kql"),
  );
  // The auditd hunt as generated (kql/shm-creation/auditd.kql), over the ShmhuntAuditd parser deployed as a saved
  // search with its function alias (as src/sentinel deploys it).
  copyFileSync(
    path.join(repoRoot, "kql", "shm-creation", "auditd.kql"),
    path.join(dir, "kql", "shm-creation", "auditd.kql"),
  );
  await clients.operationalInsights.savedSearches.createOrUpdate(
    emulator.workspace.resourceGroup,
    emulator.workspace.name,
    "shmhunt-auditd-parser",
    {
      category: "shmhunt parsers",
      displayName: "ShmhuntAuditd",
      query: readFileSync(functionFile("ShmhuntAuditd"), "utf8"),
      functionAlias: "ShmhuntAuditd",
    },
  );
});

afterAll(async () => {
  await Promise.all([emulator?.close(), azurite?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

let reportId = 500;
function fileEvent(device: string, filePath: string, content: Buffer, overrides: Record<string, unknown> = {}) {
  reportId++;
  const time = new Date(now - 2 * MINUTE).toISOString();
  return {
    TimeGenerated: time,
    Timestamp: time,
    DeviceId: `id-${device}`,
    DeviceName: device,
    ActionType: "FileCreated",
    FolderPath: filePath,
    FileName: path.posix.basename(filePath),
    SHA256: hash("sha256", content),
    SHA1: hash("sha1", content),
    MD5: hash("md5", content),
    InitiatingProcessId: reportId,
    InitiatingProcessAccountName: "root",
    ReportId: reportId,
    ...overrides,
  };
}

const baseEnv = (): Record<string, string> => ({
  SHMHUNT_STORAGE_CONNECTION_STRING: azurite.connectionString,
  SHMHUNT_TMP_DIR: path.join(dir, "tmp"),
  SHMHUNT_RULES_DIR: path.join(repoRoot, "rules"),
  SHMHUNT_KQL_DIR: path.join(dir, "kql"),
});

/** Where the broker had each GetFile result downloaded (the real client, told of its file paths). */
const downloads: string[] = [];
class RecordingDefenderClient extends DefenderClient {
  override downloadResult(...args: Parameters<DefenderClient["downloadResult"]>) {
    downloads.push(args[2]);
    return super.downloadResult(...args);
  }
}

/** The emulator's clients as compose would build them from real settings, on the test's clock. */
function overridesFor(config: ServiceConfig, targets: readonly string[]): ServiceOverrides {
  const ws = emulator.workspace;
  return {
    clock: () => new Date(now),
    queries: new LogAnalyticsQueryRunner(clients.logs, ws.customerId, {
      serverTimeoutSeconds: 30,
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
    }),
    alerts: new SentinelAlertWriter(clients.sentinel, ws.resourceGroup, ws.name),
    plans: async () => kqlFilePlans(config.rulesDir, config.kqlDir, targets),
    // As compose builds it for SHMHUNT_SAMPLE_BROKER=defender (two retries), waiting on the test's clock.
    defender: new RecordingDefenderClient(
      emulatedDefender(emulator, (ms) => {
        now += ms;
      }),
    ),
  };
}

async function makeServices(
  targets: readonly string[] = ["defender"],
  env: Record<string, string> = {},
): Promise<Services> {
  const config = loadConfig({ ...baseEnv(), ...env }, repoRoot);
  return createServices(config, overridesFor(config, targets));
}

const liveResponseCalls = () =>
  emulator.requests.filter((r) => r.api === "defender" && r.method === "POST" && /\/runliveresponse$/.test(r.path));

async function hitOn(services: Services, device: string): Promise<HitView> {
  const hits = await services.hunt.hits();
  const hit = hits.find((h) => h.row.DeviceName === device);
  if (!hit) throw new Error(`no hit on ${device}`);
  return hit;
}

async function hitOnAfterRun(services: Services, device: string): Promise<HitView> {
  await services.hunt.run();
  return hitOn(services, device);
}

async function incidents() {
  const ws = emulator.workspace;
  const out = [];
  for await (const incident of clients.sentinel.incidents.list(ws.resourceGroup, ws.name)) out.push(incident);
  return out;
}

describe("sample broker: emulator (Logs, Sentinel, Defender) + Azurite + YARA-X", () => {
  it("fetches a hit's sample through live response, once, through an offline hour, a 429 storm and an expired link, and alerts with its verdict", async () => {
    const device = "srv-shm-01.contoso.com";
    const filePath = "/dev/shm/.derusbi";
    const machine = emulator.defender.addMachine({ computerDnsName: device, osPlatform: "Linux", online: false });
    emulator.defender.putDeviceFile(machine.id, filePath, { content: elf });
    emulator.workspace.seedTable("DeviceFileEvents", [fileEvent(device, filePath, elf)]);
    const services = await makeServices();
    try {
      // Run 1: the hit waits for its sample; the broker asks the device for it, which is offline: queued.
      const run1 = await services.hunt.run();
      expect(run1.runs[0]).toMatchObject({ status: "completed", counts: { rows: 1, pending: 1 } });
      expect(run1.broker).toMatchObject({ examined: 1, queued: 1 });
      let hit = await hitOn(services, device);
      expect(hit.status).toBe("pending");
      expect(hit.acquisition).toMatchObject({ status: "queued", actionStatus: "Pending", machineId: machine.id });

      // An hour offline, a tick every ten minutes, one of them in a 429 storm past the client's two retries.
      for (let tick = 1; tick <= 6; tick++) {
        now += 10 * MINUTE;
        if (tick === 3)
          emulator.faults.push({
            api: "defender",
            path: /^\/api\/machineactions\/[^/]+$/,
            kind: "throttle",
            retryAfterSeconds: 20,
            count: 3,
          });
        const run = await services.hunt.run();
        expect(run.broker).toMatchObject({ examined: 1, queued: 1 });
      }
      hit = await hitOn(services, device);
      expect(hit.status).toBe("pending");
      expect(hit.acquisition?.status).toBe("queued");
      expect(hit.acquisition?.transientErrors).toBe(1);
      expect(hit.acquisition?.lastError).toContain("429");

      // Online again; the first download links are refused as expired (Azure Storage's 403), three times: the
      // client re-creates the link twice, the broker keeps the action and tries the download at the next tick.
      emulator.defender.setOnline(machine.id, true);
      emulator.faults.push(expiredDownloadLinks(3));
      now += 10 * MINUTE;
      const run8 = await services.hunt.run();
      expect(run8.broker).toMatchObject({ queued: 1 });
      expect((await hitOn(services, device)).status).toBe("pending");

      now += 10 * MINUTE;
      const run9 = await services.hunt.run();
      expect(run9.broker).toMatchObject({ retrieved: 1 });
      hit = await hitOn(services, device);
      expect(hit.status).toBe("alerted");
      expect(hit.verdict?.matches.map((m) => m.rule)).toContain("apt_nix_elf_Derusbi_Linux_SharedMemCreation");
      expect(hit.acquisition).toMatchObject({ status: "retrieved", sha256: hash("sha256", elf), bytes: elf.length });
      expect(hit.acquisition?.history.map((h) => h.status)).toEqual(["requested", "queued", "retrieved"]);
      // Downloaded into an owner-named folder of SHMHUNT_TMP_DIR (removed at start after a kill), and removed since.
      expect(downloads.length).toBeGreaterThan(0);
      for (const file of downloads) {
        expect(path.dirname(path.dirname(file))).toBe(path.join(dir, "tmp"));
        expect(path.basename(path.dirname(file))).toMatch(/^shmhunt-broker-\d+\.\w+\.\w+\.\w+-/);
      }
      expect(readdirSync(path.join(dir, "tmp"))).toEqual([]);

      const raised = await incidents();
      expect(raised).toHaveLength(1);
      expect(raised[0]?.labels?.map((l) => l.labelName)).toEqual(
        expect.arrayContaining(["verdict:match", "yara:apt_nix_elf_Derusbi_Linux_SharedMemCreation"]),
      );
      // The sample is in Blob storage, found by its SHA-1 and MD5 and by its device and path as well.
      expect(await services.sampleStore.has(hash("sha256", elf))).toBe(true);

      // Later ticks ask for nothing again: one GetFile for the file, ever.
      now += 10 * MINUTE;
      await services.hunt.run();
      expect(liveResponseCalls()).toHaveLength(1);
    } finally {
      await services.close();
    }
  });

  it("skips a validly signed file, records a failed GetFile with the API's reason, and shows both", async () => {
    const signed = Buffer.from("\x7fELF signed vendor tool, not an implant\n", "latin1");
    const missing = Buffer.from("\x7fELF gone before the session ran\n", "latin1");
    const a = emulator.defender.addMachine({ computerDnsName: "srv-signed.contoso.com", online: true });
    const b = emulator.defender.addMachine({ computerDnsName: "srv-gone.contoso.com", online: true });
    emulator.defender.putDeviceFile(a.id, "/dev/shm/vendor", { content: signed });
    // api/get-file-information: isValidCertificate, globalPrevalence (the profile the Files API answers)
    emulator.defender.addFileProfile({ content: signed, globalPrevalence: 12, isValidCertificate: true });
    now += 60 * MINUTE;
    emulator.workspace.seedTable("DeviceFileEvents", [
      fileEvent("srv-signed.contoso.com", "/dev/shm/vendor", signed),
      fileEvent("srv-gone.contoso.com", "/dev/shm/gone", missing),
    ]);
    const before = liveResponseCalls().length;
    const services = await makeServices();
    try {
      const run1 = await services.hunt.run();
      expect(run1.broker).toMatchObject({ skipped: 1, queued: 1 });
      now += 5 * MINUTE;
      const run2 = await services.hunt.run();
      expect(run2.broker).toMatchObject({ skipped: 1, failed: 1 });

      const skipped = await hitOn(services, "srv-signed.contoso.com");
      expect(skipped.acquisition?.status).toBe("skipped");
      expect(skipped.acquisition?.reason).toContain("validly signed");
      const failed = await hitOn(services, "srv-gone.contoso.com");
      expect(failed.acquisition?.status).toBe("failed");
      expect(failed.acquisition?.reason).toMatch(/^machine action Failed: .+/);
      expect(failed.status).toBe("pending"); // still waits: an upload may yet come, or the timeout
      expect(liveResponseCalls().length - before).toBe(1);
      void b;
    } finally {
      await services.close();
    }
  });
  it("verifies the seed's auditd shmget hit by host and path: live response fetches the calling executable, which settles it", async () => {
    // The seed's record (demo/workspace/Syslog.ndjson, build-04): shmget(0x82015F0D, 64, IPC_CREAT|0666) by
    // exe="/dev/shm/.x/kworkerd", no hash. Moved to now; auditd's msg=audit(<epoch seconds>:<serial>) with it.
    const seed = readFileSync(path.join(repoRoot, "demo", "workspace", "Syslog.ndjson"), "utf8")
      .split("\n")
      .filter((line) => line.includes("a0=82015f0d"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(seed).toHaveLength(1);
    now += 60 * MINUTE;
    const at = now - 2 * MINUTE;
    const rows = seed.map((r) => ({
      ...r,
      TimeGenerated: new Date(at).toISOString(),
      SyslogMessage: String(r.SyslogMessage).replace(/audit\(\d+\.\d+:/, `audit(${at / 1000}.000:`),
    }));
    emulator.workspace.seedTable("Syslog", rows);
    // Defender names a Linux device by its host name (api/machine: computerDnsName).
    const machine = emulator.defender.addMachine({ computerDnsName: "build-04", osPlatform: "Linux", online: true });
    emulator.defender.putDeviceFile(machine.id, "/dev/shm/.x/kworkerd", { content: elf });
    const before = liveResponseCalls().length;
    const services = await makeServices(["auditd"]);
    try {
      const run1 = await services.hunt.run();
      expect(run1.runs[0]).toMatchObject({ target: "auditd", status: "completed", counts: { rows: 1, pending: 1 } });
      // (the earlier tests' hits still wait, on their final acquisitions: skipped, failed)
      expect(run1.broker).toMatchObject({ queued: 1 });
      const auditdHit = async () => (await services.hunt.hits()).find((h) => h.target === "auditd");
      let hit = await auditdHit();
      expect(hit).toMatchObject({ status: "pending", target: "auditd" });
      expect(hit?.sha256).toBeUndefined();
      expect(hit?.acquisition).toMatchObject({
        status: "queued",
        machineId: machine.id,
        names: { host: "build-04", path: "/dev/shm/.x/kworkerd" },
      });

      now += 5 * MINUTE;
      const run2 = await services.hunt.run();
      expect(run2.broker).toMatchObject({ retrieved: 1 });
      hit = await auditdHit();
      expect(hit).toMatchObject({ status: "alerted", sha256: hash("sha256", elf) });
      expect(hit?.verdict?.matches.map((m) => m.rule)).toContain("apt_nix_elf_Derusbi_Linux_SharedMemCreation");
      expect(hit?.acquisition?.history.map((h) => h.status)).toEqual(["requested", "queued", "retrieved"]);
      const raised = (await incidents()).filter((i) => i.labels?.some((l) => l.labelName === "verdict:match"));
      expect(raised.some((i) => i.title?.includes("build-04"))).toBe(true);
      expect(liveResponseCalls().length - before).toBe(1);
    } finally {
      await services.close();
    }
  });
  it("GET /hits and `shmhunt hits` show where each sample's acquisition stands", async () => {
    // Two more hits on offline devices, one live response start a tick (SHMHUNT_BROKER_MAX_STARTS=1): one queued,
    // one still requested. With the earlier tests' hits: retrieved, skipped (why), failed (the API's reason).
    const late = Buffer.from("\x7fELF late one\n", "latin1");
    const later = Buffer.from("\x7fELF later one\n", "latin1");
    for (const [device, content] of [
      ["srv-late-a.contoso.com", late],
      ["srv-late-b.contoso.com", later],
    ] as const) {
      const m = emulator.defender.addMachine({ computerDnsName: device, osPlatform: "Linux", online: false });
      emulator.defender.putDeviceFile(m.id, "/dev/shm/.late", { content });
    }
    now += 60 * MINUTE;
    emulator.workspace.seedTable("DeviceFileEvents", [
      fileEvent("srv-late-a.contoso.com", "/dev/shm/.late", late),
      fileEvent("srv-late-b.contoso.com", "/dev/shm/.late", later),
    ]);
    const env = {
      ...baseEnv(),
      SHMHUNT_SAMPLE_BROKER: "defender",
      SHMHUNT_BROKER_MAX_STARTS: "1",
      SHMHUNT_PORT: "0",
      SHMHUNT_HOST: "127.0.0.1",
      SHMHUNT_HUNT_TICK: "0",
      SHMHUNT_LOG_LEVEL: "silent",
    };
    const config = loadConfig(env, repoRoot);
    const server = await startServer(config, { overrides: overridesFor(config, ["defender", "auditd"]) });
    let shown: HitView[];
    try {
      const run = await fetch(`${server.url}/hunt/run`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      expect(run.status).toBe(200);
      expect(((await run.json()) as { broker: unknown }).broker).toMatchObject({ queued: 1, requested: 1 });
      const response = await fetch(`${server.url}/hits`);
      expect(response.status).toBe(200);
      shown = ((await response.json()) as { hits: HitView[] }).hits;
    } finally {
      await server.close();
    }
    const host = (h: HitView) => String(h.row.DeviceName ?? h.row.Computer);
    const byHost = Object.fromEntries(shown.map((h) => [host(h), h.acquisition]));
    expect(byHost["srv-shm-01.contoso.com"]).toMatchObject({ status: "retrieved", bytes: elf.length });
    expect(byHost["build-04"]).toMatchObject({ status: "retrieved", names: { path: "/dev/shm/.x/kworkerd" } });
    expect(byHost["srv-signed.contoso.com"]).toMatchObject({ status: "skipped" });
    expect(byHost["srv-signed.contoso.com"]?.reason).toContain("validly signed");
    expect(byHost["srv-gone.contoso.com"]).toMatchObject({ status: "failed" });
    expect(byHost["srv-gone.contoso.com"]?.reason).toMatch(/^machine action Failed: .+/);
    // api/machineaction: an action waits `Pending` while its device is offline
    const queued = [byHost["srv-late-a.contoso.com"], byHost["srv-late-b.contoso.com"]];
    expect(queued.map((a) => a?.status).sort()).toEqual(["queued", "requested"]);
    expect(queued.find((a) => a?.status === "queued")).toMatchObject({ actionStatus: "Pending" });

    // The CLI, from the same settings: one line per hit with its acquisition, and the same records with --json.
    const written: string[] = [];
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      expect(await main(["node", "shmhunt", "hits", "--status", "pending"])).toBe(0);
      const text = written.join("");
      expect(text).toMatch(/^pending .* sample skipped srv-signed\.contoso\.com:\/dev\/shm\/vendor: validly signed/m);
      expect(text).toMatch(
        /^pending .* sample fetch failed srv-gone\.contoso\.com:\/dev\/shm\/gone: machine action Failed: /m,
      );
      expect(text).toMatch(
        /^pending .* sample queued srv-late-.\.contoso\.com:\/dev\/shm\/\.late \(machine action \S+ Pending\)/m,
      );
      expect(text).toMatch(/^pending .* sample requested srv-late-.\.contoso\.com:\/dev\/shm\/\.late/m);
      written.length = 0;
      expect(await main(["node", "shmhunt", "hits", "--json"])).toBe(0);
      const records = written
        .join("")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as HitView);
      expect(records.filter((r) => r.acquisition?.status === "retrieved")).toHaveLength(2);
    } finally {
      write.mockRestore();
      vi.unstubAllEnvs();
    }
  });
  it("a verdict arriving after an annotate-mode incident adds a comment and the verdict label, keeping the analyst's changes", async () => {
    const device = "srv-exec-07.contoso.com";
    const sample = readFileSync(await buildShmgetElf(dir, "-O0"));
    now += 60 * MINUTE;
    const time = new Date(now - 2 * MINUTE).toISOString();
    // DeviceProcessEvents columns (schemas/DeviceProcessEvents): root runs a binary from /dev/shm.
    emulator.workspace.seedTable("DeviceProcessEvents", [
      {
        TimeGenerated: time,
        Timestamp: time,
        DeviceId: "id-exec-07",
        DeviceName: device,
        ActionType: "ProcessCreated",
        AccountName: "root",
        FolderPath: "/dev/shm/.x/kworkerd",
        FileName: "kworkerd",
        ProcessId: 4711,
        ProcessCommandLine: "/dev/shm/.x/kworkerd",
        SHA256: hash("sha256", sample),
        ReportId: ++reportId,
      },
    ]);
    const services = await makeServices(["defender"]);
    try {
      // The seed shm-execution rule alerts on behaviour (sample_gate.mode = "annotate"): an incident at once.
      const run = await services.hunt.run();
      expect(run.runs.find((r) => r.counts?.alerted)).toBeDefined();
      const hit = (await services.hunt.hits()).find((h) => h.row.DeviceName === device);
      expect(hit).toMatchObject({ status: "alerted" });
      const ws = emulator.workspace;
      const incidentId = hit?.incidentId as string;
      const raised = await clients.sentinel.incidents.get(ws.resourceGroup, ws.name, incidentId);
      expect(raised.labels?.map((l) => l.labelName)).toContain("verdict:none");

      // An analyst takes it: status, owner note, classification comment, a label of their own (through the SDK).
      await clients.sentinel.incidents.createOrUpdate(ws.resourceGroup, ws.name, incidentId, {
        ...writableIncident(raised),
        status: "Active",
        title: "triaged: kworkerd on srv-exec-07",
        labels: [...(raised.labels ?? []), { labelName: "analyst:triaged" }],
      });

      // The sample arrives later (an upload), matches: the incident gets a comment and the labels.
      const uploaded = await services.samples.upload(Readable.from([sample]));
      expect(uploaded.verdict?.verdict).toBe("match");
      const after = await clients.sentinel.incidents.get(ws.resourceGroup, ws.name, incidentId);
      expect(after.status).toBe("Active");
      expect(after.title).toBe("triaged: kworkerd on srv-exec-07");
      expect(after.labels?.map((l) => l.labelName)).toEqual(
        expect.arrayContaining([
          "analyst:triaged",
          "verdict:match",
          "yara:apt_nix_elf_Derusbi_Linux_SharedMemCreation",
        ]),
      );
      const comments = [];
      for await (const c of clients.sentinel.incidentComments.list(ws.resourceGroup, ws.name, incidentId))
        comments.push(c);
      expect(comments).toHaveLength(1);
      expect(comments[0]?.message).toContain("MATCH (apt_nix_elf_Derusbi_Linux_SharedMemCreation)");
      // The seed YARA rule's strings (rules/shm-creation.yar) as the scanner found them in the sample.
      expect(comments[0]?.message).toMatch(/apt_nix_elf_Derusbi_Linux_SharedMemCreation: \$\w+ at offset \d+/);

      // The same verdict again (a second upload): nothing noted twice.
      await services.samples.upload(Readable.from([sample]));
      const again = [];
      for await (const c of clients.sentinel.incidentComments.list(ws.resourceGroup, ws.name, incidentId))
        again.push(c);
      expect(again).toHaveLength(1);
    } finally {
      await services.close();
    }
  });

  /** A Linux device holding a file at `filePath`, and a file event for it in the window: the hit's sample and hash. */
  function fileOnDevice(device: string, filePath: string, text: string): { real: Buffer; sha: string } {
    const real = Buffer.concat([elf, Buffer.from(text)]);
    const machine = emulator.defender.addMachine({ computerDnsName: device, osPlatform: "Linux", online: true });
    emulator.defender.putDeviceFile(machine.id, filePath, { content: real });
    now += 60 * MINUTE;
    emulator.workspace.seedTable("DeviceFileEvents", [fileEvent(device, filePath, real)]);
    return { real, sha: hash("sha256", real) };
  }

  /** The samples container, as a user writing to it sees it. */
  async function samplesContainer() {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient("samples");
    await container.createIfNotExists();
    return container;
  }

  /** The device's hit after runs five minutes apart, until it is no longer pending (at most four runs). */
  async function hitSettled(services: Services, device: string): Promise<HitView> {
    let hit = await hitOnAfterRun(services, device);
    for (let tick = 1; tick <= 3 && hit.status === "pending"; tick++) {
      now += 5 * MINUTE;
      hit = await hitOnAfterRun(services, device);
    }
    return hit;
  }

  it("a blob written under a hit's SHA-256 with other bytes is not the sample: the broker fetches the real file, which replaces it", async () => {
    const device = "srv-shm-02.contoso.com";
    const { real, sha } = fileOnDevice(device, "/dev/shm/.derusbi-2", "the file on the device");
    const services = await makeServices();
    try {
      // Someone writes other bytes to the samples container under the file's hash (a wrong file, a cut copy), and
      // its BlobCreated event comes (functions/handlers.ts, sampleArrived, calls SampleService.arrived).
      const container = await samplesContainer();
      const wrong = Buffer.from("\x7fELF not the file whose SHA-256 names this blob\n", "latin1");
      await container.getBlockBlobClient(sha).uploadData(wrong);
      const arrival = await services.samples.arrived(sha, wrong.length);
      const marked = (await container.getBlobClient(sha).getProperties()).metadata;
      const report = await services.samples.report(sha);
      const before = liveResponseCalls().length;
      const hit = await hitSettled(services, device);
      // The hit's sample is fetched from its device (one GetFile), scanned, and the hit alerted with its verdict.
      expect(liveResponseCalls().length - before).toBe(1);
      expect(hit.status).toBe("alerted");
      expect(hit.verdict?.sha256).toBe(sha);
      expect(hit.acquisition).toMatchObject({ status: "retrieved", sha256: sha, bytes: real.length });
      // The arrival said why it took nothing, and the blob's metadata said it until the real file replaced it.
      expect(arrival).toMatchObject({ kind: "refused", code: "SAMPLE_HASH_MISMATCH" });
      expect(marked).toMatchObject({ shmhunt_unread: "hash-mismatch", shmhunt_sha256: hash("sha256", wrong) });
      expect(report.stored).toBe(false);
      expect(hash("sha256", await container.getBlobClient(sha).downloadToBuffer())).toBe(sha);
      expect(await services.samples.report(sha)).toMatchObject({ stored: true, size: real.length });
    } finally {
      await services.close();
    }
  });
  // The same, by a blob over the sample limit under the hit's hash: never read (too large to scan), it must not count
  // as the stored sample either (docs/service.md: such a blob gets no verdict), or the hit waits for its
  // pending_timeout with nothing fetched.
  it("a blob over the sample limit under a hit's SHA-256 is not the sample: the broker fetches the real file", async () => {
    const device = "srv-shm-03.contoso.com";
    const { sha } = fileOnDevice(device, "/dev/shm/.derusbi-3", "the file on the device, third");
    const limit = 64 * 1024;
    const services = await makeServices(["defender"], { SHMHUNT_MAX_SAMPLE_BYTES: String(limit) });
    try {
      const large = Buffer.alloc(limit + 1, 0x41);
      await (await samplesContainer()).getBlockBlobClient(sha).uploadData(large);
      expect(await services.samples.arrived(sha, large.length)).toMatchObject({ kind: "too-large" });
      const before = liveResponseCalls().length;
      const hit = await hitSettled(services, device);
      expect(liveResponseCalls().length - before).toBe(1);
      expect(hit.status).toBe("alerted");
      expect(hit.verdict?.sha256).toBe(sha);
    } finally {
      await services.close();
    }
  });
});
