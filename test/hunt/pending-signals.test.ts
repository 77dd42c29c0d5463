/**
 * A pending hit's late alert and max_signals. A gated hit whose sample has no verdict yet waits (`pending`); when the
 * verdict is known, the hit is settled by whichever comes first: the pending sweep (a scheduler tick, a sample's
 * arrival) or a later run whose overlapping window returns the same row. Either way it is the same late verdict,
 * not a run, so the outcome must not depend on which comes first: the late alert is not counted against any
 * window's max_signals, never becomes `overflow`, and takes nothing from the new hits of the run that meets it.
 *
 * The verdict is stored while the rule is not loaded (its pending hit is left as it is), so it is still pending
 * with its verdict known when the rule is back: the sweep of a tick before the next run, or that run, settles it.
 */
import { describe, expect, it } from "vitest";
import {
  type HuntDeps,
  HuntState,
  LocalAlertWriter,
  recordVerdict,
  runHunts,
  runPlan,
  type StoredVerdict,
} from "../../src/hunt/index.js";
import { LocalStateStore } from "../../src/store/index.js";
import { clock, EventTable, execEvent, huntRule, KilledAfterWrite, MIN, plan } from "../support/hunt-fixtures.js";
import { tempDirs } from "../support/temp-dirs.js";

const tempDir = tempDirs("pending-signals");

const SHA_LATE = "ef".repeat(32);
const SHA_KNOWN = "ab".repeat(32);
const match = (sha256: string): StoredVerdict => ({
  sha256,
  size: 100,
  matches: [{ rule: "Derusbi_shm", file: "shm-creation.yar" }],
  scannedAt: "2026-03-01T09:00:00.000Z",
});

/** Gated (`require`), one alert per window. */
const capped = plan(
  huntRule({
    maxSignals: 1,
    gate: { mode: "require", yaraRules: ["shm-creation.yar"], pendingTimeoutMs: 60 * MIN },
  }),
);

/** Who settles the pending hit once its verdict is known: a tick's sweep before the next run, or that run. */
type FirstToSettle = "the pending sweep" | "the next overlapping run";
/** In which order the next run's query returns the two rows. */
type RowOrder = "late hit's row first" | "new hit's row first";

/** The scenario (play) in a state folder of its own, closed at the end. */
async function scenario(first: FirstToSettle, order: RowOrder, killedAfter?: number) {
  const state = new HuntState(new LocalStateStore(tempDir()));
  try {
    return await play(state, first, order, killedAfter);
  } finally {
    await state.close();
  }
}

/**
 * The scenario: the 10:00 run records the late hit pending (its sample unscanned); its sample's verdict (a match)
 * comes at 10:01 while the rule is not loaded; then a tick at 10:02 (not due: only the sweep) when the sweep comes
 * first; then the 10:05 run, whose window (09:56 to 10:05) returns the late hit's row again and a new hit (its
 * sample matched before), killed right after its `killedAfter`-th alert when told; then the 10:06 tick (a rerun of
 * that window when it was killed). Answers every hit's status, the incidents' hits, and what is left in the pending
 * index and the max_signals records.
 */
async function play(state: HuntState, first: FirstToSettle, order: RowOrder, killedAfter: number | undefined) {
  const time = clock("2026-03-01T10:00:00Z");
  const table = new EventTable();
  const alerts = new LocalAlertWriter(state, time.now);
  const deps: HuntDeps = { state, queries: table, alerts, clock: time.now, alertConcurrency: 1 };
  await state.putVerdict(match(SHA_KNOWN));
  const late = execEvent("2026-03-01T09:58:00Z", { SHA256: SHA_LATE });
  const fresh = execEvent("2026-03-01T10:03:00Z", { SHA256: SHA_KNOWN });
  table.add(...(order === "late hit's row first" ? [late, fresh] : [fresh, late]));

  const found = await runHunts([capped], deps);
  expect(found.runs[0]?.counts).toMatchObject({ rows: 1, pending: 1 });
  time.set("2026-03-01T10:01:00Z");
  expect(await recordVerdict(match(SHA_LATE), [], deps)).toMatchObject({ stillPending: 1 });
  if (first === "the pending sweep") {
    time.set("2026-03-01T10:02:00Z");
    const tick = await runHunts([capped], deps);
    expect(tick.runs[0]?.status).toBe("not-due");
    expect(tick.sweep).toMatchObject({ alerted: 1 });
  }
  time.set("2026-03-01T10:05:00Z");
  if (killedAfter === undefined) {
    const next = await runHunts([capped], deps);
    expect(next.runs[0]).toMatchObject({ status: "completed", counts: { rows: 2 } });
  } else {
    // The process dies there: no status written, and no sweep after the run.
    const dying = { ...deps, alerts: new KilledAfterWrite(alerts, killedAfter) };
    await expect(runPlan(capped, dying)).rejects.toThrow("killed");
  }
  time.set("2026-03-01T10:06:00Z");
  expect((await runHunts([capped], deps)).runs[0]?.status).toBe(killedAfter ? "completed" : "not-due");

  const hitOf = { [late.ProcessId as number]: "late", [fresh.ProcessId as number]: "new" };
  const hits = await state.hits();
  const statuses = hits.map((h) => `${hitOf[h.row.ProcessId as number]} ${h.status}`).sort();
  const keys = new Map(hits.map((h) => [h.key, hitOf[h.row.ProcessId as number]]));
  const incidents = (await state.incidents()).map((i) => keys.get(i.hitKey)).sort();
  return { statuses, incidents, pending: await state.pending(), signals: await state.store.list("signals") };
}

/** Both hits alerted, each in an incident of its own, once; nothing left waiting or counted. */
const bothAlerted = {
  statuses: ["late alerted", "new alerted"],
  incidents: ["late", "new"],
  pending: [],
  signals: [],
};

describe("a pending hit settled by its late verdict, and max_signals", () => {
  for (const order of ["late hit's row first", "new hit's row first"] as const) {
    for (const first of ["the pending sweep", "the next overlapping run"] as const)
      it(`${order}, ${first} settling it: both hits alerted, none over max_signals`, async () => {
        expect(await scenario(first, order)).toEqual(bothAlerted);
      });
    for (const killedAfter of [1, 2])
      it(`${order}, the run settling it killed after its alert ${killedAfter}, then run again: the same`, async () => {
        expect(await scenario("the next overlapping run", order, killedAfter)).toEqual(bothAlerted);
      });
  }
});
