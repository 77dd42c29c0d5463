/**
 * Event Grid redelivers an event whose delivery is still being handled: "Event Grid waits 30 seconds for a response
 * after delivering a message. After 30 seconds, if the endpoint hasn't responded, the message is queued for retry"
 * (Microsoft Learn, Event Grid message delivery and retry). So `sampleArrived` runs twice at once for one blob when a
 * large sample takes longer than that. Real parts: the Functions handler over Azurite (Blob samples, Table state),
 * the YARA-X scanner (counted: each scan is a sample read and matched again), and Sentinel incidents through
 * @azure/arm-securityinsight on the emulator, whose incident PUT is made slow (as a loaded Sentinel API is) so that
 * the two deliveries' settling overlaps.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { type EventGridEvent, InvocationContext, type Timer } from "@azure/functions";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { huntTimer, sampleArrived } from "../../functions/handlers.js";
import { setServices } from "../../functions/runtime.js";
import { createServices } from "../../src/app/compose.js";
import { loadConfig } from "../../src/app/config.js";
import { kqlFilePlans } from "../../src/app/plans.js";
import type { Services } from "../../src/app/services.js";
import { SentinelAlertWriter } from "../../src/sentinel/incidents.js";
import { LogAnalyticsQueryRunner } from "../../src/sentinel/logs-query.js";
import { makeTempFolder } from "../../src/store/temp-folder.js";
import { createScanner } from "../../src/yara/scanner.js";
import { type Clients, makeClients, sentinelRecords } from "../azure/clients.js";
import { type Emulator, startEmulator } from "../emulator/server.js";
import { type Azurite, DEV_ACCOUNT, startAzurite } from "../support/azurite.js";
import { countedScanner } from "../support/counted-scanner.js";
import { SHM_CREATION_QUERY } from "../support/hunt-fixtures.js";
import { buildShmgetElf } from "../support/shmget-elf.js";
import { tempDirs } from "../support/temp-dirs.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");

const dirs = tempDirs("overlap");
let emulator: Emulator;
let clients: Clients;
let azurite: Azurite;
let services: Services;
let dir: string;
let tmpDir: string;
let elf: Buffer;
let elfSha: string;
const now = new Date("2026-03-01T10:00:00Z");
const logs: string[] = [];
/** The SHA-256 of every file the scanner scanned, in order. */
const scans: string[] = [];
/** How long a scan takes at least (a large sample's). */
let scanDelayMs = 0;

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([startEmulator({ now: () => now, ingestionDelayMs: 0 }), startAzurite()]);
  clients = makeClients(emulator);
  dir = dirs();
  tmpDir = path.join(dir, "tmp");
  elf = readFileSync(await buildShmgetElf(dir, "-O0"));
  elfSha = createHash("sha256").update(elf).digest("hex");
  mkdirSync(path.join(dir, "kql", "shm-creation"), { recursive: true });
  writeFileSync(path.join(dir, "kql", "shm-creation", "defender.kql"), SHM_CREATION_QUERY);
  const config = loadConfig(
    {
      SHMHUNT_STORAGE_CONNECTION_STRING: azurite.connectionString,
      SHMHUNT_RULES_DIR: path.join(repoRoot, "rules"),
      SHMHUNT_KQL_DIR: path.join(dir, "kql"),
      SHMHUNT_TMP_DIR: tmpDir,
    },
    repoRoot,
  );
  const ws = emulator.workspace;
  services = await createServices(config, {
    clock: () => now,
    queries: new LogAnalyticsQueryRunner(clients.logs, ws.customerId, {
      serverTimeoutSeconds: 30,
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
    }),
    alerts: new SentinelAlertWriter(clients.sentinel, ws.resourceGroup, ws.name),
    plans: async () =>
      (await kqlFilePlans(config.rulesDir, config.kqlDir, ["defender"])).filter((p) => p.rule.gate.mode === "require"),
    // The service's own YARA-X scanner (as compose.ts makes it), each scan counted.
    scanner: async () => {
      const scanner = await createScanner({
        rules: [config.rulesDir],
        maxSampleSize: config.maxSampleBytes,
        timeoutMs: config.scanTimeoutMs,
        workers: config.scanWorkers,
        tempFolder: () => makeTempFolder("sample", config.tmpDir),
      });
      return countedScanner(scanner, scans, () => scanDelayMs);
    },
  });
  setServices(services);
});

