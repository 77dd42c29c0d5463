/**
 * A run that stalls past its lease's expiry while another run of the same rule and target takes the lease,
 * settles the window and gives the lease up. docs/service.md: "were it ever lost mid-run (a run stalled past its
 * expiry), the run fails at its next renewal". Until 8 December 2026 a renewal took the lease afresh
 * (HuntState.acquireLease found no record, the other holder having released it, and created one): the stalled run
 * carried on with the max_signals count it had in memory, alerting hits the other run turned `overflow`, and moved
 * the checkpoint back to its own (earlier) window end. A renewal is now a compare-and-swap of the lease held.
 */
import { describe, expect, it } from "vitest";
import { type HuntDeps, HuntState, LocalAlertWriter, runPlan } from "../../src/hunt/index.js";
import type { QueryRunner } from "../../src/sentinel/logs-query.js";
import { MemoryStateStore } from "../../src/store/memory-state-store.js";
import type { StateKind, StateOp, StateRecord, StateStore } from "../../src/store/state-store.js";
import { clock, EventTable, execEvent, huntRule, plan } from "../support/hunt-fixtures.js";

/**
 * The inner store, whose first access to a lease record (a read, or a batch that writes one) once `arm` was called
 * waits until `release` is called: a stalled request, whichever way the lease is renewed.
 */
class StallingStore implements StateStore {
  private armed = false;
  private resume!: () => void;
  private readonly resumed = new Promise<void>((resolve) => {
    this.resume = resolve;
  });
  private reach!: () => void;
  readonly stalled = new Promise<void>((resolve) => {
    this.reach = resolve;
  });
  constructor(private readonly inner: StateStore) {}
  arm(): void {
    this.armed = true;
  }
  release(): void {
    this.resume();
  }
  private async stallOnce(): Promise<void> {
    if (!this.armed) return;
    this.armed = false;
    this.reach();
    await this.resumed;
  }
  async get<T>(kind: StateKind, partition: string, key: string): Promise<T | undefined> {
    if (kind === "lease") await this.stallOnce();
    return this.inner.get<T>(kind, partition, key);
  }
  getMany<T>(kind: StateKind, partition: string, keys: readonly string[]): Promise<Array<T | undefined>> {
    return this.inner.getMany!<T>(kind, partition, keys);
  }
  create<T>(kind: StateKind, partition: string, key: string, value: T): Promise<boolean> {
    return this.inner.create(kind, partition, key, value);
  }
  put<T>(kind: StateKind, partition: string, key: string, value: T): Promise<void> {
    return this.inner.put(kind, partition, key, value);
  }
  delete(kind: StateKind, partition: string, key: string): Promise<void> {
    return this.inner.delete(kind, partition, key);
  }
  list<T>(kind: StateKind, partition?: string): Promise<ReadonlyArray<StateRecord<T>>> {
    return this.inner.list<T>(kind, partition);
  }
  async batch(ops: readonly StateOp[]): Promise<boolean[]> {
    if (ops.some((op) => op.kind === "lease")) await this.stallOnce();
    return this.inner.batch(ops);
  }
  damaged() {
    return this.inner.damaged();
  }
}

describe("a run that lost its lease while stalled", () => {
  it("fails at its next renewal rather than alert past max_signals and move the checkpoint back", async () => {
    const CAP = 2;
    const p = plan(huntRule({ maxSignals: CAP, gate: { mode: "none", yaraRules: [], pendingTimeoutMs: 0 } }));
    const shared = new MemoryStateStore();
    const table = new EventTable();
    // Arrived after A's window ends, inside B's: B's result starts with it.
    table.add(execEvent("2026-03-01T10:00:02Z"));
    for (let i = 0; i < 3; i++) table.add(execEvent(`2026-03-01T09:55:0${i}Z`));

    // Run A (leases of 1 s): its query takes 2 s, so its lease has expired when it renews it before counting its
    // alerts; that renewal's read of the lease record stalls until run B is over.
    const timeA = clock("2026-03-01T10:00:00Z");
    const storeA = new StallingStore(shared);
    const stateA = new HuntState(storeA);
    const slowQueries: QueryRunner = {
      run: async (query, window) => {
        const outcome = await table.run(query, window);
        timeA.advance(2_000);
        storeA.arm(); // its next lease access is the renewal before counting its alerts
        return outcome;
      },
    };
    const depsA: HuntDeps = {
      state: stateA,
      queries: slowQueries,
      alerts: new LocalAlertWriter(stateA, timeA.now),
      clock: timeA.now,
      leaseMs: 1_000,
    };
    const runA = runPlan(p, depsA, { force: true });
    await storeA.stalled;

    // Run B (another host or process) finds A's lease expired, takes it, settles its window and gives it up.
    const timeB = clock("2026-03-01T10:00:05Z");
    const stateB = new HuntState(shared);
    const depsB: HuntDeps = {
      state: stateB,
      queries: table,
      alerts: new LocalAlertWriter(stateB, timeB.now),
      clock: timeB.now,
      leaseMs: 1_000,
    };
    const reportB = await runPlan(p, depsB, { force: true });
    expect(reportB).toMatchObject({ status: "completed", counts: { rows: 4, alerted: CAP, overflow: 2 } });
    expect(await stateB.incidents()).toHaveLength(CAP);

    storeA.release();
    const reportA = await runA.catch((error: Error) => ({ status: "failed", error: error.message }));

    const incidents = await stateB.incidents();
    const checkpoint = await stateB.checkpoint(p.rule.id, p.target);
    expect({
      runA: reportA.status,
      incidents: incidents.length,
      alerted: (await stateB.hits()).filter((h) => h.status === "alerted").length,
      checkpoint: checkpoint?.end,
    }).toEqual({ runA: "failed", incidents: CAP, alerted: CAP, checkpoint: "2026-03-01T10:00:05.000Z" });
  });
});
