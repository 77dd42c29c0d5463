/**
 * A crash at every state write of a hunt, one crash point after the other (docs/service.md, "settle a window's hits
 * in batches"): the process dies at its n-th write with only the first k operations of that write landed, for every
 * n and every k, then fresh processes (a new HuntState over the same state) carry on: the scheduler's next ticks,
 * and the upload that was due. The oracle is the protocol's promise, not the code: afterwards the state is that of
 * a process never killed (the same hits with the same statuses and incidents, the same incidents with the same
 * bookmarks, the same pending index, no record left over), and a checkpoint found moved right after the kill stands
 * on a window whose every row is settled, with a pending hit always in the index, no hit alerted twice and never
 * more alerts counted than max_signals (a pending hit's late alert is not counted: docs/service.md, max_signals).
 *
 * A write's surviving prefix is taken in the order the store sends it (state-store.ts, `batch`): the batch's own
 * order (local journal, memory), or partition by partition in the order each partition first appears (Azure
 * Table, whose partition is the record's kind and partition; the memory store stands for it). Alerts are raised in
 * one write per batch (the local writer) or one at a time (as Sentinel's). Two scenarios, gated (`require`), hits
 * grouped by host (so an incident gathers hits of several batches), max_signals 4, batches of 3:
 *
 * - the late verdict settled by the pending sweep (sweepSettles): a run over 13 rows, where a matching sample
 *   alerts, a clean one closes the hit benign, a sample not scanned yet keeps it pending (two such samples in one
 *   batch), a row without a sample is unverified, one row comes twice; max_signals reached in the third batch. Then
 *   one unscanned sample's verdict comes, a match, and its two waiting hits alert into their hosts' incidents;
 * - the late verdict settled by the next run (nextRunSettles): a hit left pending by a run, its sample's verdict (a
 *   match) stored while the rule is not loaded, then the next run, whose overlapping window returns that row again
 *   beside new hits: it settles the pending hit (settleHits, its index entry dropped in the status write) in the
 *   batch where the new hits reach max_signals, the late alert not counted. That run is the process killed.
 */
import { describe, expect, it } from "vitest";
import {
  type HuntDeps,
  type HuntPlan,
  HuntState,
  LocalAlertWriter,
  recordVerdict,
  runHunts,
  type StoredVerdict,
} from "../../src/hunt/index.js";
import type { AlertWriter } from "../../src/sentinel/incidents.js";
import type { Row } from "../../src/sentinel/logs-query.js";
import { LocalStateStore, type StateOp, type StateStore } from "../../src/store/index.js";
import { MemoryStateStore } from "../../src/store/memory-state-store.js";
import { clock, EventTable, execEvent, huntRule, MIN, plan } from "../support/hunt-fixtures.js";
import { KilledStore, type KillPoint } from "../support/killed-store.js";
import { tempDirs } from "../support/temp-dirs.js";

const tempDir = tempDirs("crash-sweep");

/** Where a run dies: at its `write`-th state write (from 1), after the first `landed` operations of it. */
interface CrashPoint {
  readonly write: number;
  readonly landed: number;
}

/** The order a store sends a batch's operations in: the batch's own, or partition by partition (Azure Table). */
type SendOrder = "batch" | "partitions";

/** A batch's operations in the order the store sends them, so a crash leaves a prefix of that order. */
function sendOrder(ops: readonly StateOp[], order: SendOrder): readonly StateOp[] {
  if (order === "batch") return ops;
  // An Azure Table partition is the record's kind and partition (table-state-store.ts `partitionKey`).
  const byPartition = new Map<string, StateOp[]>();
  for (const op of ops) {
    const name = JSON.stringify([op.kind, op.partition]);
    const group = byPartition.get(name);
    if (group) group.push(op);
    else byPartition.set(name, [op]);
  }
  return [...byPartition.values()].flat();
}

/** Where a crash point kills a process (KilledStore): at its write, the first operations of the store's send order. */
function killAt(crash: CrashPoint | undefined, order: SendOrder): KillPoint | undefined {
  if (!crash) return undefined;
  return (ops, write) => (write === crash.write ? sendOrder(ops, order).slice(0, crash.landed) : undefined);
}

