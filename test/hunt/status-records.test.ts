/**
 * The statuses of a batch's alerted hits go to one record per batch (HuntState `hitstatus`), not a write per hit:
 * reads give every hit its settled status, a large batch spreads over records that each fit a table entity, and a
 * rerun after a kill adds to a batch's record without dropping what it held.
 */
import { describe, expect, it } from "vitest";
import { type HitRecord, type HuntDeps, HuntState, LocalAlertWriter, runPlan } from "../../src/hunt/index.js";
import { MemoryStateStore } from "../../src/store/memory-state-store.js";
import { clock, EventTable, execEvent, huntRule, plan } from "../support/hunt-fixtures.js";

/** One Azure Table entity holds at most 1 MiB (Azure Storage docs, "Understanding the Table service data model"). */
const TABLE_ENTITY_BYTES = 2 ** 20;

describe("batch status records", () => {
  it("settle a batch of 3,000 alerts in records that each fit a table entity, read back as alerted hits", async () => {
    const store = new MemoryStateStore();
    const state = new HuntState(store);
    const time = clock("2026-03-01T10:00:00Z");
    const table = new EventTable();
    for (let i = 0; i < 3000; i++) table.add(execEvent(new Date(Date.parse("2026-03-01T09:55:00Z") + i).toISOString()));
    const deps: HuntDeps = {
      state,
      queries: table,
      alerts: new LocalAlertWriter(state, time.now),
      clock: time.now,
      batchSize: 5000,
    };
    const report = await runPlan(plan(huntRule({ maxSignals: 5000 })), deps, { force: true });
    expect(report.counts).toMatchObject({ rows: 3000, new: 3000, alerted: 3000 });
    const records = await store.list<{ hits: Record<string, unknown> }>("hitstatus");
    expect(records.length).toBeGreaterThan(1);
    expect(records.reduce((n, r) => n + Object.keys(r.value.hits).length, 0)).toBe(3000);
    // UTF-16 code units (what a table entity's string properties count), with room for the entity's keys.
    for (const r of records) expect(JSON.stringify(r.value).length * 2).toBeLessThan(TABLE_ENTITY_BYTES);
    const hits = await state.hits();
    expect(hits).toHaveLength(3000);
    expect(hits.every((h) => h.status === "alerted" && h.incidentId !== undefined && h.settledIn === undefined)).toBe(
      true,
    );
    const some = hits[1234]!;
    expect(await state.hit(some.ruleId, some.key)).toEqual(some);
    expect(await state.hitsOf(some.ruleId, [some.key, "absent"])).toEqual([some, undefined]);
  });

  it("a batch's record found written already keeps its statuses when a rerun adds others", async () => {
    const state = new HuntState(new MemoryStateStore());
    const recorded = (key: string): HitRecord => ({
      key,
      ruleId: "r1",
      target: "defender",
      status: "new",
      firstSeen: "2026-03-01T10:00:00.000Z",
      updatedAt: "2026-03-01T10:00:00.000Z",
      window: { start: "2026-03-01T09:51:00.000Z", end: "2026-03-01T10:00:00.000Z" },
      eventTime: "2026-03-01T09:59:00.000Z",
      row: { key },
      settledIn: "batch.0",
    });
    await state.write([state.createHitOp(recorded("a")), state.createHitOp(recorded("b"))]);
    const settled = (key: string, incidentId: string): HitRecord => ({
      ...recorded(key),
      status: "alerted",
      updatedAt: "2026-03-01T10:05:00.000Z",
      incidentId,
    });
    await state.write(await state.statusOps([settled("a", "inc-a")], () => true));
    expect((await state.hitsOf("r1", ["a", "b"])).map((h) => h?.status)).toEqual(["alerted", "new"]);
    // A rerun settles b: the record is not its own (not fresh), so a's status is read and kept.
    await state.write(await state.statusOps([settled("b", "inc-b")], () => false));
    expect((await state.hitsOf("r1", ["a", "b"])).map((h) => [h?.status, h?.incidentId])).toEqual([
      ["alerted", "inc-a"],
      ["alerted", "inc-b"],
    ]);
  });
});
