/**
 * Randomized crash cuts: batches of records with rows (shapes), long strings met twice and frozen arrays; the last
 * batch cut at a random byte (a crash), then a new store reads, writes on (more batches, compaction), and a fresh
 * store reads every record: each is the value last written before the cut batch, or the cut batch's own value (it
 * may have landed), and after that exactly what was written. Oracle: JSON.parse(JSON.stringify(value)) at write.
 */
import { readdirSync, statSync, truncateSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LocalStateStore, type StateOp } from "../../src/store/index.js";
import { tempDirs } from "../support/temp-dirs.js";
import { makeGen } from "./random-values.js";

const tempDir = tempDirs("journal-crash");

function latest(dir: string): string {
  const names = readdirSync(dir)
    .filter((f) => /^journal\.\d{10}$/.test(f))
    .sort();
  return path.join(dir, names.at(-1)!);
}

async function run(seed: number) {
  const g = makeGen(seed);
  const dir = tempDir();
  const keys = ["a", "b", "c", "1", "2", "__proto__", "é"];
  const expected = new Map<string, string[]>(); // allowed JSON texts ("" = absent)
  const write = async (store: LocalStateStore, n: number) => {
    const ops: StateOp[] = [];
    for (let i = 0; i < n; i++) {
      const key = g.pick(keys);
      if (g.int(8) === 0) ops.push({ op: "delete", kind: "hit", partition: "p", key });
      else
        ops.push({
          op: "put",
          kind: "hit",
          partition: "p",
          key,
          value: { row: g.row(0), s: g.str(), nested: { row: g.row(1) }, v: g.value(0) },
        });
    }
    const texts = ops.map((op) => (op.op === "delete" ? "" : JSON.stringify(op.value)));
    await store.batch(ops);
    return { ops, texts };
  };
  // Before the crash.
  const a = new LocalStateStore(dir, { compactAtBytes: 1 });
  for (let b = 0; b < 10; b++) {
    const { ops, texts } = await write(a, 1 + g.int(5));
    ops.forEach((op, i) => {
      expected.set(op.key, [texts[i]!]);
    });
    for (let m = 0; m < 2; m++) g.mutate();
  }
  await a.close();
  const file = latest(dir);
  const before = statSync(file).size;
  const c = new LocalStateStore(dir, { compactAtBytes: 1 << 30 });
  const { ops, texts } = await write(c, 2 + g.int(5));
  await c.close();
  const after = statSync(file).size;
  const cut = before + g.int(after - before);
  truncateSync(file, cut);
  // Which values the cut batch may leave: before it, or any prefix of it.
  const allowed = new Map<string, Set<string>>();
  for (const [k, v] of expected) allowed.set(k, new Set(v));
  ops.forEach((op, i) => {
    allowed.set(op.key, (allowed.get(op.key) ?? new Set([""])).add(texts[i]!));
  });
  // A new store reads and writes on.
  const d = new LocalStateStore(dir, { compactAtBytes: 1 });
  for (const k of keys) {
    const got = await d.get("hit", "p", k);
    const text = got === undefined ? "" : JSON.stringify(got);
    expect(allowed.get(k) ?? new Set([""]), `after cut ${k} (cut ${cut} of ${before}..${after})`).toContain(text);
  }
  for (let b = 0; b < 6; b++) {
    g.mutate();
    const w = await write(d, 1 + g.int(4));
    w.ops.forEach((op, i) => {
      allowed.set(op.key, new Set([w.texts[i]!]));
    });
  }
  await d.close();
  const e = new LocalStateStore(dir);
  for (const k of keys) {
    const got = await e.get("hit", "p", k);
    const text = got === undefined ? "" : JSON.stringify(got);
    expect(allowed.get(k) ?? new Set([""]), `fresh ${k}`).toContain(text);
  }
  for (const d_ of e.damaged()) expect(d_.error).toMatch(/cut short|checksum|not a journal line/);
  await e.close();
}

describe("local journal: randomized crash cuts", () => {
  for (let seed = 1; seed <= 40; seed++) it(`seed ${seed}`, async () => run(seed * 7919));
});
