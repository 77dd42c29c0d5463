/**
 * Injected faults on the Log Analytics side, through LogsQueryClient's own pipeline: 429 and 5xx are retried by
 * the SDK; a partial result is HTTP 200 with an `error` member, which the SDK does not retry but reports as
 * PartialFailure; `Prefer: wait` (serverTimeoutInSeconds) turns a slow query into a 504.
 */
import { LogsQueryResultStatus } from "@azure/monitor-query-logs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator/server.js";
import { type Clients, makeClients } from "./clients.js";
import { seedSyslog } from "./fixtures.js";

let emulator: Emulator;
let clients: Clients;
let workspaceId: string;
const query = "Syslog | project Computer | order by Computer asc";
const day = { duration: "P1D" };

beforeAll(async () => {
  // the rows seeded here (minutes old) stand for data already ingested: no ingestion delay (that is tested in
  // test/emulator/ingestion-delay.test.ts)
  emulator = await startEmulator({ ingestionDelayMs: 0 });
  clients = makeClients(emulator, { maxRetries: 2, retryDelayInMs: 20, maxRetryDelayInMs: 50 });
  workspaceId = emulator.workspace.customerId;
  seedSyslog(emulator.workspace);
});
afterEach(() => {
  emulator.faults.clear();
  emulator.requests.length = 0;
});
afterAll(async () => {
  await emulator?.close();
});

const queryStatuses = () => emulator.requests.filter((r) => r.path.endsWith("/query")).map((r) => r.status);
const rowsOf = (result: Awaited<ReturnType<Clients["logs"]["queryWorkspace"]>>) =>
  result.status === LogsQueryResultStatus.Success ? result.tables[0]?.rows : undefined;

describe("Logs faults", () => {
  it("429 with Retry-After: retried after the wait, then answered", async () => {
    emulator.faults.push({ api: "logs", kind: "throttle", retryAfterSeconds: 1 });
    const started = Date.now();
    const result = await clients.logs.queryWorkspace(workspaceId, query, day);
    expect(rowsOf(result)).toEqual([["db-01"], ["web-01"], ["web-02"]]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(queryStatuses()).toEqual([429, 200]);
  });

  it("500 and 503 are retried; a 500 that outlasts the retries surfaces as RestError", async () => {
    emulator.faults.push({ api: "logs", kind: "status", status: 500 }, { api: "logs", kind: "status", status: 503 });
    expect(rowsOf(await clients.logs.queryWorkspace(workspaceId, query, day))).toHaveLength(3);
    expect(queryStatuses()).toEqual([500, 503, 200]);

    emulator.requests.length = 0;
    emulator.faults.push({ api: "logs", kind: "status", status: 500, count: Number.POSITIVE_INFINITY });
    const error = await clients.logs.queryWorkspace(workspaceId, query, day).catch((e) => e);
    expect(error.statusCode).toBe(500);
    expect(error.details.error.code).toBe("InternalServerError");
    expect(queryStatuses()).toEqual([500, 500, 500]);
  });

  it("504 after a delay, every time: GatewayTimeout reaches the caller", async () => {
    emulator.faults.push({ api: "logs", kind: "gatewayTimeout", delayMs: 100, count: Number.POSITIVE_INFINITY });
    const error = await clients.logs.queryWorkspace(workspaceId, query, day).catch((e) => e);
    expect(error.statusCode).toBe(504);
    expect(error.details.error.code).toBe("GatewayTimeout");
    expect(queryStatuses()).toEqual([504, 504, 504]);
  });

  it("a query slower than Prefer: wait is cut at the server timeout with 504, and the retry gets the rows", async () => {
    // a query of 30 s cut at 1 s: the bound below leaves a loaded machine 19 s of slack, and still fails if the
    // emulator sat out the query's time instead of answering at the timeout
    emulator.faults.push({ api: "logs", kind: "slow", delayMs: 30_000 });
    const started = Date.now();
    const result = await clients.logs.queryWorkspace(workspaceId, query, day, { serverTimeoutInSeconds: 1 });
    expect(rowsOf(result)).toHaveLength(3);
    expect(queryStatuses()).toEqual([504, 200]);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(20_000);
  });

  it("a slow query within Prefer: wait is answered, late", async () => {
    emulator.faults.push({ api: "logs", kind: "slow", delayMs: 300 });
    const started = Date.now();
    expect(
      rowsOf(await clients.logs.queryWorkspace(workspaceId, query, day, { serverTimeoutInSeconds: 5 })),
    ).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it("a partial result is HTTP 200 with an error member: PartialFailure with the rows that came, not retried", async () => {
    emulator.faults.push({ api: "logs", kind: "partial", keepRows: 1 });
    const result = await clients.logs.queryWorkspace(workspaceId, query, day);
    expect(result.status).toBe(LogsQueryResultStatus.PartialFailure);
    if (result.status !== LogsQueryResultStatus.PartialFailure) return;
    expect(result.partialTables[0]?.rows).toEqual([["db-01"]]);
    expect(result.partialError).toMatchObject({
      code: "PartialError",
      message: "There were some errors when processing your query.",
    });
    expect(queryStatuses()).toEqual([200]);
  });

  it("inside a batch, one query can come back partial while the others succeed; a throttled batch is retried", async () => {
    emulator.faults.push(
      { api: "logs", path: "/v1/$batch", kind: "slow", delayMs: 10 },
      { api: "logs", path: "/query", kind: "partial", keepRows: 0 },
    );
    const results = await clients.logs.queryBatch([
      { workspaceId, query, timespan: day },
      { workspaceId, query, timespan: day },
    ]);
    expect(results.map((r) => r.status)).toEqual([LogsQueryResultStatus.PartialFailure, LogsQueryResultStatus.Success]);
    expect(emulator.requests.map((r) => [r.path, r.status])).toEqual([["/v1/$batch", 200]]);

    emulator.faults.push({ api: "logs", path: "/v1/$batch", kind: "throttle", retryAfterSeconds: 0 });
    const retried = await clients.logs.queryBatch([{ workspaceId, query, timespan: day }]);
    expect(retried[0]?.status).toBe(LogsQueryResultStatus.Success);
    expect(emulator.requests.slice(1).map((r) => r.status)).toEqual([429, 200]);
  });
});