afterAll(async () => {
  setServices(undefined);
  await services?.close();
  await Promise.all([emulator?.close(), azurite?.stop()]);
});

function context(name: string): InvocationContext {
  return new InvocationContext({
    functionName: name,
    logHandler: (_level, ...args) => logs.push(args.map(String).join(" ")),
  });
}

/** A BlobCreated event (EventGridSchema) as Microsoft Learn's "Azure Blob Storage as an Event Grid source" shows it. */
function blobCreated(name: string, contentLength: number): EventGridEvent {
  return {
    topic: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-shmhunt/providers/Microsoft.Storage/storageAccounts/${DEV_ACCOUNT}`,
    subject: `/blobServices/default/containers/samples/blobs/${name}`,
    eventType: "Microsoft.Storage.BlobCreated",
    eventTime: "2026-03-01T10:01:00.0000000Z",
    id: "831e1650-001e-001b-66ab-eeb76e069631",
    data: {
      api: "PutBlob",
      contentType: "application/octet-stream",
      contentLength,
      blobType: "BlockBlob",
      url: `https://${DEV_ACCOUNT}.blob.core.windows.net/samples/${name}`,
      sequencer: "00000000000004420000000000028963",
    },
    dataVersion: "",
    metadataVersion: "1",
  };
}

const sentinelState = () => sentinelRecords(clients, emulator);

describe("sampleArrived: two deliveries of one BlobCreated event at once (Event Grid's retry after 30 s)", () => {
  it("store the sample once, keep one verdict, raise each waiting hit's incident once, leave no file behind", async () => {
    emulator.workspace.seedTable("DeviceFileEvents", [
      {
        TimeGenerated: "2026-03-01T09:58:00Z",
        Timestamp: "2026-03-01T09:58:00Z",
        DeviceId: "id-web-01",
        DeviceName: "web-01",
        ActionType: "FileCreated",
        FolderPath: "/dev/shm/.x101",
        FileName: ".x101",
        SHA256: elfSha,
        InitiatingProcessId: 101,
        InitiatingProcessAccountName: "root",
        ReportId: 101,
      },
    ]);
    await huntTimer({ isPastDue: false } as Timer, context("hunt"));
    expect(await services.hunt.hits({ status: "pending" })).toHaveLength(1);

    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient("samples");
    await container.createIfNotExists();
    await container.getBlockBlobClient(elfSha).uploadData(elf);
    // Sentinel answers the incident's PUT after a while: the other delivery settles meanwhile.
    emulator.faults.push({ api: "arm", method: "PUT", path: /\/incidents\/[^/]+$/, kind: "slow", delayMs: 1500 });
    const requestsBefore = emulator.requests.length;
    const event = blobCreated(elfSha, elf.length);
    logs.length = 0;
    scans.length = 0;
    await Promise.all([sampleArrived(event, context("sampleArrived")), sampleArrived(event, context("sampleArrived"))]);
    // Both deliveries end settled, neither failed; one of them scanned the sample and raised the incident, the other
    // waited for it (the sample's lease), found the verdict of the rules in use, and neither scanned nor settled.
    const settled = logs.filter((l) => l.includes('"event":"sample"')).map((l) => JSON.parse(l));
    expect(settled).toHaveLength(2);
    expect(settled.flatMap((s) => s.resolution?.incidents ?? [])).toHaveLength(1);
    expect(settled.map((s) => s.resolution?.alerted ?? 0).sort()).toEqual([0, 1]);
    expect(settled.map((s) => s.scanned).sort()).toEqual(["known", "match"]);
    expect(scans).toEqual([elfSha]);
    // Delivered once more later (Event Grid's retry of a delivery answered late): nothing scanned, nothing settled.
    logs.length = 0;
    await sampleArrived(event, context("sampleArrived"));
    expect(logs.map((l) => JSON.parse(l))).toMatchObject([{ event: "sample", scanned: "known", created: false }]);
    expect(scans).toEqual([elfSha]);

    const incidentPuts = emulator.requests
      .slice(requestsBefore)
      .filter((r) => r.method === "PUT" && /\/incidents\/[^/]+$/.test(r.path));
    expect(incidentPuts).toHaveLength(1);
    const state = await sentinelState();
    expect(state.incidents).toHaveLength(1);
    expect(state.bookmarks).toHaveLength(1);
    expect(await services.hunt.hits({ status: "alerted" })).toHaveLength(1);
    expect(await services.hunt.hits({ status: "pending" })).toHaveLength(0);
    expect((await services.samples.report(elfSha)).verdict?.matches.map((m) => m.rule)).toEqual([
      "apt_nix_elf_Derusbi_Linux_SharedMemCreation",
    ]);
    const blobs = [];
    for await (const blob of container.listBlobsFlat()) blobs.push(blob.name);
    expect(blobs).toEqual([elfSha]);
    expect(readdirSync(tmpDir)).toEqual([]);
  });
});