const T0 = "2026-03-01T10:00:00.000Z";
/** The lease a killed run leaves is free again after this long (a rerun comes that much later). */
const LEASE_MS = 1000;
const CAP = 4;
const SHA_MATCH = "ab".repeat(32);
const SHA_CLEAN = "cd".repeat(32);
const SHA_UNSCANNED = "ef".repeat(32);
const SHA_UNSCANNED_2 = "12".repeat(32);
const verdict = (sha256: string, rules: string[]): StoredVerdict => ({
  sha256,
  size: 100,
  matches: rules.map((rule) => ({ rule, file: "shm-creation.yar" })),
  scannedAt: "2026-03-01T09:00:00.000Z",
});

/** The gated, grouped, capped plan. */
const gatedPlan: HuntPlan = plan(
  huntRule({
    maxSignals: CAP,
    gate: { mode: "require", yaraRules: ["shm-creation.yar"], pendingTimeoutMs: 30 * MIN },
    grouping: { entities: ["Host"], windowMs: 5 * 60 * MIN },
  }),
);

/**
 * The window's rows, in the order the query returns them (batches of 3): per row its host and sample, and what the
 * gate makes of it. Made once: every process of a case queries the same rows (execEvent gives each a new pid).
 */
const ROWS = (() => {
  const rows: Array<[string, string | null]> = [
    ["web-01", SHA_MATCH], //        alert (1), incident of web-01
    ["web-01", SHA_CLEAN], //        benign
    ["web-02", SHA_UNSCANNED], //    pending
    ["web-01", SHA_MATCH], //        alert (2), web-01's incident again
    ["web-02", SHA_MATCH], //        alert (3), incident of web-02
    ["web-01", null], //             unverified
    ["web-02", SHA_MATCH], //        alert (4), web-02's incident again
    ["web-01", SHA_UNSCANNED], //    pending
    ["web-02", SHA_UNSCANNED_2], //  pending, for another sample (in a partition of its own)
    ["web-01", SHA_MATCH], //        overflow
    ["web-02", SHA_MATCH], //        overflow
    ["web-02", SHA_CLEAN], //        benign
  ];
  const start = Date.parse(T0) - 8 * MIN;
  const events = rows.map(([host, sha256], i) =>
    execEvent(new Date(start + i * 20_000).toISOString(), { DeviceName: host, SHA256: sha256 }),
  );
  // The fourth row once more in the same result (the same event twice, in another batch): settled once.
  events.splice(10, 0, events[3]!);
  return events;
})();

/**
 * The second scenario's rows, in the order the query returns them (batches of 3): the late hit's row, in the first
 * run's window and again in the next one's (which overlap by 4 minutes), then new hits in the next window only.
 */
const NEXT_RUN_ROWS = (() => {
  const late = execEvent("2026-03-01T09:57:00.000Z", { DeviceName: "web-02", SHA256: SHA_UNSCANNED });
  const rows: Array<[string, string]> = [
    ["web-01", "10:01:00"], // alert (1), incident of web-01
    ["web-02", "10:01:20"], // alert (2), incident of web-02
    ["web-01", "10:01:40"], // alert (3), web-01's incident again
    ["web-02", "10:02:00"], // alert (4): max_signals reached, then the late hit (web-02's incident, not counted)
    ["web-01", "10:02:20"], // overflow
  ];
  const events = rows.map(([host, time]) =>
    execEvent(`2026-03-01T${time}.000Z`, { DeviceName: host, SHA256: SHA_MATCH }),
  );
  events.splice(4, 0, late);
  return events;
})();

/** How alerts are raised: the local writer's one write per batch, or one alert at a time (as Sentinel's). */
type Raising = "one write per batch" | "one at a time";

function alertWriter(state: HuntState, now: () => Date, raising: Raising): AlertWriter {
  const local = new LocalAlertWriter(state, now);
  return raising === "one write per batch" ? local : { raise: (alert) => local.raise(alert) };
}

/** A state store that outlives the process using it: one folder, or one object standing for a table. */
interface Backing {
  /** The store a new process opens. */
  open(): StateStore;
  /** Gives up what the last process opened. */
  close(): Promise<void>;
}

const backings: Record<string, () => Backing> = {
  memory: () => {
    const store = new MemoryStateStore();
    return { open: () => store, close: async () => undefined };
  },
  "local journal": () => {
    const dir = tempDir();
    const opened: LocalStateStore[] = [];
    return {
      open: () => {
        const store = new LocalStateStore(dir);
        opened.push(store);
        return store;
      },
      close: async () => {
        for (const store of opened.splice(0)) await store.close();
      },
    };
  },
};

/** What a process does in a scenario, with what it was given. */
type Step = (deps: HuntDeps) => Promise<unknown>;

