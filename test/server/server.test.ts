import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServices } from "../../src/app/compose.js";
import { loadConfig } from "../../src/app/config.js";
import { withYaraRuleNames } from "../../src/app/plans.js";
import type { Services } from "../../src/app/services.js";
import type { HuntRule } from "../../src/hunt/index.js";
import { buildServer } from "../../src/server/app.js";
import { clock, EventTable, execEvent, huntRule, plan } from "../support/hunt-fixtures.js";
import { buildShmgetElf } from "../support/shmget-elf.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");

/** An operation of the OpenAPI document, as far as these tests read it. */
interface OpenApiOperation {
  readonly parameters?: readonly unknown[];
  readonly requestBody?: unknown;
  readonly responses?: Record<string, unknown>;
}
const SECRET = "k3y-that-must-never-be-logged-0123456789";
const gatedBase = huntRule({
  id: "9d6f0e5b-0000-4000-8000-000000000002",
  name: "Shared memory creation",
  gate: { mode: "require", yaraRules: ["shm-creation.yar"], pendingTimeoutMs: 24 * 3_600_000 },
});

let gated: HuntRule;
let dir: string;
let elf: Buffer;
let elfSha: string;
let services: Services;
let app: FastifyInstance;
let logs = "";
const table = new EventTable();
const time = clock("2026-03-01T10:00:00Z");

beforeAll(async () => {
  gated = await withYaraRuleNames(gatedBase, [{ path: path.join(repoRoot, "rules", "shm-creation.yar") }]);
  dir = mkdtempSync(path.join(tmpdir(), "shmhunt-server-"));
  elf = readFileSync(await buildShmgetElf(dir, "-O2"));
  elfSha = createHash("sha256").update(elf).digest("hex");
  const config = loadConfig(
    {
      SHMHUNT_DATA_DIR: dir,
      SHMHUNT_RULES_DIR: path.join(repoRoot, "rules"),
      SHMHUNT_MAX_SAMPLE_BYTES: String(1024 * 1024),
      SHMHUNT_MAX_BODY_BYTES: "4096",
    },
    repoRoot,
  );
  services = await createServices(config, { queries: table, plans: async () => [plan(gated)], clock: time.now });
  const stream = new PassThrough();
  stream.on("data", (chunk: Buffer) => {
    logs += chunk.toString();
  });
  app = await buildServer(services, {
    host: "127.0.0.1",
    apiKeys: [SECRET],
    maxBodyBytes: config.maxBodyBytes,
    maxSampleBytes: config.maxSampleBytes,
    logger: { level: "info", stream },
  });
});

afterAll(async () => {
  await app?.close();
  await services?.close();
  rmSync(dir, { recursive: true, force: true });
});

const auth = { "x-api-key": SECRET };

