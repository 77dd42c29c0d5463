/**
 * Log Analytics queries through @azure/monitor-query-logs against the emulator: rows from the workspace's seeded
 * tables run by the project's workspace engine, the timespan, typed results, workspace functions from saved
 * searches, `_GetWatchlist` over watchlist items stored through the Security Insights API, and `$batch`.
 */
import { LogsQueryResultStatus } from "@azure/monitor-query-logs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator/server.js";
import { type Clients, makeClients } from "./clients.js";

let emulator: Emulator;
let clients: Clients;
let workspaceId: string;
const now = Date.now();
const minutesAgo = (m: number) => new Date(now - m * 60_000).toISOString();

beforeAll(async () => {
  // the rows seeded here (minutes old) stand for data already ingested: no ingestion delay (that is tested in
  // test/emulator/ingestion-delay.test.ts)
  emulator = await startEmulator({ ingestionDelayMs: 0 });
  clients = makeClients(emulator);
  workspaceId = emulator.workspace.customerId;
  emulator.workspace.seedTable("DeviceProcessEvents", [
    {
      TimeGenerated: minutesAgo(3),
      Timestamp: minutesAgo(3),
      DeviceName: "web-01",
      AccountName: "root",
      ActionType: "ProcessCreated",
      FolderPath: "/dev/shm/kworker",
      FileName: "kworker",
      ProcessCommandLine: "/dev/shm/kworker -d",
      ProcessId: 4242,
      AdditionalFields: { uid: 0, tags: ["a", "b"] },
    },
    {
      TimeGenerated: minutesAgo(20),
      Timestamp: minutesAgo(20),
      DeviceName: "web-02",
      AccountName: "www-data",
      ActionType: "ProcessCreated",
      FolderPath: "/usr/bin/curl",
      FileName: "curl",
      ProcessCommandLine: "curl https://example.org",
      ProcessId: 17,
    },
    {
      TimeGenerated: minutesAgo(180),
      Timestamp: minutesAgo(180),
      DeviceName: "db-01",
      AccountName: "root",
      ActionType: "ProcessCreated",
      FolderPath: "/run/shm/x",
      FileName: "x",
      ProcessCommandLine: "/run/shm/x",
      ProcessId: 99,
    },
  ]);
  emulator.workspace.seedTable("Syslog", [
    {
      TimeGenerated: minutesAgo(1),
      Computer: "web-01",
      ProcessName: "auditd",
      SyslogMessage: "type=SYSCALL syscall=29 key=shm_create",
    },
    { TimeGenerated: minutesAgo(2), Computer: "web-01", ProcessName: "cron", SyslogMessage: "session opened" },
  ]);
});
afterAll(async () => {
  await emulator?.close();
});

function success(result: Awaited<ReturnType<Clients["logs"]["queryWorkspace"]>>) {
  if (result.status !== LogsQueryResultStatus.Success) throw new Error(`expected Success, got ${result.status}`);
  return result.tables[0]!;
}

