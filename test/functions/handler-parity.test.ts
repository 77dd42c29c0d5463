/**
 * The Functions app against docs/service.md ("HTTP API", "Limits and timeouts") and the project's standard
 * (bad input is a 4xx naming the field, never a 5xx; both hosts answer the same input the same way).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { HttpRequest, InvocationContext } from "@azure/functions";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { health, sampleVerdict, scan, translate } from "../../functions/handlers.js";
import { setServices } from "../../functions/runtime.js";
import { createServices } from "../../src/app/compose.js";
import { loadConfig } from "../../src/app/config.js";
import * as operations from "../../src/app/operations.js";
import type { Services } from "../../src/app/services.js";
import { buildServer } from "../../src/server/app.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
let dir: string;
let rulesDir: string;
let services: Services;
let app: FastifyInstance;
const logged: Array<{ level: string; text: string }> = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "shmhunt-fn-"));
  rulesDir = path.join(dir, "rules");
  mkdirSync(rulesDir);
  copyFileSync(path.join(repoRoot, "rules", "shm-creation.yar"), path.join(rulesDir, "shm-creation.yar"));
  const config = loadConfig(
    { SHMHUNT_DATA_DIR: path.join(dir, "data"), SHMHUNT_RULES_DIR: rulesDir, SHMHUNT_TMP_DIR: path.join(dir, "tmp") },
    dir,
  );
  services = await createServices(config, {});
  setServices(services);
  app = await buildServer(services, {
    host: "127.0.0.1",
    apiKeys: [],
    maxBodyBytes: config.maxBodyBytes,
    maxSampleBytes: config.maxSampleBytes,
    logger: false,
  });
});

afterAll(async () => {
  setServices(undefined);
  await app?.close();
  await services?.close();
  rmSync(dir, { recursive: true, force: true });
});

const context = (name: string) =>
  new InvocationContext({
    functionName: name,
    logHandler: (level, ...args) => logged.push({ level, text: args.map(String).join(" ") }),
  });

/** A translate body well under SHMHUNT_MAX_BODY_BYTES (1 MiB) with one extra member nested 5,000 arrays deep. */
const DEPTH = 5000;
const deepBody = `{"target":"defender","eql":"process where true","x":${"[".repeat(DEPTH)}${"]".repeat(DEPTH)}}`;

describe("POST /api/translate with deeply nested JSON", () => {
  it("is a 400 naming the problem, as the fastify host answers it, not a 500", async () => {
    expect(Buffer.byteLength(deepBody)).toBeLessThan(16_384);
    const viaFastify = await app.inject({
      method: "POST",
      url: "/translate",
      headers: { "content-type": "application/json" },
      payload: deepBody,
    });
    expect(viaFastify.statusCode).toBe(400);
    const viaFunctions = await translate(
      new HttpRequest({ method: "POST", url: "http://localhost/api/translate", body: { string: deepBody } }),
      context("translate"),
    );
    expect({ status: viaFunctions.status, body: viaFunctions.jsonBody }).toEqual({
      status: 400,
      body: viaFastify.json(),
    });
  });

  it("a request that ends in a 500 is written to the invocation's log (the answer says 'see the service log')", async () => {
    // A fault inside the service, whichever: services whose every member throws (no real part fails on demand here).
    logged.length = 0;
    setServices(
      new Proxy({} as Services, {
        get: () => {
          throw new Error("a fault inside the service");
        },
      }),
    );
    try {
      const answer = await health(
        new HttpRequest({ method: "GET", url: "http://localhost/api/health" }),
        context("health"),
      );
      expect(answer).toMatchObject({ status: 500, jsonBody: { message: "the request failed; see the service log" } });
      expect(logged.filter((l) => l.level === "error").map((l) => l.text)).toEqual([
        expect.stringContaining("a fault inside the service"),
      ]);
    } finally {
      setServices(services);
    }
  });
});

describe("unknown query parameters (docs: 'none accepted', 400)", () => {
  it.each([
    [
      "translate",
      () =>
        translate(
          new HttpRequest({
            method: "POST",
            url: "http://localhost/api/translate?x=1",
            body: { string: JSON.stringify({ target: "defender", eql: "process where true" }) },
          }),
          context("translate"),
        ),
    ],
    [
      "scan",
      () =>
        scan(
          new HttpRequest({
            method: "POST",
            url: "http://localhost/api/scan?x=1",
            headers: { "content-type": "application/octet-stream" },
            body: { string: "abc" },
          }),
          context("scan"),
        ),
    ],
    [
      "sampleVerdict",
      () =>
        sampleVerdict(
          new HttpRequest({
            method: "GET",
            url: `http://localhost/api/samples/${"a".repeat(64)}?x=1`,
            params: { sha256: "a".repeat(64) },
          }),
          context("sampleVerdict"),
        ),
    ],
  ])("%s?x=1: 400 SHM_INVALID_REQUEST", async (_name, call) => {
    const answer = await call();
    expect(answer).toMatchObject({ status: 400, jsonBody: { code: "SHM_INVALID_REQUEST" } });
  });
});

describe("GET /api/health with a broken YARA rule file", () => {
  it("answers degraded with the problem, as the fastify host does (docs: the health route of both hosts)", async () => {
    writeFileSync(path.join(rulesDir, "broken.yar"), "rule broken {\n  condition:\n    true and nope\n}\n");
    let report = await operations.health(services);
    for (let i = 0; i < 240 && report.status !== "degraded"; i++) {
      await new Promise((r) => setTimeout(r, 250));
      report = await operations.health(services);
    }
    const viaFastify = await app.inject({ method: "GET", url: "/health" });
    expect(viaFastify.json()).toMatchObject({ status: "degraded", problems: [{ file: "broken.yar" }] });
    const viaFunctions = await health(
      new HttpRequest({ method: "GET", url: "http://localhost/api/health" }),
      context("health"),
    );
    expect(viaFunctions).toMatchObject({
      status: 200,
      jsonBody: { status: "degraded", problems: [{ component: "yara-rules", file: "broken.yar" }] },
    });
  }, 90_000);
});