describe("fastify host", () => {
  it("serves health without a key and everything else only with one", async () => {
    const health = await app.inject({ method: "GET", url: "/health" });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({
      status: "ok",
      backends: { state: "local", samples: "local", alerts: "local" },
    });
    expect((await app.inject({ method: "GET", url: "/incidents" })).statusCode).toBe(401);
    expect(
      (await app.inject({ method: "GET", url: "/incidents", headers: { "x-api-key": "wrong-key-0123456789" } }))
        .statusCode,
    ).toBe(401);
    expect(
      (await app.inject({ method: "GET", url: "/incidents", headers: { authorization: `ApiKey ${SECRET}` } }))
        .statusCode,
    ).toBe(200);
  });

  it("publishes an OpenAPI document and its UI", async () => {
    // Open without a key: the document says nothing secret, and the UI sends the key the reader gives it.
    const doc = (await app.inject({ method: "GET", url: "/openapi.json" })).json();
    expect(doc.openapi).toBe("3.0.3");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/health",
        "/translate",
        "/deploy/plan",
        "/deploy/apply",
        "/hunt/run",
        "/samples",
        "/samples/{sha256}",
        "/scan",
        "/incidents",
      ]),
    );
    // A route that takes parameters or a body answers 400 SHM_INVALID_REQUEST to bad ones (docs/service.md, the
    // limits table): its document says so, as it says every other answer, for clients generated from it.
    const undocumented400: string[] = [];
    for (const [route, methods] of Object.entries(doc.paths as Record<string, Record<string, OpenApiOperation>>)) {
      for (const [method, operation] of Object.entries(methods)) {
        const takesInput = (operation.parameters?.length ?? 0) > 0 || operation.requestBody !== undefined;
        if (takesInput && !("400" in (operation.responses ?? {}))) undocumented400.push(`${method} ${route}`);
      }
    }
    expect(undocumented400).toEqual([]);
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ in: "header", name: "x-api-key" });
    const ui = await app.inject({ method: "GET", url: "/docs/" });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain("swagger");
  });

  it("translates, and answers 501 with a reason for deploy without a Sentinel workspace", async () => {
    const translate = await app.inject({
      method: "POST",
      url: "/translate",
      headers: auth,
      payload: { target: "defender", eql: "process where true" },
    });
    expect(translate.statusCode).toBe(200);
    expect(translate.json().kql).toContain("DeviceProcessEvents");
    const deploy = await app.inject({ method: "POST", url: "/deploy/plan", headers: auth, payload: {} });
    expect(deploy.statusCode).toBe(501);
    expect(deploy.json().message).toMatch(/Sentinel workspace/);
  });

  it("validates request bodies against their schemas", async () => {
    const bad = await app.inject({
      method: "POST",
      url: "/translate",
      headers: auth,
      payload: { target: "splunk", eql: "x" },
    });
    expect(bad.statusCode).toBe(400);
    const big = await app.inject({
      method: "POST",
      url: "/hunt/run",
      headers: auth,
      payload: { ruleId: "x".repeat(5000) },
    });
    expect(big.statusCode).toBe(413);
  });

  it("answers a bad request with the codes of docs/service.md, as the Functions app does", async () => {
    // docs/service.md, "Errors have one shape": SHM_INVALID_REQUEST (the schema), SHM_BODY_NOT_JSON,
    // SHM_BODY_TOO_LARGE, SHM_NOT_FOUND; the same codes whichever host answers (test/functions/handlers.test.ts).
    const post = (url: string, payload: string) =>
      app.inject({ method: "POST", url, headers: { ...auth, "content-type": "application/json" }, payload });
    const schema = await post("/translate", JSON.stringify({ target: "splunk", eql: "x" }));
    expect(schema.statusCode).toBe(400);
    expect(schema.json()).toEqual({
      error: "Bad Request",
      message: expect.stringMatching(
        /^body\/target must be equal to one of the allowed values: defender, asim, auditd/,
      ),
      code: "SHM_INVALID_REQUEST",
    });
    const query = await app.inject({ method: "GET", url: "/hits?status=bogus", headers: auth });
    expect(query.json()).toMatchObject({ code: "SHM_INVALID_REQUEST", message: expect.stringMatching(/pending/) });
    const notJson = await post("/hunt/run", "{bad");
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json()).toMatchObject({ error: "Bad Request", code: "SHM_BODY_NOT_JSON" });
    const tooLarge = await post("/hunt/run", JSON.stringify({ ruleId: "x".repeat(5000) }));
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.json()).toMatchObject({ error: "Payload Too Large", code: "SHM_BODY_TOO_LARGE" });
    const noRoute = await app.inject({ method: "GET", url: "/nowhere", headers: auth });
    expect(noRoute.statusCode).toBe(404);
    expect(noRoute.json()).toEqual({ error: "Not Found", message: expect.any(String), code: "SHM_NOT_FOUND" });
  });

  it("answers a method its path's routes do not take 405 with Allow, and a path no route has 404 (RFC 9110 §15.5.6)", async () => {
    // RFC 9110 §15.5.6: 405 when "the method received in the request-line is known by the origin server but not
    // supported by the target resource", and "The origin server MUST generate an Allow header field in a 405 response
    // containing a list of the target resource's currently supported methods" (§10.2.1). The methods of each path are
    // docs/service.md's table; fastify answers HEAD on every GET route (its exposeHeadRoutes option, on by default).
    const cases = [
      ["PUT", "/hunt/run", "POST"],
      ["GET", "/hunt/run", "POST"],
      ["DELETE", "/health", "GET, HEAD"],
      ["POST", "/health?x=1", "GET, HEAD"],
      ["PUT", `/samples/${"a".repeat(64)}`, "GET, HEAD"],
      ["DELETE", "/incidents/some-id", "GET, HEAD"],
      ["PATCH", "/samples", "POST"],
    ] as const;
    for (const [method, url, allow] of cases) {
      const answer = await app.inject({ method, url, headers: auth });
      expect({ method, url, status: answer.statusCode, allow: answer.headers.allow }).toEqual({
        method,
        url,
        status: 405,
        allow,
      });
      expect(answer.json()).toEqual({
        error: "Method Not Allowed",
        message: expect.stringContaining(`${method} is not allowed on ${url.split("?")[0]}`),
        code: "SHM_METHOD_NOT_ALLOWED",
      });
    }
    // A path no route has, whatever the method, stays 404, without Allow.
    for (const method of ["GET", "PUT", "DELETE"] as const) {
      const answer = await app.inject({ method, url: "/hunt/nowhere", headers: auth });
      expect(answer.statusCode).toBe(404);
      expect(answer.headers.allow).toBeUndefined();
      expect(answer.json()).toMatchObject({ code: "SHM_NOT_FOUND" });
    }
    // A parameter over the router's limit matches no route (a GET of it is refused as too long): not a 405.
    const overLong = await app.inject({ method: "PUT", url: `/samples/${"a".repeat(1000)}/x`, headers: auth });
    expect(overLong.statusCode).toBe(404);
    expect(overLong.headers.allow).toBeUndefined();
  });

  it("takes a POST without a body where every field is optional (docs/service.md: {ruleId?, force?}, {limit?}, {prune})", async () => {
    // `curl -X POST …/hunt/run` was a 400 "body must be object"; a body that is there is still judged.
    const run = await app.inject({ method: "POST", url: "/hunt/run", headers: auth });
    expect(run.statusCode).toBe(200);
    expect(run.json().runs.length).toBeGreaterThan(0);
    const rescan = await app.inject({ method: "POST", url: "/hunt/rescan", headers: auth });
    expect(rescan.statusCode).toBe(200);
    const deploy = await app.inject({ method: "POST", url: "/deploy/plan", headers: auth });
    expect(deploy.json()).toMatchObject({ code: "SHM_NOT_AVAILABLE" });
    const translate = await app.inject({ method: "POST", url: "/translate", headers: auth });
    expect(translate.statusCode).toBe(400); // its target is required
    expect(translate.json()).toMatchObject({ code: "SHM_INVALID_REQUEST" });
    const notObject = await app.inject({
      method: "POST",
      url: "/hunt/run",
      headers: { ...auth, "content-type": "application/json" },
      payload: "[]",
    });
    expect(notObject.json()).toMatchObject({ code: "SHM_INVALID_REQUEST", message: "body must be object" });
  });

  it("answers 404 naming the rule for a hunt of a rule it does not hunt, instead of running nothing", async () => {
    // A mistyped rule id must not look like a run that found nothing (docs/service.md: SHM_NOT_FOUND is 404).
    const run = await app.inject({
      method: "POST",
      url: "/hunt/run",
      headers: auth,
      payload: { ruleId: "no-such-rule" },
    });
    expect(run.statusCode).toBe(404);
    expect(run.json()).toMatchObject({
      code: "SHM_NOT_FOUND",
      message: expect.stringMatching(/no-such-rule.*9d6f0e5b-0000-4000-8000-000000000002/),
    });
  });

  it("runs the whole loop: hunt, pending hit, sample upload, YARA match, local incident", async () => {
    table.add(execEvent("2026-03-01T09:58:00Z", { SHA256: elfSha.toUpperCase(), DeviceName: "db-02" }));
    const run = await app.inject({ method: "POST", url: "/hunt/run", headers: auth, payload: {} });
    expect(run.statusCode).toBe(200);
    expect(run.json().runs[0]).toMatchObject({ status: "completed", counts: { rows: 1, pending: 1, alerted: 0 } });
    const pending = await app.inject({ method: "GET", url: "/hits?status=pending", headers: auth });
    expect(pending.json().hits).toHaveLength(1);

    const upload = await app.inject({
      method: "POST",
      url: `/samples?sha256=${elfSha}`,
      headers: { ...auth, "content-type": "application/octet-stream" },
      payload: elf,
    });
    expect(upload.statusCode).toBe(201);
    const body = upload.json();
    expect(body).toMatchObject({ sha256: elfSha, size: elf.length, created: true, resolution: { alerted: 1 } });
    expect(body.verdict.verdict).toBe("match");
    expect(body.verdict.matches[0].strings.length).toBeGreaterThan(0);

    const incidents = (await app.inject({ method: "GET", url: "/incidents", headers: auth })).json().incidents;
    expect(incidents).toHaveLength(1);
    expect(incidents[0].title).toBe("Shared memory creation on db-02");
    expect(incidents[0].labels).toContain("verdict:match");
    const one = await app.inject({ method: "GET", url: `/incidents/${incidents[0].id}`, headers: auth });
    expect(one.json().hitKey).toBe(incidents[0].hitKey);

    const report = (await app.inject({ method: "GET", url: `/samples/${elfSha}`, headers: auth })).json();
    expect(report).toMatchObject({ sha256: elfSha, stored: true, size: elf.length, verdict: { sha256: elfSha } });
    const again = await app.inject({
      method: "POST",
      url: "/samples",
      headers: { ...auth, "content-type": "application/octet-stream" },
      payload: elf,
    });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ created: false, resolution: { examined: 0 } });
    expect((await app.inject({ method: "GET", url: "/incidents", headers: auth })).json().incidents).toHaveLength(1);
  });

  it("names on GET /samples/{sha256} the .yar file each match's rule came from (docs/service.md: matches[{rule, file, tags}])", async () => {
    // It showed "file": "default", YARA-X's namespace of every rule (one source, one namespace), not the file.
    const report = (await app.inject({ method: "GET", url: `/samples/${elfSha}`, headers: auth })).json();
    expect(report.verdict.matches).toEqual([
      { rule: "apt_nix_elf_Derusbi_Linux_SharedMemCreation", file: "shm-creation.yar", tags: [] },
    ]);
    expect(report.verdict.detail.matches[0]).toMatchObject({ namespace: "default", file: "shm-creation.yar" });
    // A verdict stored before the file was known (its `file` the namespace) still loads, shown without the file.
    const old = "ab".repeat(32);
    await services.state.putVerdict({
      sha256: old,
      size: 1,
      matches: [{ rule: "apt_nix_elf_Derusbi_Linux_SharedMemCreation", file: "default", tags: [] }],
      scannedAt: "2026-01-01T00:00:00.000Z",
    });
    const older = await app.inject({ method: "GET", url: `/samples/${old}`, headers: auth });
    expect(older.statusCode).toBe(200);
    expect(older.json().verdict.matches).toEqual([{ rule: "apt_nix_elf_Derusbi_Linux_SharedMemCreation", tags: [] }]);
  });

  it("shows on GET /hits a stored verdict's match without its `file` when it is YARA's namespace, not a rule file", async () => {
    // Hits recorded before matches knew their rule file carry a verdict whose `file` is "default"; GET /samples
    // already hid it, GET /hits showed it.
    const ruleId = "old-verdict-hits";
    const hit = (key: string, file: string) => ({
      key,
      ruleId,
      target: "defender",
      status: "alerted" as const,
      firstSeen: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:00.000Z",
      window: { start: "2026-01-01T00:00:00.000Z", end: "2026-01-01T00:05:00.000Z" },
      eventTime: "2026-01-01T00:01:00.000Z",
      sha256: key.repeat(64),
      row: {},
      verdict: {
        sha256: key.repeat(64),
        size: 1,
        matches: [{ rule: "apt_nix_elf_Derusbi_Linux_SharedMemCreation", file, tags: [] }],
        scannedAt: "2026-01-01T00:00:00.000Z",
      },
    });
    await services.state.putHit(hit("a", "default"));
    await services.state.putHit(hit("b", "shm-creation.yar"));
    const listed = (await app.inject({ method: "GET", url: `/hits?ruleId=${ruleId}`, headers: auth })).json().hits;
    expect(listed.map((h: { key: string; verdict: { matches: unknown[] } }) => [h.key, h.verdict.matches])).toEqual([
      ["a", [{ rule: "apt_nix_elf_Derusbi_Linux_SharedMemCreation", tags: [] }]],
      ["b", [{ rule: "apt_nix_elf_Derusbi_Linux_SharedMemCreation", file: "shm-creation.yar", tags: [] }]],
    ]);
  });

  it("closes a hit as benign when its sample is clean", async () => {
    const clean = Buffer.from("#!/bin/sh\necho not elf\n");
    const sha = createHash("sha256").update(clean).digest("hex");
    time.set("2026-03-01T10:05:00Z");
    table.add(execEvent("2026-03-01T10:03:00Z", { SHA256: sha }));
    await app.inject({ method: "POST", url: "/hunt/run", headers: auth, payload: {} });
    const upload = await app.inject({
      method: "POST",
      url: "/samples",
      headers: { ...auth, "content-type": "application/octet-stream", "x-sample-sha256": sha },
      payload: clean,
    });
    expect(upload.json()).toMatchObject({ verdict: { verdict: "no-match" }, resolution: { benign: 1 } });
    const benign = (await app.inject({ method: "GET", url: "/hits?status=benign", headers: auth })).json().hits;
    expect(benign).toHaveLength(1);
    expect(benign[0].reason).toMatch(/matched none/);
  });

  it("refuses a sample whose hash is not the claimed one, or that is too large", async () => {
    const wrong = await app.inject({
      method: "POST",
      url: `/samples?sha256=${"0".repeat(64)}`,
      headers: { ...auth, "content-type": "application/octet-stream" },
      payload: Buffer.from("abc"),
    });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json().code).toBe("SAMPLE_HASH_MISMATCH");
    const big = await app.inject({
      method: "POST",
      url: "/samples",
      headers: { ...auth, "content-type": "application/octet-stream" },
      payload: Buffer.alloc(2 * 1024 * 1024),
    });
    expect(big.statusCode).toBe(413);
    // Without a Content-Length (chunked), the limit holds while streaming.
    const stream = new PassThrough();
    const pending = app.inject({
      method: "POST",
      url: "/samples",
      headers: { ...auth, "content-type": "application/octet-stream", "transfer-encoding": "chunked" },
      payload: stream,
    });
    for (let i = 0; i < 40; i++) stream.write(Buffer.alloc(64 * 1024));
    stream.end();
    expect((await pending).statusCode).toBe(413);
    expect((await app.inject({ method: "GET", url: `/samples/${"0".repeat(64)}`, headers: auth })).statusCode).toBe(
      404,
    );
    expect((await app.inject({ method: "GET", url: "/samples/not-a-hash", headers: auth })).statusCode).toBe(400);
  });

  it("scans bytes without storing them", async () => {
    const scan = await app.inject({
      method: "POST",
      url: "/scan",
      headers: { ...auth, "content-type": "application/octet-stream" },
      payload: elf,
    });
    expect(scan.statusCode).toBe(200);
    expect(scan.json()).toMatchObject({ verdict: "match", sha256: elfSha });
  });

  it("never writes a key into its logs", async () => {
    await app.inject({
      method: "GET",
      url: `/incidents?code=${SECRET}`,
      headers: { authorization: `ApiKey ${SECRET}` },
    });
    expect(logs).toContain('"url":"/incidents?code=…"');
    expect(logs.length).toBeGreaterThan(1000);
    expect(logs).not.toContain(SECRET);
  });

  it("refuses to be built for a non-loopback address without authentication", async () => {
    await expect(
      buildServer(services, { host: "0.0.0.0", apiKeys: [], maxBodyBytes: 1024, maxSampleBytes: 1024 }),
    ).rejects.toThrow(/SHMHUNT_API_KEYS/);
  });
});
