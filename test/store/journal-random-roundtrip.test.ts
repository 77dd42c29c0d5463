/**
 * Randomized round-trips of the local journal: values with rows (>= 16 keys, shared shapes), long strings met twice,
 * frozen arrays, odd keys; objects mutated between writes; compaction; reopened in a fresh store.
 * Oracle: JSON.parse(JSON.stringify(value)) at the time each write was made.
 */
import { describe, expect, it } from "vitest";
import { LocalStateStore, type StateKind, type StateOp } from "../../src/store/index.js";
import { tempDirs } from "../support/temp-dirs.js";
import { makeGen } from "./random-values.js";

const tempDir = tempDirs("journal-random");

const asJson = (v: unknown) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
const kinds: StateKind[] = ["hit", "verdict", "incident", "checkpoint"];

async function run(seed: number, compactAtBytes: number) {
  const g = makeGen(seed);
  const dir = tempDir();
  const store = new LocalStateStore(dir, { compactAtBytes });
  const expected = new Map<string, unknown>();
  const id = (k: string, p: string, y: string) => JSON.stringify([k, p, y]);
  const partitions = ["p", "é", "0", ""];
  const keysOf = ["a", "b", "1", "10", "2", "__proto__", "😀", "x/y"];
  for (let b = 0; b < 40; b++) {
    const ops: StateOp[] = [];
    const n = 1 + g.int(6);
    for (let i = 0; i < n; i++) {
      const kind = g.pick(kinds);
      const partition = g.pick(partitions);
      const key = g.pick(keysOf);
      const c = g.int(10);
      if (c === 0) ops.push({ op: "delete", kind, partition, key });
      else if (c === 1) ops.push({ op: "create", kind, partition, key, value: { c: g.value(0), row: g.row(0) } });
      else {
        const top: Record<string, unknown> = {
          row: g.row(0),
          q: g.str(),
          nested: { row: g.row(1), deeper: { row: g.row(2), s: g.str() } },
          v: g.value(0),
        };
        ops.push({ op: "put", kind, partition, key, value: top });
      }
    }
    // The oracle, at the time of the write (the batch is awaited before anything is mutated).
    const snapshot = ops.map((op) => (op.op === "delete" ? undefined : JSON.stringify(op.value)));
    const results = await store.batch(ops);
    ops.forEach((op, i) => {
      const k = id(op.kind, op.partition, op.key);
      if (op.op === "delete") expected.delete(k);
      else if (op.op === "create") {
        expect(results[i]).toBe(!expected.has(k));
        if (results[i]) expected.set(k, JSON.parse(snapshot[i]!));
      } else expected.set(k, JSON.parse(snapshot[i]!));
    });
    for (let m = 0; m < 3; m++) g.mutate();
    // in-process check now and then
    if (b % 7 === 0) {
      for (const [k, v] of expected) {
        const [kind, p, y] = JSON.parse(k) as [StateKind, string, string];
        expect(asJson(await store.get(kind, p, y)), `in-process ${k} batch ${b}`).toEqual(v);
      }
    }
  }
  await store.close();
  const fresh = new LocalStateStore(dir);
  for (const [k, v] of expected) {
    const [kind, p, y] = JSON.parse(k) as [StateKind, string, string];
    const got = await fresh.get(kind, p, y);
    expect(asJson(got), `fresh ${k}`).toEqual(v);
    // structural compare also on JSON text (key order of a row)
    expect(JSON.stringify(got)).toBe(JSON.stringify(v));
  }
  let count = 0;
  for (const kind of kinds) count += (await fresh.list(kind)).length;
  expect(count).toBe(expected.size);
  expect(fresh.damaged()).toEqual([]);
  await fresh.close();
}

describe("local journal: randomized round-trips", () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`seed ${seed}, no compaction`, async () => run(seed, 1 << 30));
    it(`seed ${seed}, compaction at any size`, async () => run(seed * 101, 1));
  }
});
