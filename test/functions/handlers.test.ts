import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { type EventGridEvent, HttpRequest, InvocationContext, type Timer } from "@azure/functions";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  deploy,
  health,
  huntTimer,
  sampleArrived,
  samples,
  sampleVerdict,
  scan,
  translate,
} from "../../functions/handlers.js";
import { setServices } from "../../functions/runtime.js";
import { createServices } from "../../src/app/compose.js";
import { loadConfig } from "../../src/app/config.js";
import { withYaraRuleNames } from "../../src/app/plans.js";
import type { Services } from "../../src/app/services.js";
import { type Azurite, DEV_ACCOUNT, DEV_KEY, startAzurite } from "../support/azurite.js";
import { clock, EventTable, execEvent, huntRule, plan } from "../support/hunt-fixtures.js";
import { buildShmgetElf } from "../support/shmget-elf.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
/** A sample is sent as raw bytes (docs/service.md, "/samples, /scan body type"), on either host. */
const BYTES = { "content-type": "application/octet-stream" };
let azurite: Azurite;
let services: Services;
let dir: string;
let elf: Buffer;
let elfSha: string;
const table = new EventTable();
const time = clock("2026-03-01T10:00:00Z");
const logs: string[] = [];
/** Every Blob request the services make ("GET /devstoreaccount1/samples/x"), seen by a proxy in front of Azurite. */
const blobRequests: string[] = [];
/** Every answer Azurite gave them: the request, its range and If-Match headers, the status and the body's bytes. */
const blobAnswers: Array<{ request: string; range?: string; ifMatch?: string; status: number; bytes: number }> = [];
/** Runs after Azurite answered a request and before the answer is passed on (a blob replaced in between). */
let beforeAnswer: ((request: string) => Promise<void>) | undefined;
let proxy: Server;
let tmpDir: string;

/** Forwards to Azurite's Blob service and records each request's method and path. */
async function startBlobProxy(target: URL): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const request = `${req.method} ${new URL(req.url ?? "/", "http://x").pathname}`;
    blobRequests.push(request);
    const range = req.headers["x-ms-range"] ?? req.headers.range;
    const ifMatch = req.headers["if-match"];
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      async (answer) => {
        await beforeAnswer?.(request);
        let bytes = 0;
        answer.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
        });
        answer.on("end", () =>
          blobAnswers.push({
            request,
            ...(typeof range === "string" ? { range } : {}),
            ...(typeof ifMatch === "string" ? { ifMatch } : {}),
            status: answer.statusCode ?? 502,
            bytes,
          }),
        );
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  return { server, url: `http://127.0.0.1:${address.port}/${DEV_ACCOUNT}` };
}

/**
 * A BlobCreated event as Event Grid delivers it (EventGridSchema), shaped as Microsoft Learn's "Azure Blob Storage
 * as an Event Grid source" shows it: topic "/subscriptions/{subscription-id}/resourceGroups/{resource-group}/
 * providers/Microsoft.Storage/storageAccounts/{storage-account}", subject "/blobServices/default/containers/
 * {container}/blobs/{blob}", eventType "Microsoft.Storage.BlobCreated", and data with api, contentType,
 * contentLength ("The size of the blob in bytes"), blobType "BlockBlob", url "https://{account}.blob.core.windows.net/
 * {container}/{blob}", sequencer; dataVersion "", metadataVersion "1".
 */
