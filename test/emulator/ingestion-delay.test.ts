/**
 * Rows reach a Log Analytics workspace some time after their TimeGenerated (Azure Monitor, "Log data ingestion time":
 * typically 20 seconds to 3 minutes, learn.microsoft.com/azure/azure-monitor/logs/data-ingestion-time), and KQL's
 * `ingestion_time()` returns "the approximate datetime in UTC format indicating when the current record was
 * ingested" (learn.microsoft.com/kusto/query/ingestion-time-function). The emulator delays rows per table: a query
 * sees a row only once it has arrived, and `ingestion_time()` gives that arrival time.
 */
import { describe, expect, it } from "vitest";
import { createProjectEngine, rewriteIngestionTime } from "./engine.js";
import { DEFAULT_INGESTION_DELAY_MS, EmulatorState } from "./state.js";

const MINUTE = 60_000;
const at = (iso: string) => new Date(iso);

function workspaceAt(clock: { now: Date }) {
  const state = new EmulatorState({ clock: () => clock.now });
  return state.addWorkspace({ subscriptionId: "s", resourceGroup: "rg", name: "ws" });
}

const engine = createProjectEngine();
const QUERY = "Syslog | extend Ingested = ingestion_time() | project Computer, Ingested | order by Computer asc";

async function rows(query: string, ws: ReturnType<typeof workspaceAt>, now: Date) {
  const run = await engine.run(query, ws, { now });
  return run.tables[0]?.rows.map((r) => [...r]) ?? [];
}

describe("ingestion delay", () => {
  it("shows a row only once TimeGenerated + the table's delay has passed, and ingestion_time() is its arrival", async () => {
    const clock = { now: at("2026-03-01T10:00:00Z") };
    const ws = workspaceAt(clock);
    ws.setIngestionDelay("Syslog", 7 * MINUTE);
    ws.seedTable("Syslog", [
      { TimeGenerated: "2026-03-01T09:58:00Z", Computer: "late-01" },
      { TimeGenerated: "2026-03-01T09:00:00Z", Computer: "old-01" },
    ]);
    // at 10:00 the 09:58 row is still in flight (arrives 10:05); the 09:00 row arrived when it was handed over
    expect(await rows(QUERY, ws, at("2026-03-01T10:00:00Z"))).toEqual([
      ["old-01", at("2026-03-01T10:00:00Z").getTime()],
    ]);
    expect(await rows(QUERY, ws, at("2026-03-01T10:04:59Z"))).toHaveLength(1);
    expect(await rows(QUERY, ws, at("2026-03-01T10:05:00Z"))).toEqual([
      ["late-01", at("2026-03-01T10:05:00Z").getTime()],
      ["old-01", at("2026-03-01T10:00:00Z").getTime()],
    ]);
  });

  it("windows on ingestion_time() catch a late row that an event-time window has already passed", async () => {
    const clock = { now: at("2026-03-01T10:00:00Z") };
    const ws = workspaceAt(clock);
    ws.setIngestionDelay("Syslog", 7 * MINUTE);
    ws.seedTable("Syslog", [{ TimeGenerated: "2026-03-01T09:59:00Z", Computer: "late-01" }]);
    const byEvent =
      "Syslog | where TimeGenerated >= datetime(2026-03-01T09:55:00Z) and TimeGenerated < datetime(2026-03-01T10:00:00Z)";
    const byIngestion =
      "Syslog | where ingestion_time() >= datetime(2026-03-01T10:05:00Z) and ingestion_time() < datetime(2026-03-01T10:10:00Z)";
    expect(await rows(byEvent, ws, at("2026-03-01T10:00:00Z"))).toHaveLength(0); // not arrived yet
    expect(await rows(byIngestion, ws, at("2026-03-01T10:10:00Z"))).toHaveLength(1);
  });

  it("applies the default delay to tables without their own, and 0 means visible once seeded", async () => {
    expect(DEFAULT_INGESTION_DELAY_MS).toBe(3 * MINUTE);
    const clock = { now: at("2026-03-01T10:00:00Z") };
    const ws = workspaceAt(clock);
    ws.seedTable("Syslog", [{ TimeGenerated: "2026-03-01T09:59:00Z", Computer: "web-01" }]);
    expect(await rows(QUERY, ws, at("2026-03-01T10:01:59Z"))).toHaveLength(0);
    expect(await rows(QUERY, ws, at("2026-03-01T10:02:00Z"))).toHaveLength(1);
    ws.setIngestionDelay("Syslog", 0);
    expect(await rows(QUERY, ws, at("2026-03-01T10:00:00Z"))).toHaveLength(1);
    expect(() => ws.setIngestionDelay("Syslog", -1)).toThrow(/non-negative/);
  });

  it("rewrites ingestion_time() calls, not the same text inside string literals", () => {
    expect(rewriteIngestionTime('T | where ingestion_time () > ago(1h) | extend s = "ingestion_time()"')).toBe(
      'T | where __shmhunt_ingestion_time > ago(1h) | extend s = "ingestion_time()"',
    );
    expect(rewriteIngestionTime("T | extend s = @'ingestion_time()', my_ingestion_time()")).toBe(
      "T | extend s = @'ingestion_time()', my_ingestion_time()",
    );
  });
});
