/**
 * The fastify host against docs/service.md ("HTTP API", "Limits and timeouts").
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServices } from "../../src/app/compose.js";
import { loadConfig } from "../../src/app/config.js";
import type { Services } from "../../src/app/services.js";
import { buildServer } from "../../src/server/app.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
let dir: string;
let services: Services;
let app: FastifyInstance;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "shmhunt-api-"));
  const rulesDir = path.join(dir, "rules");
  mkdirSync(rulesDir);
  copyFileSync(path.join(repoRoot, "rules", "shm-creation.yar"), path.join(rulesDir, "shm-creation.yar"));
  const config = loadConfig(
    { SHMHUNT_DATA_DIR: path.join(dir, "data"), SHMHUNT_RULES_DIR: rulesDir, SHMHUNT_TMP_DIR: path.join(dir, "tmp") },
    dir,
  );
  services = await createServices(config, {});
  app = await buildServer(services, {
    host: "127.0.0.1",
    apiKeys: [],
    maxBodyBytes: config.maxBodyBytes,
    maxSampleBytes: config.maxSampleBytes,
    logger: false,
  });
});

afterAll(async () => {
  await app?.close();
  await services?.close();
  rmSync(dir, { recursive: true, force: true });
});

const JSON_TYPE = { "content-type": "application/json" };
const BYTES = { "content-type": "application/octet-stream" };

describe("unknown query parameters: 'none accepted', 400 (docs/service.md, Limits and timeouts)", () => {
  it.each([
    ["POST", "/translate?x=1", JSON_TYPE, JSON.stringify({ target: "defender", eql: "process where true" })],
    ["POST", "/hunt/rescan?x=1", JSON_TYPE, "{}"],
    ["POST", "/deploy/plan?x=1", JSON_TYPE, "{}"],
    ["POST", "/scan?x=1", BYTES, "abc"],
    ["GET", `/samples/${"a".repeat(64)}?x=1`, {}, undefined],
    ["GET", "/incidents/abc?x=1", {}, undefined],
  ] as const)("%s %s: 400 SHM_INVALID_REQUEST", async (method, url, headers, payload) => {
    const answer = await app.inject({ method, url, headers, ...(payload !== undefined ? { payload } : {}) });
    expect({ status: answer.statusCode, code: answer.json().code }).toEqual({
      status: 400,
      code: "SHM_INVALID_REQUEST",
    });
  });
});

describe("405 only for a path whose routes take other methods (docs/service.md, HTTP API; RFC 9110 §15.5.6)", () => {
  it("GET of a file the OpenAPI UI's static route does not have is a 404, not a 405 with Allow: HEAD", async () => {
    // The route takes GET (this file is served by it) ...
    const exists = await app.inject({ method: "GET", url: "/docs/static/swagger-ui.css" });
    expect(exists.statusCode).toBe(200);
    // ... so a file it does not have is not found; GET is not "not allowed" there.
    const missing = await app.inject({ method: "GET", url: "/docs/static/no-such-file.js" });
    expect({ status: missing.statusCode, allow: missing.headers.allow, code: missing.json().code }).toEqual({
      status: 404,
      allow: undefined,
      code: "SHM_NOT_FOUND",
    });
  });
});