/**
 * A scenario: the events its queries find (each query the rows of its window), the verdicts known from the start,
 * what came before the process to kill (each step in a process of its own, never killed, `at` ms after T0), the
 * steps of the process to kill, in order (`at` ms after T0), and what comes after a kill: each step in a process
 * of its own, the first after the killed run's lease has expired. The step a crash stops is done again by the
 * processes after it: the scheduler runs the hunt on its next tick, and an upload that failed is sent again
 * (services.ts: a known sample's verdict is recorded again).
 */
interface Scenario {
  readonly rows: readonly Row[];
  readonly known: readonly StoredVerdict[];
  readonly before: ReadonlyArray<{ readonly at: number; readonly step: Step }>;
  readonly at: number;
  readonly steps: Readonly<Record<string, Step>>;
  readonly after: readonly Step[];
}

/** A process of a scenario: its state (over a store it opened) and what a hunt needs, at `ms` after T0. */
function processAt(scenario: Scenario, store: StateStore, raising: Raising, ms: number): HuntDeps {
  const state = new HuntState(store);
  const time = clock(T0);
  time.advance(ms);
  const queries = new EventTable();
  queries.add(...scenario.rows);
  return {
    state,
    queries,
    alerts: alertWriter(state, time.now, raising),
    clock: time.now,
    batchSize: 3,
    alertConcurrency: 1,
    leaseMs: LEASE_MS,
  };
}

/** The unscanned sample's verdict, when it comes: a match, so the hits waiting for it alert. */
const lateVerdict = verdict(SHA_UNSCANNED, ["Derusbi_shm"]);

/** A scheduler tick: the hunt's run (if due), then the pending sweep. */
const hunt: Step = async (deps) => {
  const report = await runHunts([gatedPlan], deps);
  for (const run of report.runs) if (run.error !== undefined) throw new Error(run.error);
};

/** The unscanned sample's verdict recorded (its upload scanned): the hits waiting for it are settled. */
const verdictRecorded: Step = (deps) => recordVerdict(lateVerdict, [gatedPlan], deps);

/** The late verdict comes when no run is due: the pending sweep settles the hits waiting for it. */
const sweepSettles: Scenario = {
  rows: ROWS,
  known: [verdict(SHA_MATCH, ["Derusbi_shm"]), verdict(SHA_CLEAN, [])],
  before: [],
  at: 0,
  steps: { hunt, verdict: verdictRecorded },
  after: [hunt, verdictRecorded, hunt],
};

/**
 * The late verdict comes before the next run and is not swept: the run at T0 leaves the late hit pending, its
 * sample's verdict is recorded a minute later while the rule is not loaded (its pending hit is left as it is:
 * sweepPending), and the run of T0 + 5 min, the process killed, settles it among the new hits of its window.
 */
const nextRunSettles: Scenario = {
  rows: NEXT_RUN_ROWS,
  known: [verdict(SHA_MATCH, ["Derusbi_shm"])],
  before: [
    { at: 0, step: hunt },
    { at: MIN, step: (deps) => recordVerdict(lateVerdict, [], deps) },
  ],
  at: 5 * MIN,
  steps: { hunt },
  after: [hunt, hunt],
};

/** The state as it was before the process to kill: where its checkpoint stood, and the hits waiting then. */
interface Prior {
  readonly checkpoint?: string;
  readonly pending: ReadonlySet<string>;
}

/**
 * A scenario whose process dies at `crash` (none: the census, never killed): the verdicts known and the steps
 * before it, then its steps over a KilledStore. Reports the store (its writes), the step it died in, the state
 * before it (`prior`), and the state its hunt step left (the census only).
 */
async function killedProcess(
  scenario: Scenario,
  backing: Backing,
  order: SendOrder,
  raising: Raising,
  crash?: CrashPoint,
): Promise<{ store: KilledStore; prior: Prior; diedIn?: string; afterHunt?: Outcome }> {
  const seeded = new HuntState(backing.open());
  for (const known of scenario.known) await seeded.putVerdict(known);
  for (const { at, step } of scenario.before) await step(processAt(scenario, backing.open(), raising, at));
  const prior = {
    checkpoint: (await seeded.checkpoint(gatedPlan.rule.id, gatedPlan.target))?.end,
    pending: new Set((await seeded.pending()).map((p) => p.key)),
  };
  const store = new KilledStore(backing.open(), killAt(crash, order));
  const deps = processAt(scenario, store, raising, scenario.at);
  let afterHunt: Outcome | undefined;
  for (const [name, step] of Object.entries(scenario.steps)) {
    try {
      await step(deps);
    } catch (error) {
      if (!store.dead) throw error;
      return { store, prior, diedIn: name };
    }
    // Killed in a write whose failure the step let go (a lease given up at its end): the process is dead all the same.
    if (store.dead) return { store, prior, diedIn: name };
    if (name === "hunt" && !crash) afterHunt = await outcome(deps.state);
  }
  return { store, prior, ...(afterHunt ? { afterHunt } : {}) };
}

