/**
 * The journal's index (src/store/journal-index.ts) against a model of what it stands for: each record's latest line,
 * each part's line, and the live bytes, defined as the store's compaction keeps them (every record's line, and the
 * line of every part a record refers to). The index keeps no names: a record whose hashes match is checked against
 * the names on its line, here a map from offset to names standing for the journal. The hashes are also replaced by
 * ones that put every record in one chain, or in two, so that the checks and the chains' unlinking are exercised.
 */
import { describe, expect, it } from "vitest";
import { JournalIndex, type NameHash, type Place, type RecordNames } from "../../src/store/journal-index.js";
import { seededRandom } from "../support/seeded-random.js";

interface ModelRecord {
  readonly place: Place;
  readonly parts: readonly string[];
}

/** The hashes, and how many steps: a chain of every record makes each step walk it, so those runs are shorter. */
const HASHES: Record<string, { hash: NameHash | undefined; steps: number }> = {
  "its own hashes": { hash: undefined, steps: 8000 },
  "one chain and one check for every record": {
    hash: (_group, _key, out) => {
      out[0] = 7;
      out[1] = 7;
    },
    steps: 2500,
  },
  "two chains, the checks alike": {
    hash: (_group, key, out) => {
      out[0] = key.length % 2;
      out[1] = 1;
    },
    steps: 2500,
  },
};

