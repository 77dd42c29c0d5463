import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  type HuntDeps,
  HuntState,
  LocalAlertWriter,
  recordVerdict,
  runHunts,
  runPlan,
  type StoredVerdict,
} from "../../src/hunt/index.js";
import type { AlertRequest, AlertWriter, RaisedAlert } from "../../src/sentinel/incidents.js";
import type { StateStore } from "../../src/store/index.js";
import { clock, EventTable, execEvent, huntRule, MIN, plan } from "../support/hunt-fixtures.js";
import { KilledStore, killAtNth } from "../support/killed-store.js";
import { localStores } from "../support/local-stores.js";

const openLocal = localStores();

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(start = "2026-03-01T10:00:00Z", store?: StateStore) {
  const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-hunt-"));
  dirs.push(dir);
  const backing = store ?? openLocal(dir);
  const state = new HuntState(backing);
  const time = clock(start);
  const table = new EventTable();
  const alerts = new LocalAlertWriter(state, time.now);
  const deps: HuntDeps = { state, queries: table, alerts, clock: time.now };
  return { dir, state, time, table, alerts, deps, backing };
}

const SHA_MATCH = "ab".repeat(32);
const SHA_CLEAN = "cd".repeat(32);
const verdict = (sha256: string, rules: string[]): StoredVerdict => ({
  sha256,
  size: 100,
  matches: rules.map((rule) => ({ rule, file: "shm-creation.yar" })),
  scannedAt: "2026-03-01T10:00:00Z",
});

describe("hunt runs", () => {
  it("three overlapping runs alert every event exactly once", async () => {
    const { table, time, deps, state } = setup("2026-03-01T10:00:00Z");
    // Events every minute from 09:50 to 10:09: each falls in one, two or three of the windows.
    for (let m = 0; m < 20; m++)
      table.add(execEvent(new Date(Date.parse("2026-03-01T09:50:30Z") + m * MIN).toISOString()));
    const p = plan();
    const reports = [];
    for (let i = 0; i < 3; i++) {
      reports.push(await runPlan(p, deps));
      time.advance(5 * MIN);
    }
    expect(table.windows.map((w) => [w.start.toISOString(), w.end.toISOString()])).toEqual([
      ["2026-03-01T09:51:00.000Z", "2026-03-01T10:00:00.000Z"],
      ["2026-03-01T09:56:00.000Z", "2026-03-01T10:05:00.000Z"],
      ["2026-03-01T10:01:00.000Z", "2026-03-01T10:10:00.000Z"],
    ]);
    expect(reports.map((r) => [r.counts.rows, r.counts.new, r.counts.duplicate, r.counts.alerted])).toEqual([
      [9, 9, 0, 9],
      [9, 5, 4, 5],
      [9, 5, 4, 5],
    ]);
    const incidents = await state.incidents();
    expect(incidents).toHaveLength(19);
    expect(new Set(incidents.map((i) => i.hitKey)).size).toBe(19);
    expect(incidents[0]).toMatchObject({
      severity: "High",
      status: "New",
      title: "Binary Executed from Shared Memory Directory on web-01",
      labels: expect.arrayContaining(["rule:8c5e9d4a-0000-4000-8000-000000000001", "T1059", "verdict:none"]),
    });
    // The description ends with the result row printed (kept once, in the evidence, and printed when read).
    expect(incidents[0]!.description).toMatch(/^Binary Executed from Shared Memory Directory\n/);
    expect(
      incidents[0]!.description.endsWith(`\nResult row:\n${JSON.stringify(incidents[0]!.evidence.row, null, 2)}`),
    ).toBe(true);
    // In the order the query computes their columns.
    expect(incidents[0]!.evidence.entities.map((e) => e.entityType)).toEqual([
      "Host",
      "Account",
      "Process",
      "File",
      "FileHash",
    ]);
    // The hit's bookmark carries the same evidence (its entities read from its row, as stored).
    const [bookmark] = await state.bookmarks(incidents[0]!.id);
    expect(bookmark?.evidence).toEqual(incidents[0]!.evidence);
    expect(bookmark?.evidence.entities[0]).toEqual({
      entityType: "Host",
      fieldMappings: [{ identifier: "HostName", value: "web-01" }],
    });
  });

  it("does not run before the interval, and catches up after a failed run without skipping a range", async () => {
    const { table, time, deps, state } = setup();
    const p = plan();
    await runPlan(p, deps);
    time.advance(2 * MIN);
    expect((await runPlan(p, deps)).status).toBe("not-due");
    time.set("2026-03-01T10:05:00Z");
    table.failNext = 1;
    const failed = await runPlan(p, deps);
    expect(failed).toMatchObject({ status: "failed", error: "429 Too Many Requests" });
    expect((await state.checkpoint(p.rule.id, p.target))?.end).toBe("2026-03-01T10:00:00.000Z");
    // An event that landed during the failed window is found by the next run.
    table.add(execEvent("2026-03-01T10:02:00Z"));
    time.set("2026-03-01T10:10:00Z");
    const next = await runPlan(p, deps);
    expect(next.window).toEqual({ start: "2026-03-01T09:56:00.000Z", end: "2026-03-01T10:10:00.000Z" });
    expect(next.counts.alerted).toBe(1);
  });

  it("caps alerts at max_signals per run and counts the overflow", async () => {
    const { table, deps, state } = setup();
    for (let s = 0; s < 7; s++) table.add(execEvent(`2026-03-01T09:55:0${s}Z`));
    const report = await runPlan(plan(huntRule({ maxSignals: 3 })), deps);
    expect(report.counts).toMatchObject({ rows: 7, alerted: 3, overflow: 4 });
    expect(await state.incidents()).toHaveLength(3);
    const overflow = (await state.hits()).filter((h) => h.status === "overflow");
    expect(overflow).toHaveLength(4);
    expect(overflow[0]?.reason).toMatch(/max_signals \(3\)/);
  });
});

