/** The hunt's guarantees with state in Azure Table storage (Azurite): overlap dedup and a kill mid-run. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HuntDeps, HuntState, LocalAlertWriter, runHunts, runPlan } from "../../src/hunt/index.js";
import { createStateStore } from "../../src/store/index.js";
import { type Azurite, startAzurite } from "../support/azurite.js";
import { clock, EventTable, execEvent, KilledAfterWrite, MIN, plan } from "../support/hunt-fixtures.js";

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

let n = 0;
async function setup() {
  const store = await createStateStore({
    kind: "table",
    table: `huntstate${++n}`,
    access: { connectionString: azurite.connectionString },
  });
  const state = new HuntState(store);
  const time = clock("2026-03-01T10:00:00Z");
  const table = new EventTable();
  const deps: HuntDeps = { state, queries: table, alerts: new LocalAlertWriter(state, time.now), clock: time.now };
  return { state, time, table, deps };
}

describe("hunt runs with Azure Table state", () => {
  it("three overlapping runs, one killed mid-way: every event alerted exactly once", async () => {
    const { state, time, table, deps } = await setup();
    for (let m = 0; m < 20; m++) {
      table.add(execEvent(new Date(Date.parse("2026-03-01T09:50:30Z") + m * MIN).toISOString()));
    }
    const p = plan();
    expect((await runPlan(p, deps)).counts.alerted).toBe(9);
    time.advance(5 * MIN);
    const killed = await runHunts([p], { ...deps, alerts: new KilledAfterWrite(deps.alerts, 3) });
    expect(killed.runs[0]?.status).toBe("failed");
    expect((await state.checkpoint(p.rule.id, p.target))?.end).toBe("2026-03-01T10:00:00.000Z");
    // The restarted process runs late: its window reaches back to the last completed end.
    time.advance(5 * MIN);
    const rerun = await runPlan(p, deps);
    expect(rerun.window).toEqual({ start: "2026-03-01T09:56:00.000Z", end: "2026-03-01T10:10:00.000Z" });
    const incidents = await state.incidents();
    expect(incidents).toHaveLength(19);
    expect(new Set(incidents.map((i) => i.hitKey)).size).toBe(19);
    expect((await state.hits()).every((h) => h.status === "alerted")).toBe(true);
  });
});
