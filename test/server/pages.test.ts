/**
 * `GET /hits` and `GET /incidents` answer one page at a time (docs/service.md, "Limits and timeouts":
 * `REQUEST_LIMITS.pageItems`): `limit` items at most, `next` naming where the next page starts while more follow.
 * The invariant checked: the pages, followed by their `next`, give the whole list once, in its order.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServices } from "../../src/app/compose.js";
import { loadConfig } from "../../src/app/config.js";
import { REQUEST_LIMITS } from "../../src/app/requests.js";
import type { Services } from "../../src/app/services.js";
import { buildServer } from "../../src/server/app.js";
import { clock, EventTable, execEvent, huntRule, plan } from "../support/hunt-fixtures.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const EVENTS = 5;
let dir: string;
let services: Services;
let app: FastifyInstance;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "shmhunt-pages-"));
  const table = new EventTable();
  for (let i = 0; i < EVENTS; i++)
    table.add(execEvent(`2026-03-01T09:5${i + 2}:00Z`, { DeviceId: `dev-${i}`, DeviceName: `web-${i}` }));
  // No grouping entities: each hit its own incident.
  const rule = huntRule({ gate: { mode: "none", yaraRules: [], pendingTimeoutMs: 0 } });
  const config = loadConfig({ SHMHUNT_DATA_DIR: dir, SHMHUNT_RULES_DIR: path.join(repoRoot, "rules") }, repoRoot);
  services = await createServices(config, {
    queries: table,
    plans: async () => [plan(rule)],
    clock: clock("2026-03-01T10:00:00Z").now,
  });
  app = await buildServer(services, {
    host: "127.0.0.1",
    apiKeys: [],
    maxBodyBytes: config.maxBodyBytes,
    maxSampleBytes: config.maxSampleBytes,
    logger: false,
  });
  const run = await app.inject({ method: "POST", url: "/hunt/run", payload: { force: true } });
  expect(run.statusCode).toBe(200);
});

afterAll(async () => {
  await app?.close();
  await services?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every page of `route` at `limit` items, followed by `next`. */
async function pages(route: string, field: string, limit: number): Promise<unknown[][]> {
  const out: unknown[][] = [];
  let after: string | undefined;
  for (let guard = 0; guard < 100; guard++) {
    const answer = await app.inject({
      method: "GET",
      url: `${route}?limit=${limit}${after ? `&after=${after}` : ""}`,
    });
    expect(answer.statusCode).toBe(200);
    const body = answer.json() as Record<string, unknown>;
    const items = body[field] as unknown[];
    expect(items.length).toBeLessThanOrEqual(limit);
    out.push(items);
    if (body.next === undefined) return out;
    after = body.next as string;
  }
  throw new Error("no last page");
}

describe("lists in pages", () => {
  it.each([
    ["/hits", "hits"],
    ["/incidents", "incidents"],
  ])("%s: the pages give the whole list once, in order; the last has no next", async (route, field) => {
    const whole = (await app.inject({ method: "GET", url: route })).json() as Record<string, unknown>;
    expect(whole[field]).toHaveLength(EVENTS);
    expect(whole).not.toHaveProperty("next");
    const paged = await pages(route, field, 2);
    expect(paged.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(paged.flat()).toEqual(whole[field]);
    expect((await pages(route, field, EVENTS)).map((p) => p.length)).toEqual([EVENTS]);
  });

  it("refuses a limit out of range and an `after` that names nothing in the list", async () => {
    for (const query of ["limit=0", `limit=${REQUEST_LIMITS.pageItems + 1}`, "after=../x", `after=${"0".repeat(64)}`]) {
      for (const route of ["/hits", "/incidents"]) {
        const answer = await app.inject({ method: "GET", url: `${route}?${query}` });
        expect(answer.statusCode, `${route}?${query}`).toBe(400);
        expect(answer.json()).toMatchObject({ code: "SHM_INVALID_REQUEST" });
      }
    }
  });
});