const gated = huntRule({
  id: "9d6f0e5b-0000-4000-8000-000000000002",
  name: "Shared memory creation",
  gate: { mode: "require", yaraRules: ["shm-creation.yar"], pendingTimeoutMs: 30 * MIN },
});

describe("the sample gate", () => {
  it("require: a hit waits for its sample and alerts when the sample matches", async () => {
    const { table, time, deps, state } = setup();
    table.add(execEvent("2026-03-01T09:58:00Z", { SHA256: SHA_MATCH }));
    const p = plan(gated);
    const first = await runPlan(p, deps);
    expect(first.counts).toMatchObject({ pending: 1, alerted: 0 });
    expect(await state.pending(SHA_MATCH)).toHaveLength(1);
    time.advance(1 * MIN);
    const resolved = await recordVerdict(verdict(SHA_MATCH, ["Derusbi_shm"]), [p], deps);
    expect(resolved).toMatchObject({ examined: 1, alerted: 1 });
    expect(await state.pending()).toEqual([]);
    const [incident] = await state.incidents();
    expect(incident?.labels).toEqual(expect.arrayContaining(["verdict:match", "yara:Derusbi_shm"]));
    expect(incident?.description).toContain("matched Derusbi_shm");
    // The overlapping next run sees the same event: already settled, nothing new.
    time.set("2026-03-01T10:05:00Z");
    expect((await runPlan(p, deps)).counts).toMatchObject({ rows: 1, duplicate: 1, alerted: 0 });
    expect(await state.incidents()).toHaveLength(1);
  });

  it("require: a clean sample closes the hit as benign, recorded", async () => {
    const { table, deps, state } = setup();
    await state.putVerdict(verdict(SHA_CLEAN, []));
    table.add(execEvent("2026-03-01T09:58:00Z", { SHA256: SHA_CLEAN }));
    expect((await runPlan(plan(gated), deps)).counts).toMatchObject({ benign: 1, alerted: 0 });
    const [hit] = await state.hits();
    expect(hit).toMatchObject({ status: "benign", verdict: { sha256: SHA_CLEAN } });
    expect(await state.incidents()).toEqual([]);
  });

  it("require: a sample that never arrives leaves the hit unverified after the timeout", async () => {
    const { table, time, deps, state } = setup();
    table.add(
      execEvent("2026-03-01T09:58:00Z", { SHA256: SHA_MATCH }),
      execEvent("2026-03-01T09:58:01Z", { SHA256: null }),
    );
    const p = plan(gated);
    expect((await runPlan(p, deps)).counts).toMatchObject({ pending: 1, unverified: 1 });
    time.advance(10 * MIN);
    expect((await runHunts([p], deps)).sweep).toMatchObject({ stillPending: 1, unverified: 0 });
    time.advance(25 * MIN);
    expect((await runHunts([p], deps)).sweep).toMatchObject({ unverified: 1 });
    expect((await state.hits()).map((h) => h.status).sort()).toEqual(["unverified", "unverified"]);
    expect(await state.pending()).toEqual([]);
    // A verdict arriving afterwards changes nothing.
    expect(await recordVerdict(verdict(SHA_MATCH, ["x"]), [p], deps)).toMatchObject({ examined: 0 });
    expect(await state.incidents()).toEqual([]);
  });

  it("annotate: alerts on behaviour and carries a verdict when one is known", async () => {
    const { table, deps, state } = setup();
    await state.putVerdict(verdict(SHA_CLEAN, []));
    table.add(execEvent("2026-03-01T09:58:00Z", { SHA256: SHA_CLEAN }));
    expect((await runPlan(plan(), deps)).counts.alerted).toBe(1);
    expect((await state.incidents())[0]?.labels).toContain("verdict:clean");
  });
});

/** An alert writer that dies (like a killed process) after `limit` alerts, before or after writing the last. */
class DyingWriter implements AlertWriter {
  count = 0;
  constructor(
    private readonly inner: AlertWriter,
    private readonly limit: number,
    private readonly dieAfterWrite: boolean,
  ) {}
  async raise(alert: AlertRequest): Promise<RaisedAlert> {
    this.count++;
    if (this.count === this.limit) {
      if (this.dieAfterWrite) await this.inner.raise(alert);
      throw new Error("killed");
    }
    return this.inner.raise(alert);
  }
}

