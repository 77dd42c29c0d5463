/**
 * End to end, offline: the hunt queries the Log Analytics emulator through @azure/monitor-query-logs, raises
 * Sentinel incidents + bookmarks through @azure/arm-securityinsight, keeps state in Azure Table and samples in
 * Azure Blob (Azurite), and gates on the real YARA-X scanner. Overlapping runs, injected faults (429 storm, 504,
 * partial results) and a kill mid-run end with every event alerted exactly once.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServices } from "../../src/app/compose.js";
import { loadConfig } from "../../src/app/config.js";
import { kqlFilePlans } from "../../src/app/plans.js";
import type { Services } from "../../src/app/services.js";
import type { AlertWriter } from "../../src/sentinel/incidents.js";
import { SentinelAlertWriter } from "../../src/sentinel/incidents.js";
import { LogAnalyticsQueryRunner } from "../../src/sentinel/logs-query.js";
import { type Clients, makeClients, sentinelRecords } from "../azure/clients.js";
import { type Emulator, startEmulator } from "../emulator/server.js";
import { type Azurite, startAzurite } from "../support/azurite.js";
import { KilledAfterWrite, SHM_CREATION_QUERY } from "../support/hunt-fixtures.js";
import { buildShmgetElf } from "../support/shmget-elf.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");

let emulator: Emulator;
let clients: Clients;
let azurite: Azurite;
let dir: string;
let elf: Buffer;
let elfSha: string;
let now = new Date("2026-03-01T10:00:00Z");

beforeAll(async () => {
  // The emulator shares the hunt's clock; the rows stand for data already ingested when seeded (delay 0): the hunt
  // windows on ingestion time (src/hunt/window.ts), so a row is seen from the moment it is seeded.
  [emulator, azurite] = await Promise.all([startEmulator({ now: () => now, ingestionDelayMs: 0 }), startAzurite()]);
  clients = makeClients(emulator);
  dir = mkdtempSync(path.join(tmpdir(), "shmhunt-e2e-"));
  elf = readFileSync(await buildShmgetElf(dir, "-O0"));
  elfSha = createHash("sha256").update(elf).digest("hex");
  mkdirSync(path.join(dir, "kql", "shm-creation"), { recursive: true });
  writeFileSync(path.join(dir, "kql", "shm-creation", "defender.kql"), SHM_CREATION_QUERY);
});

afterAll(async () => {
  await Promise.all([emulator?.close(), azurite?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

let pid = 100;
function fileEvent(time: string, sha256: string, device = "web-01") {
  pid++;
  return {
    TimeGenerated: time,
    Timestamp: time,
    DeviceId: `id-${device}`,
    DeviceName: device,
    ActionType: "FileCreated",
    FolderPath: `/dev/shm/.x${pid}`,
    FileName: `.x${pid}`,
    SHA256: sha256,
    InitiatingProcessId: pid,
    InitiatingProcessAccountName: "root",
    ReportId: pid,
  };
}

async function makeServices(alerts?: (inner: AlertWriter) => AlertWriter): Promise<Services> {
  const config = loadConfig(
    {
      SHMHUNT_STORAGE_CONNECTION_STRING: azurite.connectionString,
      SHMHUNT_RULES_DIR: path.join(repoRoot, "rules"),
      SHMHUNT_KQL_DIR: path.join(dir, "kql"),
    },
    repoRoot,
  );
  const ws = emulator.workspace;
  const sentinel = new SentinelAlertWriter(clients.sentinel, ws.resourceGroup, ws.name);
  return createServices(config, {
    clock: () => now,
    queries: new LogAnalyticsQueryRunner(clients.logs, ws.customerId, {
      serverTimeoutSeconds: 30,
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
    }),
    alerts: alerts ? alerts(sentinel) : sentinel,
    plans: async () =>
      (await kqlFilePlans(config.rulesDir, config.kqlDir, ["defender"])).filter((p) => p.rule.gate.mode === "require"),
  });
}

const sentinelState = () => sentinelRecords(clients, emulator);

describe("end to end: emulator (Logs, Sentinel) + Azurite (Table, Blob) + YARA-X", () => {
  it("hunts, waits for the sample, confirms with YARA, alerts once through faults and a kill", async () => {
    emulator.workspace.seedTable("DeviceFileEvents", [
      fileEvent("2026-03-01T09:58:00Z", elfSha),
      fileEvent("2026-03-01T09:30:00Z", elfSha), // before the first window: never seen
    ]);
    const services = await makeServices();
    try {
      // Run 1: the hit waits for its sample.
      const run1 = await services.hunt.run();
      expect(run1.runs).toHaveLength(1);
      expect(run1.runs[0]).toMatchObject({ status: "completed", counts: { rows: 1, pending: 1 } });
      expect((await sentinelState()).incidents).toHaveLength(0);

      // The sample arrives (HTTP upload path): YARA matches, the incident and its bookmark appear in Sentinel.
      const upload = await services.samples.upload(Readable.from([elf]), { sha256: elfSha });
      expect(upload).toMatchObject({ created: true, verdict: { verdict: "match" }, resolution: { alerted: 1 } });
      let state = await sentinelState();
      expect(state.incidents).toHaveLength(1);
      expect(state.incidents[0]).toMatchObject({ severity: "High", status: "New" });
      expect(state.incidents[0]?.labels?.map((l) => l.labelName)).toEqual(
        expect.arrayContaining(["verdict:match", "yara:apt_nix_elf_Derusbi_Linux_SharedMemCreation"]),
      );
      expect(state.incidents[0]?.description).toContain(elfSha);
      expect(state.bookmarks).toHaveLength(1);
      expect(state.relations).toHaveLength(1);

      // Run 2, through a 429 storm the SDK rides out: the overlapping window sees the same event, no new alert.
      now = new Date("2026-03-01T10:05:00Z");
      emulator.faults.push({ api: "logs", kind: "throttle", retryAfterSeconds: 0, count: 3 });
      const run2 = await services.hunt.run();
      expect(run2.runs[0]).toMatchObject({ status: "completed", counts: { rows: 1, duplicate: 1, alerted: 0 } });
      expect(emulator.requests.filter((r) => r.api === "logs" && r.status === 429).length).toBeGreaterThanOrEqual(3);

      // Run 3 gets only partial results, every attempt: it fails and leaves its window.
      now = new Date("2026-03-01T10:10:00Z");
      emulator.workspace.seedTable("DeviceFileEvents", [fileEvent("2026-03-01T10:07:00Z", elfSha, "db-02")]);
      emulator.faults.push({ api: "logs", kind: "partial", keepRows: 0, count: Number.POSITIVE_INFINITY });
      const run3 = await services.hunt.run();
      expect(run3.runs[0]).toMatchObject({ status: "failed" });
      expect(run3.runs[0]?.error).toMatch(/partial/i);
      emulator.faults.clear();

      // Run 4, after a 504: covers the failed window too; the event that landed in it is alerted (sample known).
      now = new Date("2026-03-01T10:15:00Z");
      emulator.faults.push({ api: "logs", kind: "gatewayTimeout", delayMs: 10, count: 1 });
      const run4 = await services.hunt.run();
      expect(run4.runs[0]).toMatchObject({
        status: "completed",
        window: { start: "2026-03-01T10:01:00.000Z", end: "2026-03-01T10:15:00.000Z" },
        counts: { rows: 1, alerted: 1 },
      });
      state = await sentinelState();
      expect(state.incidents).toHaveLength(2);
    } finally {
      await services.close();
    }

    // A process killed right after writing an incident; the next run finishes without a second incident.
    now = new Date("2026-03-01T10:20:00Z");
    emulator.workspace.seedTable("DeviceFileEvents", [
      fileEvent("2026-03-01T10:17:00Z", elfSha, "app-01"),
      fileEvent("2026-03-01T10:18:00Z", elfSha, "app-02"),
    ]);
    const dying = await makeServices((inner) => new KilledAfterWrite(inner, 1));
    try {
      const killed = await dying.hunt.run();
      expect(killed.runs[0]).toMatchObject({ status: "failed", error: "killed" });
    } finally {
      await dying.close();
    }
    const restarted = await makeServices();
    try {
      now = new Date("2026-03-01T10:21:00Z");
      const rerun = await restarted.hunt.run({ force: true });
      expect(rerun.runs[0]).toMatchObject({ status: "completed", counts: { rows: 2 } });
      const state = await sentinelState();
      expect(state.incidents).toHaveLength(4);
      expect(state.bookmarks).toHaveLength(4);
      expect(state.relations).toHaveLength(4);
      expect(new Set(state.incidents.map((i) => i.title)).size).toBe(4);
      const alerted = await restarted.hunt.hits({ status: "alerted" });
      expect(alerted).toHaveLength(4);
    } finally {
      await restarted.close();
    }
  });
});
