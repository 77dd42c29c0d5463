/**
 * Injected faults on the ARM side, as the real SDK pipeline sees them: 429 with Retry-After and 5xx are retried
 * by the SDK's own policies; what outlasts the retries surfaces as a RestError with the service's status and code.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator/server.js";
import { type Clients, makeClients } from "./clients.js";

let emulator: Emulator;
let clients: Clients;
let rg: string;
let ws: string;

beforeAll(async () => {
  emulator = await startEmulator();
  clients = makeClients(emulator, { maxRetries: 2, retryDelayInMs: 20, maxRetryDelayInMs: 50 });
  rg = emulator.workspace.resourceGroup;
  ws = emulator.workspace.name;
});
afterEach(() => {
  emulator.faults.clear();
  emulator.requests.length = 0;
});
afterAll(async () => {
  await emulator?.close();
});

const incident = { title: "fault test", severity: "Low", status: "New" } as const;
const statuses = (pathPart: string) => emulator.requests.filter((r) => r.path.includes(pathPart)).map((r) => r.status);

describe("ARM faults", () => {
  it("429 with Retry-After: the SDK waits as told and retries", async () => {
    emulator.faults.push({ api: "arm", method: "PUT", path: "/incidents/", kind: "throttle", retryAfterSeconds: 1 });
    const started = Date.now();
    const created = await clients.sentinel.incidents.createOrUpdate(
      rg,
      ws,
      "11111111-0000-4000-8000-000000000001",
      incident,
    );
    expect(created.title).toBe("fault test");
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(statuses("/incidents/11111111-0000-4000-8000-000000000001")).toEqual([429, 201]);
  });

  it("503 then 500: retried by the exponential policy until it succeeds", async () => {
    emulator.faults.push(
      { api: "arm", path: "/incidents/", kind: "status", status: 503, code: "ServiceUnavailable" },
      { api: "arm", path: "/incidents/", kind: "status", status: 500 },
    );
    await clients.sentinel.incidents.createOrUpdate(rg, ws, "11111111-0000-4000-8000-000000000002", incident);
    expect(statuses("/incidents/11111111-0000-4000-8000-000000000002")).toEqual([503, 500, 201]);
  });

  it("a 500 that outlasts the retries surfaces as a RestError with the service's code", async () => {
    emulator.faults.push({
      api: "arm",
      path: "/alertRules",
      kind: "status",
      status: 500,
      code: "InternalServerError",
      count: 10,
    });
    await expect(clients.sentinel.alertRules.get(rg, ws, "any")).rejects.toMatchObject({
      statusCode: 500,
      code: "InternalServerError",
    });
    expect(statuses("/alertRules")).toEqual([500, 500, 500]); // first try + maxRetries 2
    expect(emulator.faults.pending()[0]?.remaining).toBe(7);
  });

  it("504 after a delay, every time: the caller sees GatewayTimeout once the retries are spent", async () => {
    emulator.faults.push({
      api: "arm",
      path: "/savedSearches",
      kind: "gatewayTimeout",
      delayMs: 150,
      count: Number.POSITIVE_INFINITY,
    });
    const started = Date.now();
    await expect(clients.operationalInsights.savedSearches.listByWorkspace(rg, ws)).rejects.toMatchObject({
      statusCode: 504,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 150);
    expect(statuses("/savedSearches")).toEqual([504, 504, 504]);
  });

  it("a slow response still succeeds, late", async () => {
    emulator.faults.push({ api: "arm", method: "GET", kind: "slow", delayMs: 300 });
    const started = Date.now();
    const list = await clients.operationalInsights.savedSearches.listByWorkspace(rg, ws);
    expect(list.value).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it("a fault scoped to one method leaves the others alone", async () => {
    emulator.faults.push({ api: "arm", method: "DELETE", kind: "status", status: 500, count: 10 });
    await clients.sentinel.incidents.createOrUpdate(rg, ws, "11111111-0000-4000-8000-000000000003", incident);
    await expect(
      clients.sentinel.incidents.delete(rg, ws, "11111111-0000-4000-8000-000000000003"),
    ).rejects.toMatchObject({
      statusCode: 500,
    });
    expect((await clients.sentinel.incidents.get(rg, ws, "11111111-0000-4000-8000-000000000003")).title).toBe(
      "fault test",
    );
  });
});