describe("a run killed mid-way", () => {
  for (const [name, dieAfterWrite] of [
    ["before an incident is written", false],
    ["after an incident is written, before the hit is marked", true],
  ] as const) {
    it(`loses nothing and duplicates nothing: ${name}`, async () => {
      const { table, deps, state } = setup();
      for (let s = 0; s < 6; s++) table.add(execEvent(`2026-03-01T09:57:0${s}Z`));
      const p = plan();
      const dying = new DyingWriter(deps.alerts, 4, dieAfterWrite);
      const killed = await runHunts([p], { ...deps, alerts: dying });
      expect(killed.runs[0]).toMatchObject({ status: "failed", error: "killed" });
      expect(await state.checkpoint(p.rule.id, p.target)).toBeUndefined();
      const rerun = await runPlan(p, deps);
      expect(rerun.status).toBe("completed");
      const incidents = await state.incidents();
      expect(incidents).toHaveLength(6);
      expect(new Set(incidents.map((i) => i.id)).size).toBe(6);
      // The six hits are one batch: its alerts were in flight together (the 4th died, the 5th and 6th landed) and
      // no status was written, so the rerun settles all six, finding the incidents that exist.
      expect(rerun.counts).toMatchObject({ rows: 6, new: 0, duplicate: 0, alerted: 6 });
      expect(rerun.incidents).toHaveLength(dieAfterWrite ? 0 : 1);
      expect((await state.hits()).every((h) => h.status === "alerted")).toBe(true);
    });
  }

  it("loses nothing when killed between recording a hit and deciding it", async () => {
    const { dir, table, time, deps, state } = setup();
    table.add(execEvent("2026-03-01T09:57:00Z"), execEvent("2026-03-01T09:57:01Z"));
    const p = plan();
    // The third write of a hit record is the first row's status update: die there.
    const dying = new HuntState(new KilledStore(openLocal(dir), killAtNth("hit", 2)));
    await expect(runPlan(p, { ...deps, state: dying })).rejects.toThrow("killed");
    expect((await state.hits()).map((h) => h.status)).toEqual(["new"]);
    // The killed run never gave its lease up (docs/service.md, "One run of a rule at a time"): in this process, which
    // lives on, the next run comes once the lease has expired (2 minutes).
    time.advance(3 * MIN);
    await runPlan(p, deps);
    expect(await state.incidents()).toHaveLength(2);
    expect((await state.hits()).map((h) => h.status)).toEqual(["alerted", "alerted"]);
  });
});

describe("pending hits of a rule not loaded now", () => {
  it("are left pending, not settled, until the rule is back", async () => {
    const { table, deps, state } = setup();
    table.add(execEvent("2026-03-01T09:58:00Z", { SHA256: SHA_MATCH }));
    const p = plan(gated);
    await runPlan(p, deps);
    expect(await recordVerdict(verdict(SHA_MATCH, ["Derusbi_shm"]), [], deps)).toMatchObject({
      stillPending: 1,
      alerted: 0,
    });
    expect((await state.hits()).map((h) => h.status)).toEqual(["pending"]);
    expect(await runHunts([p], { ...deps })).toMatchObject({ sweep: { alerted: 1 } });
  });
});

describe("damaged state records", () => {
  it("are skipped, reported and set aside; the hunt and the incident list go on", async () => {
    const { dir, table, deps, state, backing } = setup();
    const p = plan();
    table.add(execEvent("2026-03-01T09:57:00Z"), execEvent("2026-03-01T09:57:01Z"));
    // A checkpoint whose end is not a time, an incident without its creation time, a hit without its row.
    await backing.put("checkpoint", p.rule.id, p.target, { end: "garbage", completedAt: "x" });
    await backing.put("incident", "local", "broken", { id: "broken" });
    await backing.put("hit", p.rule.id, "k-broken", { key: "k-broken", status: "alerted" });
    const report = await runHunts([p], deps);
    expect(report.runs[0]).toMatchObject({ status: "completed", counts: { rows: 2, alerted: 2 } });
    expect((await state.incidents()).map((i) => i.hitKey)).toHaveLength(2);
    expect((await state.hits()).map((h) => h.status)).toEqual(["alerted", "alerted"]);
    expect(
      state
        .damaged()
        .map((d) => d.where)
        .sort(),
    ).toEqual([
      "checkpoint/8c5e9d4a-0000-4000-8000-000000000001/defender",
      "hit/8c5e9d4a-0000-4000-8000-000000000001/k-broken",
      "incident/local/broken",
    ]);
    // The run itself met only the checkpoint (the other two were found by the listings above).
    expect(report.damaged?.map((d) => d.kind)).toEqual(["checkpoint"]);
    expect((await backing.list("quarantine")).map((r) => r.partition).sort()).toEqual([
      "checkpoint",
      "hit",
      "incident",
    ]);
    // A line of the journal cut short: the other records are read.
    appendFileSync(
      path.join(dir, "journal.0000000001"),
      '0badc0de\t{"o":"p","k":"incident","p":"local","y":"z","v":{"i',
    );
    expect(await new HuntState(openLocal(dir)).incidents()).toHaveLength(2);
  });
});
