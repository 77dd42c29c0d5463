/**
 * max_signals is kept per rule, target and window across processes (issue 12, item 10): a run killed and run again,
 * and two hunters at once (the server and a CLI: two stores on one state folder, or on one Azure Table), never raise
 * more incidents than the cap, and every hit ends settled (alerted or over the cap), none lost.
 *
 * The cap is Elastic's `max_signals` ("maximum number of alerts the rule can create each time it runs", the seed
 * rule's `max_signals = 100`); a run killed and run again covers the same window, so it is the same run's count.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type HuntDeps, HuntState, LocalAlertWriter, runPlan } from "../../src/hunt/index.js";
import type { AlertRequest, AlertWriter, RaisedAlert } from "../../src/sentinel/incidents.js";
import { createStateStore, type StateStore } from "../../src/store/index.js";
import { type Azurite, startAzurite } from "../support/azurite.js";
import { clock, EventTable, execEvent, huntRule, KilledAfterWrite, plan } from "../support/hunt-fixtures.js";
import { localStores } from "../support/local-stores.js";

const openLocal = localStores();

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

const CAP = 5;
const capped = () => plan(huntRule({ maxSignals: CAP }));

/** 12 events, one every 30 s from 09:52:00 to 09:57:30. */
function events(): EventTable {
  const table = new EventTable();
  for (let i = 0; i < 12; i++)
    table.add(execEvent(new Date(Date.parse("2026-03-01T09:52:00Z") + i * 30_000).toISOString()));
  return table;
}

/**
 * Raises alerts only once `meanwhile` has settled (the other hunter's run has returned), so that a second hunter
 * starts while the first is at work however the two are scheduled; after 10 s at the latest, so that two hunters
 * that both took the lease fail the test's checks rather than wait for each other.
 */
class HeldWriter implements AlertWriter {
  constructor(
    private readonly inner: AlertWriter,
    private readonly meanwhile: Promise<unknown>,
  ) {}
  async raise(alert: AlertRequest): Promise<RaisedAlert> {
    await Promise.race([this.meanwhile, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    return this.inner.raise(alert);
  }
}

function localStore(dir?: string): { dir: string; store: StateStore } {
  const folder = dir ?? mkdtempSync(path.join(tmpdir(), "shmhunt-maxsignals-"));
  if (!dir) dirs.push(folder);
  return { dir: folder, store: openLocal(folder) };
}

let tables = 0;
const backends: Record<string, () => Promise<() => Promise<StateStore>>> = {
  "local state folder": async () => {
    const { dir } = localStore();
    return async () => openLocal(dir);
  },
  "Azure Table (Azurite)": async () => {
    const table = `maxsignals${++tables}`;
    return () => createStateStore({ kind: "table", table, access: { connectionString: azurite.connectionString } });
  },
};

for (const [name, backend] of Object.entries(backends)) {
  describe(`max_signals with ${name}`, () => {
    it("a run killed mid-way and run again raises at most max_signals incidents, and settles every hit", async () => {
      const open = await backend();
      const state = new HuntState(await open());
      const time = clock("2026-03-01T10:00:00Z");
      const table = events();
      const alerts = new LocalAlertWriter(state, time.now);
      const deps: HuntDeps = { state, queries: table, alerts, clock: time.now, batchSize: 2, alertConcurrency: 1 };
      // Two batches settled (4 incidents), then killed right after the 5th incident was written.
      const killed = await runPlan(capped(), { ...deps, alerts: new KilledAfterWrite(alerts, 5) }).catch(
        (error: Error) => error,
      );
      expect(killed).toBeInstanceOf(Error);
      expect(await state.incidents()).toHaveLength(5);
      // The rerun (a new process: a new store on the same state) covers the same window.
      time.advance(60_000);
      const rerunState = new HuntState(await open());
      const rerun = await runPlan(capped(), {
        ...deps,
        state: rerunState,
        alerts: new LocalAlertWriter(rerunState, time.now),
      });
      expect(rerun.status).toBe("completed");
      expect(await rerunState.incidents()).toHaveLength(CAP);
      const hits = await rerunState.hits();
      expect(hits).toHaveLength(12);
      expect(hits.filter((h) => h.status === "alerted")).toHaveLength(CAP);
      expect(hits.filter((h) => h.status === "overflow")).toHaveLength(12 - CAP);
    });

    it("two hunters at once (different clocks, as a server and a CLI): one runs, the other is busy; never over the cap", async () => {
      const open = await backend();
      const table = events();
      let oneReturned: (value: unknown) => void = () => {};
      const returned = new Promise((resolve) => {
        oneReturned = resolve;
      });
      const hunter = async (at: string) => {
        const state = new HuntState(await open());
        const time = clock(at);
        const deps: HuntDeps = {
          state,
          queries: table,
          alerts: new HeldWriter(new LocalAlertWriter(state, time.now), returned),
          clock: time.now,
          batchSize: 2,
        };
        return { state, deps };
      };
      const a = await hunter("2026-03-01T10:00:00Z");
      const b = await hunter("2026-03-01T10:01:00Z");
      const reports = await Promise.all(
        [runPlan(capped(), a.deps, { force: true }), runPlan(capped(), b.deps, { force: true })].map((run) =>
          run.finally(() => oneReturned(undefined)),
        ),
      );
      expect(await a.state.incidents()).toHaveLength(CAP);
      expect(reports.map((r) => r.status).sort()).toEqual(["busy", "completed"]);
      const hits = await a.state.hits();
      expect(hits.filter((h) => h.status === "alerted")).toHaveLength(CAP);
      expect(hits.every((h) => h.status === "alerted" || h.status === "overflow")).toBe(true);
      // The lease is given up at the end: the other hunter runs next, over the window after the checkpoint.
      const next = await runPlan(capped(), b.deps, { force: true });
      expect(next.status).toBe("completed");
      expect(await b.state.incidents()).toHaveLength(CAP);
    });
  });
}

describe("the lease of a rule's hunt", () => {
  it("held by a live run is respected until it expires; one left by a killed process is taken at once", async () => {
    const { store } = localStore();
    const state = new HuntState(store);
    const time = clock("2026-03-01T10:00:00Z");
    const deps: HuntDeps = { state, queries: events(), alerts: new LocalAlertWriter(state, time.now), clock: time.now };
    const p = capped();
    // Another run of this process holds it for 2 minutes.
    const other = `${hostname()}/${process.pid}/other-run`;
    expect(await state.acquireLease(p.rule.id, p.target, other, time.now(), 120_000)).toBeDefined();
    expect((await runPlan(p, deps)).status).toBe("busy");
    time.advance(121_000);
    expect((await runPlan(p, deps)).status).toBe("completed");
    // A process that held it and was killed (it exited without giving it up): its lease does not block.
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    const dead = `${hostname()}/${gone.stdout}/killed-run`;
    time.advance(5 * 60_000);
    expect(await state.acquireLease(p.rule.id, p.target, dead, time.now(), 3_600_000)).toBeDefined();
    expect((await runPlan(p, deps)).status).toBe("completed");
  });
});