function blobCreated(
  name: string,
  contentLength: number,
  where: { account?: string; container?: string } = {},
): EventGridEvent {
  const account = where.account ?? DEV_ACCOUNT;
  const container = where.container ?? "samples";
  return {
    topic: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-shmhunt/providers/Microsoft.Storage/storageAccounts/${account}`,
    subject: `/blobServices/default/containers/${container}/blobs/${name}`,
    eventType: "Microsoft.Storage.BlobCreated",
    eventTime: "2026-03-01T10:05:00.0000000Z",
    id: createHash("sha256").update(`${account}/${container}/${name}/${contentLength}`).digest("hex").slice(0, 32),
    data: {
      api: "PutBlockList",
      clientRequestId: "6d79dbfb-0e37-4fc4-981f-442c9ca65760",
      requestId: "831e1650-001e-001b-66ab-eeb76e000000",
      eTag: "0x8D4BCC2E4835CD0",
      contentType: "application/octet-stream",
      contentLength,
      blobType: "BlockBlob",
      url: `https://${account}.blob.core.windows.net/${container}/${encodeURIComponent(name)}`,
      sequencer: "00000000000004420000000000028963",
      storageDiagnostics: { batchId: "b68529f3-68cd-4744-baa4-3c0498ec19f0" },
    },
    dataVersion: "",
    metadataVersion: "1",
  };
}

function context(name: string, triggerMetadata: Record<string, unknown> = {}): InvocationContext {
  return new InvocationContext({
    functionName: name,
    triggerMetadata,
    logHandler: (_level, ...args) => logs.push(args.map(String).join(" ")),
  });
}

beforeAll(async () => {
  azurite = await startAzurite();
  dir = mkdtempSync(path.join(tmpdir(), "shmhunt-functions-"));
  elf = readFileSync(await buildShmgetElf(dir, "-Os"));
  elfSha = createHash("sha256").update(elf).digest("hex");
  const proxied = await startBlobProxy(new URL(azurite.blobUrl));
  proxy = proxied.server;
  tmpDir = path.join(dir, "tmp");
  const config = loadConfig(
    {
      SHMHUNT_STORAGE_CONNECTION_STRING: `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};BlobEndpoint=${proxied.url};TableEndpoint=${azurite.tableUrl};`,
      SHMHUNT_TMP_DIR: tmpDir,
      SHMHUNT_RULES_DIR: path.join(repoRoot, "rules"),
      SHMHUNT_MAX_SAMPLE_BYTES: String(1024 * 1024),
    },
    repoRoot,
  );
  const rule = await withYaraRuleNames(
    huntRule({
      id: "9d6f0e5b-0000-4000-8000-000000000002",
      name: "Shared memory creation",
      gate: { mode: "require", yaraRules: ["shm-creation.yar"], pendingTimeoutMs: 3_600_000 },
    }),
    [{ path: path.join(repoRoot, "rules", "shm-creation.yar") }],
  );
  services = await createServices(config, { queries: table, plans: async () => [plan(rule)], clock: time.now });
  setServices(services);
});

