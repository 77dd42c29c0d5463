/**
 * The local state journal's own crash safety (src/store/local-state-store.ts, journal-parts.ts): a real child
 * process writes batches of records whose rows bring new shapes and parts (a new column every few batches, so a
 * batch writes a row as it is, then the shape's line, the part's line and the record's), deletes older ones and
 * compacts as it goes; it is killed with SIGKILL at points of its appends, five times, and run again each time.
 * After every kill a fresh store reads: every batch the child saw acknowledged (fdatasync'd) is there, every record
 * reads back exactly as written (its value as JSON keeps it), and nothing else is reported but lines a kill cut.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LocalStateStore } from "../../src/store/index.js";
import { collect } from "../support/cli-process.js";
import { until } from "./serve.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Defender's DeviceProcessEvents columns (shared/schemas): a result row's keys. */
const columns: string[] = (
  JSON.parse(readFileSync(path.join(repoRoot, "../shared/schemas/DeviceProcessEvents.normalized.json"), "utf8")) as {
    columns: Array<{ name: string }>;
  }
).columns.map((c) => c.name);

const ROWS_PER_BATCH = 5;
/** Batches whose records stay: batch i deletes batch i - KEPT's. */
const KEPT = 3;
/** The journal size past which the writers compact: small, so that several compactions run (and are killed). */
const COMPACT_AT = 16 * 1024;

/**
 * The record `k<i>-<j>` as the child writes it: a row of the table's columns (all "" as Log Analytics answers an
 * empty string, but a few), a column `Extra<n>` that changes every fourth batch (new keys: a new shape), and a
 * query text of 600 characters in every record (a long string met again: a part).
 */
function expected(i: number, j: number): unknown {
  const row: Record<string, unknown> = {};
  for (const c of columns) row[c] = "";
  Object.assign(row, { DeviceId: `device-${i}-${j}`, DeviceName: `host-${j}`, ProcessId: i * 10 + j, ReportId: null });
  row[`Extra${Math.floor(i / 4)}`] = j % 2 === 0 ? "" : `x${i}`;
  return {
    status: "new",
    batch: i,
    query: `DeviceProcessEvents | where FolderPath startswith "/dev/shm/" ${"|".repeat(560)}`,
    row,
  };
}

