/**
 * Late rows are never lost. Rows reach Log Analytics after their event time (Azure Monitor, "Log data ingestion
 * time": typically 20 seconds to 3 minutes, learn.microsoft.com/azure/azure-monitor/logs/data-ingestion-time), and
 * `ingestion_time()` is when a row arrived (learn.microsoft.com/kusto/query/ingestion-time-function). Elastic's
 * rules say `timestamp_override = "event.ingested"` for this reason. Here every DeviceProcessEvents row arrives 7
 * minutes after its event time (the emulator's per-table delay, test/emulator/state.ts), and the hunt's windows
 * (planWindow: 5-minute interval, 9-minute lookback, as rules/shm-execution.toml) are run every 5 minutes through
 * the real Logs SDK: every row is seen, and settled once by its hit key; the same runs windowed on event time only
 * (the old way) lose rows.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hitKey, planWindow } from "../../src/hunt/index.js";
import type { Checkpoint, Window } from "../../src/hunt/types.js";
import { LogAnalyticsQueryRunner } from "../../src/sentinel/logs-query.js";
import { makeClients } from "../azure/clients.js";
import { type Emulator, startEmulator } from "../emulator/server.js";

const MIN = 60_000;
const rule = { intervalMs: 5 * MIN, lookbackMs: 9 * MIN };
const QUERY = [
  "DeviceProcessEvents",
  '| where ActionType == "ProcessCreated" and FolderPath startswith "/dev/shm/"',
  "| extend Entity_Host_HostName = DeviceName",
].join("\n");

/** One event per minute from 10:00 to 10:29 (DeviceProcessEvents columns as Defender's schema names them). */
const events = Array.from({ length: 30 }, (_, i) => {
  const time = new Date(Date.parse("2026-03-01T10:00:00Z") + i * MIN + 30_000).toISOString();
  return {
    TimeGenerated: time,
    Timestamp: time,
    DeviceId: "id-web-01",
    DeviceName: "web-01",
    ActionType: "ProcessCreated",
    FolderPath: `/dev/shm/x${i}`,
    FileName: `x${i}`,
    ProcessId: 1000 + i,
    ReportId: 1000 + i,
  };
});

let now = new Date("2026-03-01T10:00:00Z");
let emulator: Emulator;
let runner: LogAnalyticsQueryRunner;

beforeAll(async () => {
  emulator = await startEmulator({ now: () => now });
  emulator.workspace.setIngestionDelay("DeviceProcessEvents", 7 * MIN);
  emulator.workspace.seedTable("DeviceProcessEvents", events); // at 10:00: each row arrives at its time + 7 min
  const clients = makeClients(emulator);
  runner = new LogAnalyticsQueryRunner(clients.logs, emulator.workspace.customerId, {
    serverTimeoutSeconds: 30,
    retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
  });
});
afterAll(() => emulator?.close());

/** Runs the hunt's windows every 5 minutes from 10:05 to 10:50; the hit keys each run sees. */
async function huntEvery5Minutes(window: (w: Window) => Window): Promise<string[][]> {
  const seen: string[][] = [];
  let checkpoint: Checkpoint | undefined;
  for (let t = Date.parse("2026-03-01T10:05:00Z"); t <= Date.parse("2026-03-01T10:50:00Z"); t += rule.intervalMs) {
    now = new Date(t);
    const planned = planWindow(rule, checkpoint, now, 24 * 60 * MIN);
    const outcome = await runner.run(QUERY, window(planned.window));
    if (!outcome.ok) throw new Error(outcome.error);
    seen.push(outcome.rows.map((row) => hitKey("late-rows", "defender", row)));
    checkpoint = { end: planned.window.end.toISOString(), completedAt: now.toISOString() };
  }
  return seen;
}

describe("late rows", () => {
  it("arriving 7 minutes late: none lost, none settled twice (windows on ingestion time)", async () => {
    const expected = events.map((e) => hitKey("late-rows", "defender", { ...e, Entity_Host_HostName: e.DeviceName }));
    expect(new Set(expected).size).toBe(30);

    const runs = await huntEvery5Minutes((w) => w);
    const settled = new Set<string>();
    let newHits = 0;
    for (const keys of runs) {
      for (const key of keys) {
        if (!settled.has(key)) newHits++;
        settled.add(key);
      }
    }
    expect([...settled].sort()).toEqual([...expected].sort()); // none lost
    expect(newHits).toBe(30); // each settled once: a row seen by two overlapping windows has one key
  }, 60_000);

  it("the same runs windowed on event time only lose the rows that arrive after their window (the old way)", async () => {
    const runs = await huntEvery5Minutes((w) => ({ start: w.start, end: w.end }));
    const seen = new Set(runs.flat());
    expect(seen.size).toBeLessThan(30);
  }, 60_000);
});
