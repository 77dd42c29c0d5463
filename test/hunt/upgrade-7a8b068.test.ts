/**
 * An upgrade: a window hunted by the code at 7a8b068 (fixtures/state-7a8b068: its journal, and what it read back),
 * then the next, overlapping window hunted by this code on the same state. The events of both windows are
 * alerted once: the keys, incident keys and ids this code computes find the records 7a8b068 wrote, and what
 * 7a8b068 wrote reads back the same.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HuntState, LocalAlertWriter, type LocalIncident, runPlan } from "../../src/hunt/index.js";
import { LocalStateStore } from "../../src/store/index.js";
import { clock, EventTable, execEvent, huntRule, MIN, plan } from "../support/hunt-fixtures.js";

const fixture = path.join(import.meta.dirname, "fixtures", "state-7a8b068");
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The events 7a8b068 hunted (its window 09:51-10:00), and those after: one a minute from 09:50:30. */
function events(): EventTable {
  const table = new EventTable();
  const hosts = ["web-01", "dé-02 🦀", "db-03"];
  for (let m = 0; m < 20; m++)
    table.add(
      execEvent(new Date(Date.parse("2026-03-01T09:50:30Z") + m * MIN).toISOString(), {
        ProcessId: 5000 + m,
        DeviceName: hosts[m % 3],
        SHA256: m % 2 ? "ab".repeat(32) : "cd".repeat(32),
        FolderPath: `/dev/shm/é/${m}`,
        ReportId: m % 4 ? m : String(m),
      }),
    );
  return table;
}

describe("a state written by 7a8b068, hunted on by this version", () => {
  it("alerts nothing twice: the overlapping window's old events are duplicates, its new ones join their groups", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-upgrade-"));
    dirs.push(dir);
    copyFileSync(path.join(fixture, "journal.0000000001"), path.join(dir, "journal.0000000001"));
    const before = JSON.parse(readFileSync(path.join(fixture, "read.json"), "utf8")) as {
      incidents: LocalIncident[];
      bookmarks: Array<{ id: string; hitKey: string }>;
    };
    const store = new LocalStateStore(dir);
    const state = new HuntState(store);
    const time = clock("2026-03-01T10:05:00Z");
    const rule = huntRule({ grouping: { entities: ["Host", "FileHash"], windowMs: 5 * 60 * MIN } });
    const deps = { state, queries: events(), alerts: new LocalAlertWriter(state, time.now), clock: time.now };
    // What 7a8b068 wrote reads back as it read it.
    const asJson = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
    expect(asJson(await state.incidents())).toEqual(before.incidents);

    const report = await runPlan(plan(rule), deps);
    expect([report.counts.rows, report.counts.new, report.counts.duplicate, report.counts.alerted]).toEqual([
      9, 5, 4, 5,
    ]);
    const incidents = await state.incidents();
    // 3 hosts x 2 samples within one 5 h grouping window: the 6 incidents 7a8b068 created, none more.
    expect(incidents.map((i) => i.id).sort()).toEqual(before.incidents.map((i) => i.id).sort());
    const bookmarks = [];
    for (const incident of incidents) bookmarks.push(...(await state.bookmarks(incident.id)));
    expect(bookmarks).toHaveLength(before.bookmarks.length + 5);
    expect(new Set(bookmarks.map((b) => b.hitKey)).size).toBe(bookmarks.length);
    const old = new Map(before.bookmarks.map((b) => [b.id, b]));
    for (const b of bookmarks) if (old.has(b.id)) expect(asJson(b)).toEqual(old.get(b.id));
    expect(store.damaged()).toEqual([]);
    await store.close();
  });
});