describe("queryWorkspace", () => {
  it("runs KQL over the workspace's rows, limited to the timespan, with typed columns", async () => {
    const table = success(
      await clients.logs.queryWorkspace(
        workspaceId,
        "DeviceProcessEvents | where FolderPath startswith '/dev/shm/' or FolderPath startswith '/run/shm/' | project TimeGenerated, DeviceName, ProcessId, AdditionalFields, Age = now() - TimeGenerated",
        { duration: "PT1H" },
      ),
    );
    expect(table.name).toBe("PrimaryResult");
    expect(table.columnDescriptors).toEqual([
      { name: "TimeGenerated", type: "datetime" },
      { name: "DeviceName", type: "string" },
      { name: "ProcessId", type: "long" },
      { name: "AdditionalFields", type: "dynamic" },
      { name: "Age", type: "timespan" },
    ]);
    expect(table.rows).toHaveLength(1); // db-01 is three hours old: outside PT1H
    const [time, device, pid, fields, age] = table.rows[0]!;
    expect(time).toEqual(new Date(minutesAgo(3)));
    expect(device).toBe("web-01");
    expect(pid).toBe(4242);
    expect(fields).toEqual({ uid: 0, tags: ["a", "b"] }); // sent as JSON text, parsed by the SDK
    expect(age).toMatch(/^00:0[23]:\d\d(\.\d{7})?$/);
  });

  it("honours a start/end timespan and aggregates", async () => {
    const table = success(
      await clients.logs.queryWorkspace(
        workspaceId,
        "DeviceProcessEvents | summarize n = count() by AccountName | order by AccountName asc",
        { startTime: new Date(now - 4 * 3_600_000), endTime: new Date(now - 10 * 60_000) },
      ),
    );
    expect(table.rows).toEqual([
      ["root", 1],
      ["www-data", 1],
    ]);
  });

  it("answers through queryResource with the workspace's ARM id", async () => {
    const result = await clients.logs.queryResource(emulator.workspace.resourceId, "Syslog | count", {
      duration: "P1D",
    });
    expect(result.status).toBe(LogsQueryResultStatus.Success);
    if (result.status === LogsQueryResultStatus.Success) expect(result.tables[0]?.rows).toEqual([[2]]);
  });

  it("adds statistics when asked", async () => {
    const result = await clients.logs.queryWorkspace(
      workspaceId,
      "Syslog | take 1",
      { duration: "P1D" },
      { includeQueryStatistics: true },
    );
    expect(result.statistics).toMatchObject({ query: { datasetStatistics: [{ tableRowCount: 1 }] } });
  });

  it("calls workspace functions made from saved searches (the auditd parser)", async () => {
    const { resourceGroup, name } = emulator.workspace;
    await clients.operationalInsights.savedSearches.createOrUpdate(resourceGroup, name, "shmhunt-auditd-parser", {
      category: "Parsers",
      displayName: "auditd records in Syslog",
      query: "Syslog | where ProcessName == 'auditd' | extend Key = extract(@'key=(\\S+)', 1, SyslogMessage)",
      functionAlias: "ShmhuntAuditd",
    });
    const table = success(
      await clients.logs.queryWorkspace(workspaceId, "ShmhuntAuditd | project Computer, Key", { duration: "PT1H" }),
    );
    expect(table.rows).toEqual([["web-01", "shm_create"]]);
  });

  it("reads watchlist items stored through the Security Insights API with _GetWatchlist", async () => {
    const { resourceGroup, name } = emulator.workspace;
    await clients.sentinel.watchlists.createOrUpdate(resourceGroup, name, "shmhunt-exclusions", {
      displayName: "exclusions",
      provider: "shmhunt",
      source: "exclusions.csv",
      itemsSearchKey: "FileName",
      contentType: "text/csv",
      rawContent: "FileName,Reason\ncurl,benign download tool",
    });
    await clients.sentinel.watchlistItems.createOrUpdate(
      resourceGroup,
      name,
      "shmhunt-exclusions",
      "c0ffee00-0000-4000-8000-000000000001",
      {
        itemsKeyValue: { FileName: "x", Reason: "lab machine" },
      },
    );
    const excluded = success(
      await clients.logs.queryWorkspace(
        workspaceId,
        "_GetWatchlist('shmhunt-exclusions') | project SearchKey, Reason, WatchlistItem | order by SearchKey asc",
        { duration: "PT1H" },
      ),
    );
    expect(excluded.rows).toEqual([
      ["curl", "benign download tool", { FileName: "curl", Reason: "benign download tool" }],
      ["x", "lab machine", { FileName: "x", Reason: "lab machine" }],
    ]);
    const hits = success(
      await clients.logs.queryWorkspace(
        workspaceId,
        "let excluded = _GetWatchlist('shmhunt-exclusions') | project SearchKey; DeviceProcessEvents | where FileName !in (excluded) | project DeviceName",
        { duration: "P1D" },
      ),
    );
    expect(hits.rows).toEqual([["web-01"]]);
  });
});

describe("queryBatch", () => {
  it("answers each query of a batch on its own, errors included", async () => {
    const results = await clients.logs.queryBatch([
      { workspaceId, query: "Syslog | count", timespan: { duration: "PT1H" } },
      {
        workspaceId,
        query: "DeviceProcessEvents | where DeviceName == 'web-02' | project FileName",
        timespan: { duration: "PT1H" },
      },
      { workspaceId, query: "Syslog | where (", timespan: { duration: "PT1H" } },
    ]);
    expect(results).toHaveLength(3);
    const [count, curl, broken] = results;
    expect(count?.status === LogsQueryResultStatus.Success && count.tables[0]?.rows).toEqual([[2]]);
    expect(curl?.status === LogsQueryResultStatus.Success && curl.tables[0]?.rows).toEqual([["curl"]]);
    expect(broken?.status).toBe(LogsQueryResultStatus.PartialFailure);
    expect(broken?.status === LogsQueryResultStatus.PartialFailure && broken.partialError).toMatchObject({
      code: "BadArgumentError",
      innererror: { code: "SyntaxError" },
    });
  });
});