afterAll(async () => {
  setServices(undefined);
  await services?.close();
  await new Promise((resolve) => proxy?.close(resolve));
  await azurite?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("Azure Functions handlers (Azurite Blob + Table)", () => {
  it("health names the Azure backends", async () => {
    const response = await health(
      new HttpRequest({ method: "GET", url: "http://localhost/api/health" }),
      context("health"),
    );
    expect(response).toMatchObject({
      status: 200,
      jsonBody: { status: "ok", backends: { state: "table", samples: "blob" } },
    });
  });

  it("translate answers, deploy answers 501 without a Sentinel workspace, and 400 on bad input", async () => {
    const bad = await translate(
      new HttpRequest({ method: "POST", url: "http://localhost/api/translate", body: { string: '{"target":"x"}' } }),
      context("translate"),
    );
    expect(bad.status).toBe(400);
    const notJson = await translate(
      new HttpRequest({ method: "POST", url: "http://localhost/api/translate", body: { string: "{" } }),
      context("translate"),
    );
    expect(notJson.status).toBe(400);
    const ok = await translate(
      new HttpRequest({
        method: "POST",
        url: "http://localhost/api/translate",
        body: { string: JSON.stringify({ target: "defender", eql: "process where true" }) },
      }),
      context("translate"),
    );
    expect(ok.status).toBe(200);
    const plan = await deploy(
      new HttpRequest({ method: "POST", url: "http://localhost/api/deploy?mode=plan" }),
      context("deploy"),
    );
    expect(plan.status).toBe(501);
    const wrong = await deploy(
      new HttpRequest({ method: "POST", url: "http://localhost/api/deploy?mode=destroy" }),
      context("deploy"),
    );
    expect(wrong.status).toBe(400);
  });

  it("validates requests with the fastify routes' schemas: the same 400 and message for the same bad request", async () => {
    const { buildServer } = await import("../../src/server/app.js");
    const app = await buildServer(services, {
      host: "127.0.0.1",
      apiKeys: [],
      maxBodyBytes: 1_000_000,
      maxSampleBytes: 1_000_000,
      logger: false,
    });
    try {
      for (const body of [
        { target: "x", eql: "process where true" },
        { target: "defender" },
        { target: "asim", eql: 1 },
      ]) {
        const viaFastify = await app.inject({ method: "POST", url: "/translate", payload: body });
        const viaFunctions = await translate(
          new HttpRequest({
            method: "POST",
            url: "http://localhost/api/translate",
            body: { string: JSON.stringify(body) },
          }),
          context("translate"),
        );
        expect(viaFunctions.status).toBe(400);
        expect(viaFastify.statusCode).toBe(400);
        expect((viaFunctions.jsonBody as { message: string }).message).toBe(viaFastify.json().message);
      }
      // A parameter given twice: fastify's query parser makes it an array, which the schema refuses; the Functions
      // host kept the last one and ran the request.
      const twice = `sha256=${"a".repeat(64)}&sha256=${elfSha}`;
      const viaFastify = await app.inject({ method: "POST", url: `/samples?${twice}`, headers: BYTES, payload: elf });
      const viaFunctions = await samples(
        new HttpRequest({
          method: "POST",
          url: `http://localhost/api/samples?${twice}`,
          headers: BYTES,
          body: { bytes: elf },
        }),
        context("samples"),
      );
      expect(viaFastify.statusCode).toBe(400);
      expect(viaFunctions).toMatchObject({
        status: 400,
        jsonBody: { code: "SHM_INVALID_REQUEST", message: viaFastify.json().message },
      });
    } finally {
      await app.close();
    }
    // The function key in the query (`code`, read by the Functions host) is not a request parameter.
    const keyed = await deploy(
      new HttpRequest({ method: "POST", url: "http://localhost/api/deploy?mode=plan&prune=true&code=k3y" }),
      context("deploy"),
    );
    expect(keyed.status).toBe(501);
    const badPrune = await deploy(
      new HttpRequest({ method: "POST", url: "http://localhost/api/deploy?mode=plan&prune=maybe" }),
      context("deploy"),
    );
    expect(badPrune).toMatchObject({ status: 400, jsonBody: { code: "SHM_INVALID_REQUEST" } });
    // The mode given twice was the last one (apply) on this host; a parameter is given once.
    const twiceMode = await deploy(
      new HttpRequest({ method: "POST", url: "http://localhost/api/deploy?mode=plan&mode=apply" }),
      context("deploy"),
    );
    expect(twiceMode).toMatchObject({ status: 400, jsonBody: { code: "SHM_INVALID_REQUEST" } });
    const badHash = await samples(
      new HttpRequest({
        method: "POST",
        url: "http://localhost/api/samples?sha256=xyz",
        headers: BYTES,
        body: { bytes: elf },
      }),
      context("samples"),
    );
    expect(badHash).toMatchObject({ status: 400, jsonBody: { code: "SHM_INVALID_REQUEST" } });
  });

  it("timer → pending hit; HTTP upload → stored in Blob, scanned, hit alerted", async () => {
    table.add(execEvent("2026-03-01T09:58:00Z", { SHA256: elfSha }));
    await huntTimer({ isPastDue: false } as Timer, context("hunt"));
    expect(logs.some((l) => l.includes('"event":"hunt"') && l.includes('"failed":0'))).toBe(true);
    expect(await services.hunt.hits({ status: "pending" })).toHaveLength(1);

    const upload = await samples(
      new HttpRequest({
        method: "POST",
        url: `http://localhost/api/samples?sha256=${elfSha}`,
        headers: BYTES,
        body: { bytes: elf },
      }),
      context("samples"),
    );
    expect(upload.status).toBe(201);
    expect(upload.jsonBody).toMatchObject({
      sha256: elfSha,
      created: true,
      verdict: { verdict: "match" },
      resolution: { alerted: 1 },
    });
    expect(await services.hunt.incidents()).toHaveLength(1);

    const blob = BlobServiceClient.fromConnectionString(azurite.connectionString)
      .getContainerClient("samples")
      .getBlobClient(elfSha);
    const props = await blob.getProperties();
    expect(props.contentLength).toBe(elf.length);
    expect(props.metadata).toMatchObject({ verdict: "match", rules: "apt_nix_elf_Derusbi_Linux_SharedMemCreation" });

    const verdict = await sampleVerdict(
      new HttpRequest({ method: "GET", url: `http://localhost/api/samples/${elfSha}`, params: { sha256: elfSha } }),
      context("sampleVerdict"),
    );
    expect(verdict).toMatchObject({ status: 200, jsonBody: { stored: true, verdict: { sha256: elfSha } } });
    const missing = await sampleVerdict(
      new HttpRequest({ method: "GET", url: "http://localhost/api/samples/x", params: { sha256: "0".repeat(64) } }),
      context("sampleVerdict"),
    );
    expect(missing.status).toBe(404);
  });

  it("refuses an upload whose hash is not the claimed one, or over the size limit", async () => {
    const wrong = await samples(
      new HttpRequest({
        method: "POST",
        url: `http://localhost/api/samples?sha256=${"1".repeat(64)}`,
        headers: BYTES,
        body: { bytes: elf },
      }),
      context("samples"),
    );
    expect(wrong).toMatchObject({ status: 422, jsonBody: { code: "SAMPLE_HASH_MISMATCH" } });
    const big = await samples(
      new HttpRequest({
        method: "POST",
        url: "http://localhost/api/samples",
        headers: BYTES,
        body: { bytes: new Uint8Array(1024 * 1024 + 1) },
      }),
      context("samples"),
    );
    expect(big.status).toBe(413);
  });

  it("Event Grid trigger: a hash-named blob is scanned where it lies and settles its hits; a second delivery changes nothing", async () => {
    // A second variant of the fixture: same rule, other bytes, other hash.
    const other = Buffer.concat([elf, Buffer.from("trailer")]);
    const sha = createHash("sha256").update(other).digest("hex");
    time.set("2026-03-01T10:05:00Z");
    table.add(execEvent("2026-03-01T10:03:00Z", { SHA256: sha, DeviceName: "app-07" }));
    await huntTimer({ isPastDue: false } as Timer, context("hunt"));
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient("samples");
    await container.getBlockBlobClient(sha).uploadData(other);
    await sampleArrived(blobCreated(sha, other.length), context("sampleArrived"));
    expect((await services.samples.report(sha)).verdict?.matches.map((m) => m.rule)).toEqual([
      "apt_nix_elf_Derusbi_Linux_SharedMemCreation",
    ]);
    const incidents = await services.hunt.incidents();
    expect(incidents.map((i) => i.title)).toContain("Shared memory creation on app-07");
    // Event Grid delivers at least once: the same event again reads nothing, scans nothing, alerts nothing.
    const scannedAt = (await services.samples.report(sha)).verdict?.scannedAt;
    blobRequests.length = 0;
    await sampleArrived(blobCreated(sha, other.length), context("sampleArrived"));
    expect(await services.hunt.incidents()).toHaveLength(incidents.length);
    expect((await services.samples.report(sha)).verdict?.scannedAt).toBe(scannedAt);
    expect(blobRequests.filter((r) => r === `GET /${DEV_ACCOUNT}/samples/${sha}`)).toEqual([]);
  });

  it("Event Grid trigger: a blob of another name is streamed into the spool and stored under its hash, once", async () => {
    const data = Buffer.from("plain text, not a sample of anything");
    const sha = createHash("sha256").update(data).digest("hex");
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient("samples");
    await container.getBlockBlobClient("edr/upload-from-edr.bin").uploadData(data);
    blobRequests.length = 0;
    await sampleArrived(blobCreated("edr/upload-from-edr.bin", data.length), context("sampleArrived"));
    expect(await services.samples.report(sha)).toMatchObject({
      stored: true,
      size: data.length,
      verdict: { matches: [] },
    });
    // Read once, through the SDK (a ranged Get Blob), then written under its hash.
    expect(blobRequests.filter((r) => r === `GET /${DEV_ACCOUNT}/samples/edr/upload-from-edr.bin`)).toHaveLength(1);
    expect(blobRequests).toContain(`PUT /${DEV_ACCOUNT}/samples/${sha}`);
    expect(logs.some((l) => l.includes('"name":"edr/upload-from-edr.bin"') && l.includes('"created":true'))).toBe(true);
    // A second delivery stores nothing new and scans nothing (the verdict is known).
    const scannedAt = (await services.samples.report(sha)).verdict?.scannedAt;
    logs.length = 0;
    await sampleArrived(blobCreated("edr/upload-from-edr.bin", data.length), context("sampleArrived"));
    expect(logs.some((l) => l.includes('"created":false') && l.includes('"scanned":"known"'))).toBe(true);
    expect((await services.samples.report(sha)).verdict?.scannedAt).toBe(scannedAt);
    expect(readdirSync(tmpDir).filter((f) => f.includes("spool"))).toEqual([]);
  });

  it("Event Grid trigger: a blob over the sample limit is not downloaded, and its metadata says why", async () => {
    const limit = services.config.maxSampleBytes;
    const big = Buffer.alloc(limit + 1, 0x41);
    const bigSha = createHash("sha256").update(big).digest("hex");
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient("samples");
    for (const name of ["getfile-output.zip", bigSha]) {
      await container.getBlockBlobClient(name).uploadData(big);
      blobRequests.length = 0;
      logs.length = 0;
      await sampleArrived(blobCreated(name, big.length), context("sampleArrived"));
      // No Get Blob of it (getProperties is a HEAD, setMetadata a PUT ?comp=metadata): not a byte of it was read.
      expect(blobRequests.filter((r) => r.startsWith("GET "))).toEqual([]);
      expect(readdirSync(tmpDir).filter((f) => f.includes("spool"))).toEqual([]);
      expect((await container.getBlobClient(name).getProperties()).metadata).toMatchObject({
        shmhunt_unread: "too-large",
        shmhunt_size: String(limit + 1),
        shmhunt_limit: String(limit),
      });
      expect(logs.some((l) => l.includes('"unread":"too-large"') && l.includes(`"limit":${limit}`))).toBe(true);
    }
    expect(await services.samples.report(bigSha)).not.toHaveProperty("verdict");
  });

  it("Event Grid trigger: a hash-named blob over the sample limit is not read later either, by the scan retries of the hits that wait for it", async () => {
    // docs/service.md: "A blob larger than SHMHUNT_MAX_SAMPLE_BYTES is not read at all"; the scheduler's tick
    // (huntTimer) retries the scans of stored samples that pending hits wait for (SampleService.retryScans).
    const limit = services.config.maxSampleBytes;
    const big = Buffer.alloc(limit + 1, 0x42);
    const bigSha = createHash("sha256").update(big).digest("hex");
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient("samples");
    await container.createIfNotExists();
    await container.getBlockBlobClient(bigSha).uploadData(big);
    await sampleArrived(blobCreated(bigSha, big.length), context("sampleArrived"));
    time.set("2026-03-01T10:10:00Z");
    table.add(execEvent("2026-03-01T10:08:00Z", { SHA256: bigSha, DeviceName: "app-08" }));
    blobRequests.length = 0;
    await huntTimer({ isPastDue: false } as Timer, context("hunt"));
    await services.samples.retryScans();
    // The broker, finding the hit's sample in the store, settles its hits with it (ingestStored).
    await services.samples.settleWith(bigSha);
    expect(blobRequests.filter((r) => r === `GET /${DEV_ACCOUNT}/samples/${bigSha}`)).toEqual([]);
    expect((await container.getBlobClient(bigSha).getProperties()).metadata).toMatchObject({
      shmhunt_unread: "too-large",
    });
  });

  it("Event Grid trigger: a hash-named blob replaced by a larger one after its size was read is not read past that size, nor scanned", async () => {
    // Microsoft Learn, "Specifying the range header for Blob service operations": "If the x-ms-range header is
    // specified on a request, then the service uses the range specified by x-ms-range", as "bytes=startByte-endByte".
    // "Specifying conditional headers for Blob service operations": "If-Match: An ETag value. Specify this header to
    // perform the operation only if the resource's ETag matches the value specified", and, for a Get Blob whose
    // If-Match does not hold (its Example 1): "412 (Precondition Failed)". The blob the event named was checked at
    // the size and ETag its HEAD gave; what replaced it after that is not that blob.
    const limit = services.config.maxSampleBytes;
    const sample = Buffer.concat([elf, Buffer.from("replaced after its HEAD")]);
    const sha = createHash("sha256").update(sample).digest("hex");
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient("samples");
    await container.createIfNotExists();
    await container.getBlockBlobClient(sha).uploadData(sample);
    const larger = Buffer.alloc(2 * limit, 0x43);
    let replaced = false;
    beforeAnswer = async (request) => {
      if (replaced || request !== `HEAD /${DEV_ACCOUNT}/samples/${sha}`) return;
      replaced = true;
      await container.getBlockBlobClient(sha).uploadData(larger);
    };
    blobAnswers.length = 0;
    logs.length = 0;
    try {
      await sampleArrived(blobCreated(sha, sample.length), context("sampleArrived"));
    } finally {
      beforeAnswer = undefined;
    }
    expect(replaced).toBe(true);
    const gets = blobAnswers.filter((a) => a.request === `GET /${DEV_ACCOUNT}/samples/${sha}`);
    // Not a byte past the size that was checked (and found within the limit) was transferred.
    expect(gets.map((g) => g.bytes).filter((bytes) => bytes > sample.length)).toEqual([]);
    // Each Get Blob named the version checked: a range within its size, and its ETag (answered 412: it changed).
    for (const get of gets) {
      expect(get.range).toBe(`bytes=0-${sample.length - 1}`);
      expect(get.ifMatch).toBeDefined();
      expect(get.status).toBe(412);
    }
    expect(await services.samples.report(sha)).not.toHaveProperty("verdict");
    // The replacement's own BlobCreated event reads it; this delivery says why it read nothing.
    expect(logs.some((l) => l.includes(`"name":"${sha}"`) && l.includes('"unread":"changed"'))).toBe(true);
  });

  it("rescan: a stored sample whose blob was replaced by one over the sample limit is not downloaded", async () => {
    const limit = services.config.maxSampleBytes;
    const sample = Buffer.concat([elf, Buffer.from("rescanned")]);
    const sha = createHash("sha256").update(sample).digest("hex");
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient("samples");
    await container.createIfNotExists();
    await container.getBlockBlobClient(sha).uploadData(sample);
    await sampleArrived(blobCreated(sha, sample.length), context("sampleArrived"));
    expect((await services.samples.report(sha)).verdict?.sha256).toBe(sha);
    // Overwritten under the same name (its BlobCreated event not delivered yet) with a blob over the limit.
    await container.getBlockBlobClient(sha).uploadData(Buffer.alloc(2 * limit, 0x44));
    const { rescan } = await services.samples.rescanSource();
    blobAnswers.length = 0;
    const result = await rescan(sha);
    const gets = blobAnswers.filter((a) => a.request === `GET /${DEV_ACCOUNT}/samples/${sha}`);
    expect(gets.map((g) => g.bytes).filter((bytes) => bytes > limit)).toEqual([]);
    expect(result).toMatchObject({ kind: "failed" });
    expect((await services.samples.report(sha)).verdict?.sha256).toBe(sha);
  });

  it("Event Grid trigger: an event of another container, another account or another type is ignored", async () => {
    const data = Buffer.from("not for us");
    const sha = createHash("sha256").update(data).digest("hex");
    const events: EventGridEvent[] = [
      blobCreated("elsewhere.bin", data.length, { container: "uploads" }),
      blobCreated("elsewhere.bin", data.length, { account: "someoneelse" }),
      { ...blobCreated("elsewhere.bin", data.length), eventType: "Microsoft.Storage.BlobDeleted" },
      // A container whose name only begins like ours.
      blobCreated("elsewhere.bin", data.length, { container: "samples-archive" }),
    ];
    for (const event of events) {
      blobRequests.length = 0;
      logs.length = 0;
      await sampleArrived(event, context("sampleArrived"));
      expect(blobRequests).toEqual([]);
      expect(logs.some((l) => l.includes('"event":"sample-event-ignored"'))).toBe(true);
    }
    expect((await services.samples.report(sha)).stored).toBe(false);
  });

  it("scan: a verdict without storing", async () => {
    const response = await scan(
      new HttpRequest({ method: "POST", url: "http://localhost/api/scan", headers: BYTES, body: { bytes: elf } }),
      context("scan"),
    );
    expect(response).toMatchObject({ status: 200, jsonBody: { verdict: "match", sha256: elfSha } });
  });

  it("refuses a sample that is not raw bytes in their own form, as the fastify host does, and stores nothing", async () => {
    // The contract both hosts answer by (docs/service.md, "/samples, /scan body type"): application/octet-stream
    // only; RFC 9110 §8.4: a content coding the server does not accept MAY be answered 415, and §15.5.16: with
    // Accept-Encoding naming the codings it would have accepted (none: identity).
    const gzipped = gzipSync(elf);
    const gzippedSha = createHash("sha256").update(gzipped).digest("hex");
    for (const handler of [samples, scan]) {
      const coded = await handler(
        new HttpRequest({
          method: "POST",
          url: `http://localhost/api/${handler === samples ? "samples" : "scan"}`,
          headers: { ...BYTES, "content-encoding": "gzip" },
          body: { bytes: gzipped },
        }),
        context(handler === samples ? "samples" : "scan"),
      );
      expect(coded).toMatchObject({ status: 415, jsonBody: { code: "SAMPLE_NOT_BYTES" } });
      expect(coded.headers).toMatchObject({ "accept-encoding": "identity" });
      for (const headers of [{ "content-type": "text/plain" }, {}] as Array<Record<string, string>>) {
        const typed = await handler(
          new HttpRequest({ method: "POST", url: "http://localhost/api/samples", headers, body: { bytes: elf } }),
          context("samples"),
        );
        expect(typed).toMatchObject({ status: 415, jsonBody: { code: "SAMPLE_NOT_BYTES" } });
      }
    }
    expect((await services.samples.report(gzippedSha)).stored).toBe(false);
    const identity = await scan(
      new HttpRequest({
        method: "POST",
        url: "http://localhost/api/scan",
        headers: { ...BYTES, "content-encoding": "identity" },
        body: { bytes: elf },
      }),
      context("scan"),
    );
    expect(identity).toMatchObject({ status: 200, jsonBody: { verdict: "match", sha256: elfSha } });
  });
});

describe("the Functions runtime", () => {
  it("resolves the app's folders against the package root, whatever the working directory", async () => {
    const { appRoot } = await import("../../functions/runtime.js");
    expect(appRoot()).toBe(repoRoot);
  });
});