/**
 * What comes after a kill (or after the scenario ran whole, for the outcome to compare with): the scenario's steps
 * after, each in a process of its own, the first after the killed run's lease has expired. Answers the state the
 * last one left.
 */
async function recovery(scenario: Scenario, backing: Backing, raising: Raising): Promise<HuntState> {
  let deps: HuntDeps | undefined;
  for (let i = 0; i < scenario.after.length; i++) {
    deps = processAt(scenario, backing.open(), raising, scenario.at + (i + 1) * LEASE_MS);
    await scenario.after[i]!(deps);
  }
  return deps!.state;
}

/** What the protocol promises about the state, in comparable form (ids are deterministic, times are not). */
async function outcome(state: HuntState) {
  const hits = (await state.hits()).map((h) => `${h.key} ${h.status} ${h.incidentId ?? "-"}`).sort();
  const incidents = [];
  /** The hits alerted, each once per incident it is in (its first hit's, and every bookmark's). */
  const alerts: string[] = [];
  for (const incident of await state.incidents()) {
    const bookmarks = await state.bookmarks(incident.id);
    alerts.push(...new Set([incident.hitKey, ...bookmarks.map((b) => b.hitKey)]));
    const ids = bookmarks.map((b) => b.id).sort();
    incidents.push(`${incident.id} ${incident.hitKey} ${incident.bookmarkId} [${ids.join(" ")}]`);
  }
  const pending = (await state.pending()).map((p) => `${p.sha256} ${p.key}`).sort();
  const signals = (await state.store.list("signals")).map((r) => `${r.partition} ${r.key}`);
  const checkpoint = (await state.checkpoint(gatedPlan.rule.id, gatedPlan.target)) !== undefined;
  const lease = (await state.lease(gatedPlan.rule.id, gatedPlan.target))?.owner ?? "none";
  // Every incident and bookmark record (none outside the incidents listed), and none set aside as damaged.
  const incidentRecords = (await state.store.list("incident")).length;
  const quarantined = (await state.store.list("quarantine")).length;
  return {
    hits,
    incidents: incidents.sort(),
    alerts: alerts.sort(),
    pending,
    signals,
    checkpoint,
    lease,
    incidentRecords,
    quarantined,
  };
}

type Outcome = Awaited<ReturnType<typeof outcome>>;

/** Where two outcomes differ: the names of the parts that do, each with what was found. */
function differences(found: Outcome, expected: Outcome): string[] {
  return (Object.keys(expected) as Array<keyof Outcome>)
    .filter((part) => JSON.stringify(found[part]) !== JSON.stringify(expected[part]))
    .map((part) => `${part}: ${JSON.stringify(found[part])}`);
}

/** The hits alerted against max_signals: every hit alerted, but those waiting before (a late alert is not counted). */
function counted(found: Outcome, prior: Prior): Set<string> {
  return new Set(found.alerts.filter((key) => !prior.pending.has(key)));
}

/**
 * The protocol's invariants on the state a kill in the hunt step left, before any rerun (`prior`: the state before
 * the process; `afterHunt`: the state the hunt step leaves when not killed): what breaks them.
 */
async function killedStateProblems(state: HuntState, prior: Prior, afterHunt: Outcome): Promise<string[]> {
  const problems: string[] = [];
  const found = await outcome(state);
  // A pending hit always has its index entry, so a sample's arrival finds it.
  for (const hit of await state.hits())
    if (hit.status === "pending" && !found.pending.includes(`${hit.sha256} ${hit.key}`))
      problems.push(`pending hit ${hit.key} without its index entry`);
  // Each hit alerted once at most, and max_signals never exceeded, even half-way.
  const twice = found.alerts.filter((key, i) => found.alerts[i - 1] === key);
  if (twice.length > 0) problems.push(`hits alerted twice: ${[...new Set(twice)].join(" ")}`);
  const alerted = counted(found, prior);
  if (alerted.size > CAP) problems.push(`${alerted.size} hits alerted against max_signals ${CAP}`);
  // The checkpoint moved only past a window whose every row is settled as the run never killed settles it.
  if ((await state.checkpoint(gatedPlan.rule.id, gatedPlan.target))?.end !== prior.checkpoint)
    for (const part of ["hits", "incidents", "pending"] as const)
      if (JSON.stringify(found[part]) !== JSON.stringify(afterHunt[part]))
        problems.push(`checkpoint moved with ${part} ${JSON.stringify(found[part])}`);
  return problems;
}

