/**
 * What a hunt run tells a progress display (the CLI's bar of a catch-up, through HuntService): the runs it makes, the
 * rows each query returned, the rows settled batch by batch (never per row), each run as it ends.
 */
import { describe, expect, it } from "vitest";
import { HuntService } from "../../src/app/services.js";
import { type HuntRunProgress, HuntState, LocalAlertWriter, runHunts } from "../../src/hunt/index.js";
import { MemoryStateStore } from "../../src/store/index.js";
import { clock, EventTable, execEvent, huntRule, MIN, plan } from "../support/hunt-fixtures.js";

function recorder(): { events: string[]; progress: Required<HuntRunProgress> } {
  const events: string[] = [];
  return {
    events,
    progress: {
      runs: (total) => events.push(`runs ${total}`),
      found: (rows) => events.push(`found ${rows}`),
      settled: (rows) => events.push(`settled ${rows}`),
      ran: (run) => events.push(`ran ${run.ruleId.slice(-1)} ${run.status}`),
    },
  };
}

function setting() {
  const state = new HuntState(new MemoryStateStore());
  const time = clock("2026-03-01T10:00:00Z");
  const table = new EventTable();
  // 25 events in the windows, each on a host of its own (an incident each).
  for (let i = 0; i < 25; i++)
    table.add(
      execEvent(new Date(Date.parse("2026-03-01T09:52:00Z") + i * 10_000).toISOString(), { DeviceName: `h${i}` }),
    );
  const deps = { state, queries: table, alerts: new LocalAlertWriter(state, time.now), clock: time.now, batchSize: 10 };
  const plans = [
    plan(huntRule({ id: "8c5e9d4a-0000-4000-8000-000000000001" })),
    plan(huntRule({ id: "8c5e9d4a-0000-4000-8000-000000000002", maxSignals: 5 })),
  ];
  return { state, time, table, deps, plans };
}

describe("hunt progress", () => {
  it("tells the runs up front, then per run the rows found and each batch settled, never a row at a time", async () => {
    const { deps, plans, time } = setting();
    const { events, progress } = recorder();
    const report = await runHunts(plans, deps, {}, progress);
    expect(report.runs.map((r) => r.counts.rows)).toEqual([25, 25]);
    // Batches of 10: three per run of 25 rows.
    expect(events).toEqual([
      "runs 2",
      "found 25",
      "settled 10",
      "settled 10",
      "settled 5",
      "ran 1 completed",
      "found 25",
      "settled 10",
      "settled 10",
      "settled 5",
      "ran 2 completed",
    ]);

    // A run not due, one rule only: counted too, with nothing to settle.
    time.advance(MIN);
    const again = recorder();
    await runHunts(plans, deps, { ruleId: "8c5e9d4a-0000-4000-8000-000000000002" }, again.progress);
    expect(again.events).toEqual(["runs 1", "ran 2 not-due"]);
  });

  it("reaches the caller through the application's HuntService", async () => {
    const { deps, plans } = setting();
    const service = new HuntService(deps, async () => plans);
    const { events, progress } = recorder();
    await service.run({ force: true }, progress);
    expect(events.filter((e) => e.startsWith("runs") || e.startsWith("ran"))).toEqual([
      "runs 2",
      "ran 1 completed",
      "ran 2 completed",
    ]);
    expect(events.filter((e) => e.startsWith("settled"))).toHaveLength(6);
  });
});