describe("the journal index", () => {
  for (const [name, { hash, steps }] of Object.entries(HASHES)) {
    it(`agrees with the model over random writes, deletes, parts and compactions (${name})`, () => {
      const next = seededRandom(name.length * 7919);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
      /** The journal: names on each record line (what `namesAt` reads). */
      const lines = new Map<number, RecordNames>();
      const index = new JournalIndex((place) => {
        const names = lines.get(place.offset);
        if (!names) throw new Error(`no record line at ${place.offset}`);
        return names;
      }, hash);
      const records = new Map<string, ModelRecord & RecordNames>();
      const parts = new Map<string, { place: Place; shape?: string }>();
      let end = 0;
      const place = () => {
        const length = 1 + Math.floor(next() * 500);
        const at = { offset: end, length };
        end += length;
        return at;
      };
      const kinds = ["hit", "incident"];
      const partitions = ["a", "b", "rule-1", "", "\u0000x"];
      // More records and parts than the index's first columns hold (1,024 slots each), so they grow on the way.
      const keys = Array.from({ length: 400 }, (_, i) => `key-${i}${"z".repeat(i % 3)}`);
      // More parts than records refer to at a time: parts are written, and re-written, unreferred as often as not.
      const partIds = Array.from({ length: 3000 }, (_, i) => `part-${i}`);
      const idOf = (kind: string, partition: string, key: string) => JSON.stringify([kind, partition, key]);
      const expectedLive = () => {
        let live = 0;
        const referred = new Set<string>();
        for (const r of records.values()) {
          live += r.place.length;
          for (const p of r.parts) referred.add(p);
        }
        for (const p of referred) live += parts.get(p)?.place.length ?? 0;
        return live;
      };

      for (let step = 0; step < steps; step++) {
        const kind = pick(kinds);
        const partition = pick(partitions);
        const key = pick(keys);
        const id = idOf(kind, partition, key);
        const roll = next();
        if (roll < 0.55) {
          const at = place();
          const refs = Array.from({ length: next() < 0.5 ? 0 : Math.floor(next() * 6) }, () => pick(partIds));
          lines.set(at.offset, { kind, partition, key });
          index.setRecord(kind, partition, key, at, refs);
          records.set(id, { place: at, parts: refs, kind, partition, key });
        } else if (roll < 0.72) {
          index.setRecord(kind, partition, key, undefined);
          records.delete(id);
        } else if (roll < 0.9) {
          const partId = pick(partIds);
          const at = place();
          const shape = next() < 0.3 ? pick(partIds) : undefined;
          index.setPart(partId, at, shape);
          parts.set(partId, shape === undefined ? { place: at } : { place: at, shape });
        } else if (roll < 0.92) {
          // A compaction: the records, then the parts they refer to and those parts' shapes, moved to a new file.
          const { lines: kept, moved } = index.compacted();
          const referred = new Set<string>();
          for (const r of records.values()) for (const p of r.parts) if (parts.has(p)) referred.add(p);
          // (A Set walked while it grows: a shape's own shape is kept too, as the store's compaction always did.)
          for (const p of referred) {
            const shape = parts.get(p)?.shape;
            if (shape !== undefined && parts.has(shape)) referred.add(shape);
          }
          expect(kept.length).toBe(records.size + referred.size);
          // The new generation's offsets: past every offset used so far, so the model's map of lines stays one to one.
          const offsets = kept.map((line) => {
            const at = end;
            end += line.length;
            return at;
          });
          const before = new Map(lines);
          moved(offsets);
          // Which line went where: each old offset to its new one, the model moved the same way.
          const to = new Map(kept.map((line, i) => [line.offset, offsets[i]!]));
          lines.clear();
          for (const [offset, names] of before) if (to.has(offset)) lines.set(to.get(offset)!, names);
          for (const [rid, r] of records)
            records.set(rid, { ...r, place: { ...r.place, offset: to.get(r.place.offset)! } });
          for (const [pid, p] of parts) {
            if (!referred.has(pid)) {
              parts.delete(pid);
              expect(index.part(pid)).toBeUndefined();
            } else parts.set(pid, { ...p, place: { ...p.place, offset: to.get(p.place.offset)! } });
          }
        }
        // After every step: the touched record, the live bytes, and a listing.
        const model = records.get(id);
        expect(index.has(kind, partition, key)).toBe(model !== undefined);
        expect(index.record(kind, partition, key)).toEqual(model?.place);
        // The unchecked places whose hashes match: the record's among them, no other with its names.
        const matching = index.matching(kind, partition, key);
        expect(matching.filter((at) => lines.get(at.offset)?.key === key)).toEqual(model ? [model.place] : []);
        expect(index.size).toBe(records.size);
        expect(index.live).toBe(expectedLive());
        if (step % 100 === 0) {
          for (const [pid, p] of parts) expect(index.part(pid)).toEqual(p.place);
          for (const r of records.values()) expect(index.record(r.kind, r.partition, r.key)).toEqual(r.place);
          const listed = index
            .recordsOf(kind)
            .map(({ partition: p, place: at }) => `${p}|${lines.get(at.offset)?.key}|${at.offset}`)
            .sort();
          const expected = [...records.values()]
            .filter((r) => r.kind === kind)
            .map((r) => `${r.partition}|${r.key}|${r.place.offset}`)
            .sort();
          expect(listed).toEqual(expected);
          expect(index.recordsOf(kind, partition).length).toBe(
            [...records.values()].filter((r) => r.kind === kind && r.partition === partition).length,
          );
        }
      }
    });
  }

  it("keeps a part's shape when making the shape's slot grows the columns (a journal opened in compaction's order)", () => {
    // Compaction writes records, then parts, then their shapes: a reader meets a part's shape id before its line.
    const index = new JournalIndex(() => {
      throw new Error("no names needed");
    });
    const first = 1024; // the index's first columns
    for (let i = 0; i < first - 1; i++) index.setPart(`part-${i}`, { offset: i, length: 1 });
    index.setRecord("hit", "p", "k", { offset: 5000, length: 10 }, ["row"]);
    index.setPart("row", { offset: 6000, length: 20 }, "shape"); // "shape" is the 1,025th part slot
    index.setPart("shape", { offset: 7000, length: 30 });
    const { lines } = index.compacted();
    expect(lines).toEqual([
      { offset: 5000, length: 10 },
      { offset: 6000, length: 20 },
      { offset: 7000, length: 30 },
    ]);
  });

  it("forgets a partition with its last record, and gives its number to another without mixing them", () => {
    const lines = new Map<number, RecordNames>();
    const index = new JournalIndex((at) => lines.get(at.offset)!);
    const put = (partition: string, key: string, offset: number) => {
      lines.set(offset, { kind: "pending", partition, key });
      index.setRecord("pending", partition, key, { offset, length: 1 });
    };
    for (let i = 0; i < 100; i++) put(`sample-${i}`, "hit", i);
    expect(index.partitions).toBe(100);
    for (let i = 0; i < 100; i++) index.setRecord("pending", `sample-${i}`, "hit", undefined);
    expect(index.partitions).toBe(0);
    // The last partition asked for is remembered: once gone, its number named another partition's records.
    put("a", "1", 200);
    expect(index.has("pending", "a", "1")).toBe(true);
    index.setRecord("pending", "a", "1", undefined);
    put("b", "1", 201);
    expect(index.has("pending", "a", "1")).toBe(false);
    expect(index.record("pending", "b", "1")).toEqual({ offset: 201, length: 1 });
    expect(index.recordsOf("pending", "a")).toEqual([]);
    expect(index.partitions).toBe(1);
  });

  it("keeps apart kinds and partitions that would read alike run together", () => {
    const lines = new Map<number, RecordNames>([
      [0, { kind: "hit\u0000", partition: "x", key: "k" }],
      [10, { kind: "hit", partition: "\u0000x", key: "k" }],
    ]);
    const index = new JournalIndex((at) => lines.get(at.offset)!);
    index.setRecord("hit\u0000", "x", "k", { offset: 0, length: 10 });
    expect(index.has("hit", "\u0000x", "k")).toBe(false);
    index.setRecord("hit", "\u0000x", "k", { offset: 10, length: 5 });
    expect(index.size).toBe(2);
    expect(index.recordsOf("hit")).toEqual([{ partition: "\u0000x", place: { offset: 10, length: 5 } }]);
    expect(index.record("hit\u0000", "x", "k")).toEqual({ offset: 0, length: 10 });
  });

  it("tells two records apart by the names on their lines when their hashes are alike", () => {
    const lines = new Map<number, RecordNames>([
      [0, { kind: "hit", partition: "p", key: "one" }],
      [10, { kind: "hit", partition: "p", key: "two" }],
    ]);
    const alike: NameHash = (_group, _key, out) => {
      out[0] = 1;
      out[1] = 1;
    };
    const index = new JournalIndex((at) => lines.get(at.offset)!, alike);
    index.setRecord("hit", "p", "one", { offset: 0, length: 10 });
    expect(index.has("hit", "p", "two")).toBe(false);
    index.setRecord("hit", "p", "two", { offset: 10, length: 5 });
    expect(index.record("hit", "p", "one")).toEqual({ offset: 0, length: 10 });
    expect(index.record("hit", "p", "two")).toEqual({ offset: 10, length: 5 });
    index.setRecord("hit", "p", "one", undefined);
    expect(index.has("hit", "p", "one")).toBe(false);
    expect(index.record("hit", "p", "two")).toEqual({ offset: 10, length: 5 });
    expect(index.live).toBe(5);
    // The chain's first record taken out (the last one written): the one behind it, in the first slot, stays.
    const again = new JournalIndex((at) => lines.get(at.offset)!, alike);
    again.setRecord("hit", "p", "one", { offset: 0, length: 10 });
    again.setRecord("hit", "p", "two", { offset: 10, length: 5 });
    again.setRecord("hit", "p", "two", undefined);
    expect(again.record("hit", "p", "one")).toEqual({ offset: 0, length: 10 });
    again.setRecord("hit", "p", "one", undefined);
    expect(again.size).toBe(0);
    expect(again.live).toBe(0);
  });
});
