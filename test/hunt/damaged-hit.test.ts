/**
 * A hit whose record is found damaged (not of a hit's shape: skipped, reported, quarantined by HuntState)
 * when a run meets its row must still be recorded and settled ("no hit lost"). The create-if-absent of step 2 finds
 * the damaged record and answers false; the read that follows sets it aside. Until 8 December 2026 settleRows then
 * went on with the hit it built but never wrote it, and the run ended with no record of the hit at all; now a hit
 * whose record could not be read is recorded anew (and the local journal treats a record whose line is damaged as
 * absent once read, so that create succeeds).
 */
import { appendFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  type HuntDeps,
  HuntState,
  hitKey,
  LocalAlertWriter,
  recordVerdict,
  runHunts,
  type StoredVerdict,
} from "../../src/hunt/index.js";
import { LocalStateStore } from "../../src/store/index.js";
import { MemoryStateStore } from "../../src/store/memory-state-store.js";
import { clock, EventTable, execEvent, huntRule, MIN, plan } from "../support/hunt-fixtures.js";
import { tempDirs } from "../support/temp-dirs.js";

const tempDir = tempDirs("damaged-hit");

const SHA = "ef".repeat(32);
const match: StoredVerdict = {
  sha256: SHA,
  size: 100,
  matches: [{ rule: "Derusbi_shm", file: "shm-creation.yar" }],
  scannedAt: "2026-03-01T10:01:00.000Z",
};

describe("a damaged hit record met again by a run", () => {
  it("a gated hit (pending) whose damaged record was set aside is still recorded and alerts when its verdict comes", async () => {
    const store = new MemoryStateStore();
    const state = new HuntState(store);
    const time = clock("2026-03-01T10:00:00Z");
    const table = new EventTable();
    const gated = plan(
      huntRule({ gate: { mode: "require", yaraRules: ["shm-creation.yar"], pendingTimeoutMs: 60 * MIN } }),
    );
    const row = execEvent("2026-03-01T09:52:00Z", { SHA256: SHA });
    table.add(row);
    const key = hitKey(gated.rule.id, gated.target, row);
    // A damaged record under the hit's key (e.g. a torn value whose checksum held): not of a hit's shape.
    await store.put("hit", gated.rule.id, key, { damaged: true });
    const deps: HuntDeps = { state, queries: table, alerts: new LocalAlertWriter(state, time.now), clock: time.now };

    const tick = await runHunts([gated], deps);
    expect(tick.runs[0]).toMatchObject({ status: "completed", counts: { rows: 1, pending: 1 } });
    expect(state.damaged().length).toBeGreaterThan(0); // reported, as documented

    // The hit must still exist (pending on its sample) after the damaged record was set aside.
    expect((await state.hits()).map((h) => h.status)).toEqual(["pending"]);

    time.set("2026-03-01T10:01:00Z");
    await recordVerdict(match, [gated], deps);
    expect((await state.hits()).map((h) => h.status)).toEqual(["alerted"]);
    expect(await state.incidents()).toHaveLength(1);
  });

  it("an alerted hit whose damaged record was set aside has a hit record after the run", async () => {
    const store = new MemoryStateStore();
    const state = new HuntState(store);
    const time = clock("2026-03-01T10:00:00Z");
    const table = new EventTable();
    const p = plan(huntRule());
    const row = execEvent("2026-03-01T09:52:00Z");
    table.add(row);
    await store.put("hit", p.rule.id, hitKey(p.rule.id, p.target, row), { damaged: true });
    const deps: HuntDeps = { state, queries: table, alerts: new LocalAlertWriter(state, time.now), clock: time.now };

    const tick = await runHunts([p], deps);
    expect(tick.runs[0]).toMatchObject({ status: "completed", counts: { rows: 1, alerted: 1 } });
    expect(await state.incidents()).toHaveLength(1);
    const hits = await state.hits();
    expect(hits.map((h) => [h.status, h.incidentId])).toEqual([["alerted", (await state.incidents())[0]!.id]]);
  });

  it("local journal: a hit line whose checksum holds but whose value is not JSON (damaged) loses the hit", async () => {
    const dir = tempDir();
    const p = plan(huntRule());
    const row = execEvent("2026-03-01T09:52:00Z");
    const key = hitKey(p.rule.id, p.target, row);
    {
      const first = new HuntState(new LocalStateStore(dir));
      await first.putVerdict({ sha256: "00".repeat(32), size: 1, matches: [], scannedAt: "2026-03-01T09:00:00.000Z" });
      await first.close();
    }
    const journal = readdirSync(dir).find((f) => f.startsWith("journal.") && !f.endsWith(".lock"))!;
    const body = `{"o":"p","k":"hit","p":${JSON.stringify(p.rule.id)},"y":${JSON.stringify(key)},"v":{torn}`;
    appendFileSync(path.join(dir, journal), `${crc32(Buffer.from(body)).toString(16).padStart(8, "0")}\t${body}\n`);

    const state = new HuntState(new LocalStateStore(dir));
    try {
      const time = clock("2026-03-01T10:00:00Z");
      const table = new EventTable();
      table.add(row);
      const deps: HuntDeps = { state, queries: table, alerts: new LocalAlertWriter(state, time.now), clock: time.now };
      const tick = await runHunts([p], deps);
      expect(tick.runs[0]).toMatchObject({ status: "completed" });
      expect(tick.damaged?.length).toBeGreaterThan(0);
      expect(await state.incidents()).toHaveLength(1);
      expect((await state.hits()).map((h) => h.status)).toEqual(["alerted"]);
    } finally {
      await state.close();
    }
  });
});