/**
 * The sweeps: a store, the order it sends a batch's operations in, and how the alerts are raised. The local journal
 * sends a batch in its order and serves the local writer, which raises a batch's alerts in one write; the memory
 * store also stands for a table (partition by partition) and for Sentinel's writer (one alert at a time).
 */
interface Sweep {
  readonly backing: keyof typeof backings;
  readonly order: SendOrder;
  readonly raising: Raising;
}

const sweeps: Sweep[] = [
  { backing: "memory", order: "batch", raising: "one write per batch" },
  { backing: "memory", order: "batch", raising: "one at a time" },
  { backing: "memory", order: "partitions", raising: "one write per batch" },
  { backing: "memory", order: "partitions", raising: "one at a time" },
  { backing: "local journal", order: "batch", raising: "one write per batch" },
];

const sweepName = ({ backing, order, raising }: Sweep) =>
  `${backing}, a write's operations landing in ${order} order, alerts raised ${raising}`;

/**
 * The scenario never killed: its process's writes (the crash points), the state before it and the state its hunt
 * step left, and the outcome once the processes after it ran (the one every kill must reach).
 */
async function census(scenario: Scenario, { backing, order, raising }: Sweep) {
  const never = backings[backing]!();
  try {
    const { store, prior, diedIn, afterHunt } = await killedProcess(scenario, never, order, raising);
    expect(diedIn).toBeUndefined();
    const expected = await outcome(await recovery(scenario, never, raising));
    return { writes: store.writes, prior, afterHunt: afterHunt!, expected };
  } finally {
    await never.close();
  }
}

/**
 * Kills the scenario's process at every crash point of its census (every write, every prefix of it), each in a
 * state of its own, then lets the processes after it carry on: what broke the protocol's promises, per crash point.
 */
async function crashSweep(
  scenario: Scenario,
  { backing: name, order, raising }: Sweep,
  { writes, afterHunt, expected }: Awaited<ReturnType<typeof census>>,
): Promise<{ points: number; failures: string[] }> {
  const points: CrashPoint[] = [];
  writes.forEach((kinds, i) => {
    for (let landed = 0; landed <= kinds.length; landed++) points.push({ write: i + 1, landed });
  });
  const failures: string[] = [];
  for (const crash of points) {
    const kinds = writes[crash.write - 1]!;
    const at = `killed at write ${crash.write} (${kinds.join(" ")}) after ${crash.landed} of its operations`;
    const backing = backings[name]!();
    try {
      const killed = await killedProcess(scenario, backing, order, raising, crash);
      if (!killed.diedIn) failures.push(`${at}: the crash point was not reached`);
      if (killed.diedIn === "hunt")
        for (const problem of await killedStateProblems(new HuntState(backing.open()), killed.prior, afterHunt))
          failures.push(`${at}: ${problem}`);
      const after = await outcome(await recovery(scenario, backing, raising));
      for (const problem of differences(after, expected)) failures.push(`${at}, after the reruns: ${problem}`);
    } finally {
      await backing.close();
    }
  }
  return { points: points.length, failures };
}

const statusesOf = (found: Outcome) => found.hits.map((h) => h.split(" ")[1]).sort();
const bookmarksPerIncident = (found: Outcome) => found.incidents.map((i) => i.split("[")[1]!.split(" ").length);

