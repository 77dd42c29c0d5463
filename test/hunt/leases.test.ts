/**
 * Leases given up leave nothing in the state, on every backend (memory, the local journal, Azure Table on Azurite):
 * a sample's settling takes a lease on that sample (src/hunt/run.ts, SAMPLE_LEASE), so a record left per release
 * would be one per sample ever settled, a state growing without bound. Giving one up removes its record only while
 * it is still the one held (a compare-and-delete), so the lease keeps its safety: one holder at a time, a holder
 * killed mid-work is taken over once its lease expires, and a holder that lost its lease removes nothing of the next.
 */
import { describe, expect, it } from "vitest";
import { HeldLease } from "../../src/hunt/hunt-state.js";
import {
  type HuntDeps,
  HuntState,
  LocalAlertWriter,
  recordVerdict,
  runHunts,
  runPlan,
  SAMPLE_LEASE,
  type StoredVerdict,
  waitForSampleLease,
} from "../../src/hunt/index.js";
import type { StateStore } from "../../src/store/index.js";
import { clock, EventTable, execEvent, huntRule, MIN, plan } from "../support/hunt-fixtures.js";
import { stateBackends } from "../support/state-backends.js";

const backends = stateBackends("leases");

const gated = plan(
  huntRule({
    id: "9d6f0e5b-0000-4000-8000-000000000002",
    name: "Shared memory creation",
    gate: { mode: "require", yaraRules: ["shm-creation.yar"], pendingTimeoutMs: 30 * MIN },
  }),
);

/** A hunt's parts over `state` and the events of `table`, and its clock, set to 2026-03-01T10:00:00Z. */
function huntOn(state: HuntState, table = new EventTable()): { deps: HuntDeps; time: ReturnType<typeof clock> } {
  const time = clock("2026-03-01T10:00:00Z");
  return { deps: { state, queries: table, alerts: new LocalAlertWriter(state, time.now), clock: time.now }, time };
}

const sha = (i: number) => i.toString(16).padStart(2, "0").repeat(32);
const match = (sha256: string): StoredVerdict => ({
  sha256,
  size: 100,
  matches: [{ rule: "Derusbi_shm", file: "shm-creation.yar" }],
  scannedAt: "2026-03-01T10:01:00Z",
});

describe.each(backends)("leases on %s", (_name, make) => {
  it("settling many samples, and the hunts that wait for them, leaves no lease record behind", async () => {
    const store = await make();
    const state = new HuntState(store);
    const table = new EventTable();
    const { deps, time } = huntOn(state, table);
    for (let i = 1; i <= 6; i++)
      table.add(execEvent(`2026-03-01T09:58:0${i}Z`, { SHA256: sha(i), ProcessId: 100 + i, ReportId: i }));
    expect((await runPlan(gated, deps)).counts).toMatchObject({ pending: 6 });
    time.advance(MIN);
    for (let i = 1; i <= 6; i++)
      expect(await recordVerdict(match(sha(i)), [gated], deps)).toMatchObject({ examined: 1, alerted: 1 });
    // A sample that arrives again (a second delivery) takes and gives up its lease once more.
    expect(await recordVerdict(match(sha(1)), [gated], deps)).toMatchObject({ examined: 0 });
    time.advance(5 * MIN);
    await runHunts([gated], deps, { force: true });
    expect(await state.incidents()).toHaveLength(6);
    expect(await store.list("lease")).toEqual([]);
  });

  it("keeps one holder at a time, hands a killed holder's lease on when it expires, and a late release removes nothing of the next holder's", async () => {
    const store = await make();
    const state = new HuntState(store);
    const time = clock("2026-03-01T10:00:00Z");
    const lease = () => new HeldLease(state, SAMPLE_LEASE, sha(7), time.now, 2 * MIN, "lost");
    const [first, second, third] = [lease(), lease(), lease()];
    expect(await first.take()).toBe(true);
    expect(await second.take()).toBe(false);
    // The first holder is killed mid-work (it never gives the lease up): the lease holds until it expires.
    time.advance(2 * MIN - 1);
    expect(await second.take()).toBe(false);
    time.advance(1);
    expect(await second.take()).toBe(true);
    // The first holder, stalled rather than killed, comes back and gives up what it no longer holds: nothing happens.
    await first.release();
    expect((await state.lease(SAMPLE_LEASE, sha(7)))?.expiresAt).toBe("2026-03-01T10:04:00.000Z");
    expect(await third.take()).toBe(false);
    await expect(first.hold()).rejects.toThrow("lost");
    // The second gives it up: no record is left, and the next takes it at once.
    await second.release();
    expect(await store.list("lease")).toEqual([]);
    expect(await third.take()).toBe(true);
    await third.release();
    // Many at once on a lease given up: exactly one wins.
    const racers = Array.from({ length: 6 }, lease);
    expect((await Promise.all(racers.map((r) => r.take()))).filter(Boolean)).toHaveLength(1);
    await Promise.all(racers.map((r) => r.release()));
    expect(await store.list("lease")).toEqual([]);
  });

  it("is renewed while a long piece of work runs under it (a scan), so no one else takes it meanwhile", async () => {
    const store = await make();
    const state = new HuntState(store);
    const now = () => new Date();
    const ms = 1000;
    const holder = new HeldLease(state, SAMPLE_LEASE, sha(8), now, ms, "lost");
    const other = new HeldLease(state, SAMPLE_LEASE, sha(8), now, ms, "lost");
    expect(await holder.take()).toBe(true);
    const tries: boolean[] = [];
    await holder.during(async () => {
      // Past two lease times in all: without renewals the lease would have expired twice over.
      for (let i = 0; i < 5; i++) {
        await new Promise((resolve) => setTimeout(resolve, ms / 2));
        tries.push(await other.take());
      }
    });
    expect(tries).toEqual([false, false, false, false, false]);
    await holder.release();
    expect(await store.list("lease")).toEqual([]);
  });
});