describe("sampleArrived: a delivery of a sample whose verdict is of other rules", () => {
  it("scans it again with the rules in use (a verdict is known only for the rule set that made it)", async () => {
    const before = await services.state.verdict(elfSha);
    expect(before?.ruleset).toMatch(/^[0-9a-f]{64}$/);
    // The verdict as the rules before a change made it (the rescan has not reached the sample yet).
    await services.state.putVerdict({ ...before!, ruleset: "0".repeat(64), scannedAt: "2026-02-01T00:00:00.000Z" });
    scans.length = 0;
    logs.length = 0;
    await sampleArrived(blobCreated(elfSha, elf.length), context("sampleArrived"));
    expect(scans).toEqual([elfSha]);
    expect(logs.map((l) => JSON.parse(l))).toMatchObject([{ event: "sample", scanned: "match" }]);
    expect((await services.state.verdict(elfSha))?.ruleset).toBe(before?.ruleset);
    // The alerted hit keeps its incident: the same matches, nothing to settle again.
    expect(await services.hunt.hits({ status: "alerted" })).toHaveLength(1);
    expect((await sentinelState()).incidents).toHaveLength(1);
  });
});

describe("sampleArrived: two deliveries at once of a blob not named by its hash", () => {
  it("store it once under its SHA-256 and scan it once", async () => {
    const bytes = Buffer.concat([elf, Buffer.from("\0other build\0")]);
    const sha = createHash("sha256").update(bytes).digest("hex");
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient("samples");
    await container.getBlockBlobClient("upload-01.bin").uploadData(bytes);
    scans.length = 0;
    logs.length = 0;
    const event = blobCreated("upload-01.bin", bytes.length);
    await Promise.all([sampleArrived(event, context("sampleArrived")), sampleArrived(event, context("sampleArrived"))]);
    const settled = logs.filter((l) => l.includes('"event":"sample"')).map((l) => JSON.parse(l));
    expect(settled.map((s) => [s.sha256, s.scanned]).sort()).toEqual([
      [sha, "known"],
      [sha, "match"],
    ]);
    expect(settled.map((s) => s.created).sort()).toEqual([false, true]);
    expect(scans).toEqual([sha]);
    expect(readdirSync(tmpDir)).toEqual([]);
  });
});

describe("an HTTP upload and the BlobCreated event of the blob it stored, at once", () => {
  it("scan the sample once: the event waits for the upload's scan and finds its verdict", async () => {
    const bytes = Buffer.concat([elf, Buffer.from("\0uploaded\0")]);
    const sha = createHash("sha256").update(bytes).digest("hex");
    const blob = BlobServiceClient.fromConnectionString(azurite.connectionString)
      .getContainerClient("samples")
      .getBlockBlobClient(sha);
    scans.length = 0;
    logs.length = 0;
    scanDelayMs = 1000;
    try {
      const uploading = services.samples.upload(Readable.from([bytes]));
      // Event Grid delivers the event once the blob is written, while the upload still scans.
      while (!(await blob.exists())) await sleep(10);
      await sampleArrived(blobCreated(sha, bytes.length), context("sampleArrived"));
      expect(await uploading).toMatchObject({ sha256: sha, created: true, verdict: { verdict: "match" } });
    } finally {
      scanDelayMs = 0;
    }
    expect(scans).toEqual([sha]);
    expect(logs.map((l) => JSON.parse(l))).toMatchObject([{ event: "sample", sha256: sha, scanned: "known" }]);
  });
});