/** The child: batches from `from` on, forever; prints `ok <i>` once batch i is durable. */
function writer(dir: string, from: number): ChildProcess {
  const script = `
    import { readFileSync } from "node:fs";
    import { LocalStateStore } from "./src/store/local-state-store.ts";
    const expected = ${expected.toString()};
    const columns = ${JSON.stringify(columns)};
    const store = new LocalStateStore(${JSON.stringify(dir)}, { compactAtBytes: ${COMPACT_AT} });
    for (let i = ${from}; ; i++) {
      const ops = [];
      for (let j = 0; j < ${ROWS_PER_BATCH}; j++)
        ops.push({ op: "put", kind: "hit", partition: "p", key: "k" + i + "-" + j, value: expected(i, j) });
      for (let j = 0; j < ${ROWS_PER_BATCH}; j++)
        ops.push({ op: "delete", kind: "hit", partition: "p", key: "k" + (i - ${KEPT}) + "-" + j });
      await store.batch(ops);
      process.stdout.write("ok " + i + "\\n");
    }`;
  return spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

describe("the state journal's writer killed (SIGKILL) mid-append, five times, then run again", () => {
  it("keeps every acknowledged batch, reads every record as written, reports only lines a kill cut", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-attack-journal-"));
    dirs.push(dir);
    let next = 0;
    const kills = 5;
    for (let round = 0; round < kills; round++) {
      const child = writer(dir, next);
      const output = collect(child);
      const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      const acked = () => [...output.out().matchAll(/^ok (\d+)$/gm)].map((m) => Number(m[1]));
      // Killed after a number of batches that differs each round (every fourth batch brings a new shape).
      const wanted = next + 3 + round * 5;
      let exited = false;
      void exit.then(() => {
        exited = true;
      });
      await until(() => acked().some((i) => i >= wanted) || exited, "the writer's batches", 60_000);
      child.kill("SIGKILL");
      expect(await exit, `the writer ended before it was killed: ${output.err()}`).toBeNull();
      expect(acked().length, output.err()).toBeGreaterThan(0);
      const last = Math.max(...acked());
      const store = new LocalStateStore(dir);
      try {
        const records = await store.list<{ batch: number }>("hit", "p");
        // Acknowledged: batch `last` and the KEPT - 1 before it (batch last + 1, maybe half written, deletes one).
        for (let i = Math.max(0, last - KEPT + 2); i <= last; i++)
          for (let j = 0; j < ROWS_PER_BATCH; j++)
            expect(
              records.some((r) => r.key === `k${i}-${j}`),
              `k${i}-${j} (last acknowledged ${last})`,
            ).toBe(true);
        for (const record of records) {
          const [i, j] = record.key.slice(1).split("-").map(Number) as [number, number];
          expect(record.value, record.key).toEqual(JSON.parse(JSON.stringify(expected(i, j))));
          expect(i).toBeLessThanOrEqual(last + 1);
        }
        // Only the lines the kills cut (one each at most, found when the next writer appended after them).
        expect(store.damaged().length).toBeLessThanOrEqual(round);
        next = Math.max(last + 1, ...records.map((r) => r.value.batch + 1));
      } finally {
        await store.close();
      }
    }
    // The writers compacted on the way, and what a kill left of a compaction is undone by the next writer: a
    // generation beside a newer one (a compactor killed between its rename and its unlink) removed, a compaction
    // killed before its rename run again. After one more write, one generation, not the first.
    const last = new LocalStateStore(dir, { compactAtBytes: COMPACT_AT });
    await last.put("checkpoint", "p", "after", { kills });
    await last.close();
    const generations = readdirSync(dir).filter((name) => /^journal\.\d+$/.test(name));
    expect(generations).toHaveLength(1);
    expect(generations).not.toContain("journal.0000000001");
  }, 120_000);

  it("two writers on one folder at once: every create decided once, each reading the other's shapes and parts", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-attack-journal-two-"));
    dirs.push(dir);
    /** Creates k<i>-<j> for 40 batches (the same keys in both), printing `created <key>` for each it won. */
    const creator = () =>
      spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          "--input-type=module",
          "-e",
          `
          import { LocalStateStore } from "./src/store/local-state-store.ts";
          const expected = ${expected.toString()};
          const columns = ${JSON.stringify(columns)};
          const store = new LocalStateStore(${JSON.stringify(dir)}, { compactAtBytes: 32 * 1024 });
          for (let i = 0; i < 40; i++) {
            const ops = [];
            for (let j = 0; j < ${ROWS_PER_BATCH}; j++)
              ops.push({ op: "create", kind: "hit", partition: "p", key: "k" + i + "-" + j, value: expected(i, j) });
            const made = await store.batch(ops);
            made.forEach((m, j) => m && process.stdout.write("created k" + i + "-" + j + "\\n"));
          }
          await store.close();`,
        ],
        { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
      );
    const runs = [creator(), creator()].map((child) => {
      const output = collect(child);
      return new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
        child.once("exit", (code) => resolve({ code, out: output.out(), err: output.err() })),
      );
    });
    const [a, b] = await Promise.all(runs);
    expect(a!.code, a!.err).toBe(0);
    expect(b!.code, b!.err).toBe(0);
    const won = (out: string) => [...out.matchAll(/^created (\S+)$/gm)].map((m) => m[1]!);
    const all = [...won(a!.out), ...won(b!.out)];
    expect(all).toHaveLength(40 * ROWS_PER_BATCH);
    expect(new Set(all).size).toBe(all.length);
    const store = new LocalStateStore(dir);
    try {
      const records = await store.list("hit", "p");
      expect(records).toHaveLength(40 * ROWS_PER_BATCH);
      for (const record of records) {
        const [i, j] = record.key.slice(1).split("-").map(Number) as [number, number];
        expect(record.value, record.key).toEqual(JSON.parse(JSON.stringify(expected(i, j))));
      }
      expect(store.damaged()).toEqual([]);
    } finally {
      await store.close();
    }
  }, 120_000);
});