describe.each(backends)("waiting for a sample's lease in one process on %s", (_name, make) => {
  it("takes turns: only the first waiter asks the state while the lease is held here, and the next takes it as it is given up", async () => {
    const store = await make();
    const state = new HuntState(store);
    const { deps } = huntOn(state);
    let reads = 0;
    const get = store.get.bind(store);
    store.get = (async (...args: Parameters<StateStore["get"]>) => {
      if (args[0] === "lease") reads++;
      return get(...args);
    }) as StateStore["get"];
    const first = await waitForSampleLease(deps, sha(9), "left");
    expect(first).toBeDefined();
    // Five more settlings of the sample in this process: none asks the state while the first holds the lease.
    const order: number[] = [];
    const waiters = Array.from({ length: 5 }, async (_, i) => {
      const held = await waitForSampleLease(deps, sha(9), "left");
      order.push(i);
      await held?.release();
      return held !== undefined;
    });
    const readsBefore = reads;
    await new Promise((resolve) => setTimeout(resolve, 500)); // past four polls at 100 ms, doubling
    expect(reads).toBe(readsBefore);
    await first!.release();
    expect(await Promise.all(waiters)).toEqual([true, true, true, true, true]);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    // Each took the lease with one read of it: as it was given up, not at a later poll.
    expect(reads - readsBefore).toBe(5);
    expect(await store.list("lease")).toEqual([]);
  });
});

describe.each(backends)("lease records left free on %s", (_name, make) => {
  const released = { owner: "", expiresAt: new Date(0).toISOString() };

  it("a released record an earlier version left on a rule's lease is removed by the rule's next run (taken, then given up)", async () => {
    const store = await make();
    const state = new HuntState(store);
    const { deps } = huntOn(state);
    await store.put("lease", gated.rule.id, gated.target, released);
    expect((await runPlan(gated, deps)).status).toBe("completed");
    expect(await store.list("lease")).toEqual([]);
  });

  it("removeFreeLeases removes the released and the expired ones (a sample's too), each only while it is still what was read, and keeps a lease held", async () => {
    const store = await make();
    const state = new HuntState(store);
    const now = new Date("2026-03-01T10:00:00Z");
    const held = { owner: "host/1/held", expiresAt: "2026-03-01T10:01:00.000Z" };
    const killed = { owner: "host/2/killed", expiresAt: "2026-03-01T09:59:00.000Z" };
    await store.put("lease", SAMPLE_LEASE, sha(1), released);
    await store.put("lease", SAMPLE_LEASE, sha(2), released);
    await store.put("lease", SAMPLE_LEASE, sha(3), held);
    await store.put("lease", gated.rule.id, "defender", killed);
    await store.put("lease", "shmhunt-rescan", "samples", released);
    // At most `limit` a call; the count says how many were found free.
    expect(await state.removeFreeLeases(now, 2)).toBe(4);
    expect(await store.list("lease")).toHaveLength(3);
    expect(await state.removeFreeLeases(now, 2)).toBe(2);
    expect((await store.list("lease")).map((r) => [r.partition, r.key, r.value])).toEqual([
      [SAMPLE_LEASE, sha(3), held],
    ]);
    expect(await state.removeFreeLeases(now, 2)).toBe(0);
    // A free lease taken between the read and the delete stays: the delete is of the record read.
    await store.put("lease", SAMPLE_LEASE, sha(4), released);
    const taking = new HeldLease(state, SAMPLE_LEASE, sha(4), () => now, 2 * MIN, "lost");
    const list = store.list.bind(store);
    store.list = (async (...args: Parameters<StateStore["list"]>) => {
      const read = await list(...args);
      expect(await taking.take()).toBe(true);
      return read;
    }) as StateStore["list"];
    expect(await state.removeFreeLeases(now, 10)).toBe(1);
    store.list = list;
    expect((await state.lease(SAMPLE_LEASE, sha(4)))?.owner).toMatch(/\//);
    await taking.release();
    expect((await store.list("lease")).map((r) => r.key)).toEqual([sha(3)]);
  });
});