describe("a crash at every state write of a hunt and of a late verdict, then the processes after it", () => {
  for (const sweep of sweeps)
    it(sweepName(sweep), async () => {
      const never = await census(sweepSettles, sweep);
      const { afterHunt, expected } = never;
      expect(statusesOf(afterHunt)).toEqual([
        ...["alerted", "alerted", "alerted", "alerted"],
        ...["benign", "benign", "overflow", "overflow", "pending", "pending", "pending", "unverified"],
      ]);
      expect(bookmarksPerIncident(afterHunt)).toEqual([2, 2]);
      expect(afterHunt).toMatchObject({ signals: [], checkpoint: true, lease: "none" });
      expect(afterHunt.pending).toHaveLength(3);
      // The late verdict: the two hits waiting for it alert, each in its host's incident; the other sample's waits.
      expect(expected.hits.filter((h) => h.includes(" alerted "))).toHaveLength(6);
      expect(bookmarksPerIncident(expected)).toEqual([3, 3]);
      expect(expected.pending).toEqual([expect.stringMatching(new RegExp(`^${SHA_UNSCANNED_2} `))]);
      expect(expected).toMatchObject({
        signals: [],
        checkpoint: true,
        lease: "none",
        incidentRecords: 8,
        quarantined: 0,
      });

      const { points, failures } = await crashSweep(sweepSettles, sweep, never);
      expect(failures).toEqual([]);
      // Every write of both steps (66 crash points in 22 writes when this was written): the lease, per batch its
      // hits, count, alerts and statuses, the checkpoint, the lease given up; the verdict, then per hit waiting for
      // it its alert and its status.
      expect(never.writes.length).toBeGreaterThan(15);
      expect(points).toBeGreaterThan(50);
    });
});

describe("a crash at every state write of a run settling a pending hit whose verdict came, then the processes after it", () => {
  for (const sweep of sweeps)
    it(sweepName(sweep), async () => {
      const never = await census(nextRunSettles, sweep);
      const { prior, afterHunt, expected } = never;
      // Before the run: the late hit waiting, its verdict known.
      expect(prior.pending.size).toBe(1);
      const [late] = prior.pending;
      // The run: the late hit alerted once, in web-02's incident, beside max_signals' 4 new hits; the fifth overflows.
      expect(statusesOf(afterHunt)).toEqual(["alerted", "alerted", "alerted", "alerted", "alerted", "overflow"]);
      expect(afterHunt.hits).toContainEqual(expect.stringMatching(new RegExp(`^${late} alerted `)));
      expect(afterHunt.alerts.filter((key) => key === late)).toHaveLength(1);
      expect(counted(afterHunt, prior).size).toBe(CAP);
      expect(bookmarksPerIncident(afterHunt).sort()).toEqual([2, 3]);
      expect(afterHunt).toMatchObject({
        pending: [],
        signals: [],
        checkpoint: true,
        lease: "none",
        incidentRecords: 7,
      });
      // Nothing left for the ticks after it.
      expect(expected).toEqual({ ...afterHunt, quarantined: 0 });

      const { points, failures } = await crashSweep(nextRunSettles, sweep, never);
      expect(failures).toEqual([]);
      // Every write of the run (36 crash points in 11 writes when this was written, alerts in one write per batch):
      // the lease, per batch its hits, count, alerts and statuses, the checkpoint, the lease given up. The run settled
      // the late hit holding its sample's lease (taken, then given up: a write each), its status and its index entry
      // dropped in one write between them (8 December 2026: before, in the write of the batch's status record,
      // without the sample's lease, so the sample's arrival could settle it at the same time).
      const settling = never.writes.findIndex((kinds) => kinds.join() === "hit,pending");
      expect(settling).toBeGreaterThan(0);
      expect(never.writes.slice(0, settling).findLast((kinds) => kinds.includes("lease"))).toEqual(["lease"]);
      expect(never.writes.slice(settling + 1).find((kinds) => kinds.includes("lease"))).toEqual(["lease"]);
      expect(never.writes.slice(settling - 2, settling + 2).filter((kinds) => kinds.join() === "lease")).toHaveLength(
        2,
      );
      expect(points).toBeGreaterThan(30);
    });
});

describe("a run killed while it moves the checkpoint", () => {
  it("leaves no max_signals record of the window behind, once the processes after it ran", async () => {
    const never = backings.memory!();
    const { store } = await killedProcess(sweepSettles, never, "batch", "one write per batch");
    // The write moving the checkpoint also drops the window's max_signals records (three batches alerted).
    const write = store.writes.findIndex((kinds) => kinds.includes("checkpoint")) + 1;
    expect(store.writes[write - 1]).toEqual(expect.arrayContaining(["checkpoint", "signals", "signals", "signals"]));
    for (let landed = 0; landed <= store.writes[write - 1]!.length; landed++) {
      const backing = backings.memory!();
      await killedProcess(sweepSettles, backing, "batch", "one write per batch", { write, landed });
      const state = await recovery(sweepSettles, backing, "one write per batch");
      expect(await state.store.list("signals"), `killed after ${landed} operations`).toEqual([]);
    }
  });
});
