/**
 * The local journal's format under attack (src/store/journal-parts.ts, local-state-store.ts): parts and shapes cut
 * short at every byte, damaged, dropped by compaction and needed again, a compaction killed between its rename and
 * its unlink, a lock left by a killed process whose id this process now has, values JSON keeps only in part, a row
 * changed after it was written, two stores on one folder, and a journal written by the format before shapes.
 *
 * What a record must read back as: its value as JSON keeps it (the store's contract, `sameValue` in state-store.ts:
 * "equal as JSON"; the Azure Table store keeps the JSON text), so the oracle is `JSON.parse(JSON.stringify(value))`
 * of the value given, never what the store wrote. Rows have the columns of Defender's DeviceProcessEvents
 * (shared/schemas/DeviceProcessEvents.normalized.json), most of them empty strings as Log Analytics answers them.
 */

import { spawnSync } from "node:child_process";
import { copyFileSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { LocalStateStore, type StateKind } from "../../src/store/index.js";
import { tempDirs } from "../support/temp-dirs.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const columns: string[] = (
  JSON.parse(readFileSync(path.join(repoRoot, "../shared/schemas/DeviceProcessEvents.normalized.json"), "utf8")) as {
    columns: Array<{ name: string }>;
  }
).columns.map((c) => c.name);

const tempDir = tempDirs("journal-format");

/** A DeviceProcessEvents row: every column "" (Log Analytics' empty string) but the few a hit on /dev/shm sets. */
function row(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const c of columns) r[c] = "";
  Object.assign(r, {
    DeviceId: `device-${i}`,
    DeviceName: `host-${i}`,
    FileName: "kworkerd",
    FolderPath: "/dev/shm/.x/kworkerd",
    AccountName: "root",
    ProcessId: 4000 + i,
    InitiatingProcessId: null,
    ...extra,
  });
  return r;
}

const asJson = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;
const journals = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /^journal\.\d{10}$/.test(f))
    .sort();
/** The one generation left after compaction (the first is journal.0000000001). */
function compacted(dir: string): string {
  const names = journals(dir);
  expect(names).toHaveLength(1);
  expect(names[0]).not.toBe("journal.0000000001");
  return path.join(dir, names[0]!);
}

/** A batch from a store that compacts at any size (the journal is mostly dead lines), then the compaction. */
async function compactNow(dir: string): Promise<void> {
  const store = new LocalStateStore(dir, { compactAtBytes: 1 });
  await store.put("checkpoint", "compact", "now", { n: 1 });
  await store.close(); // waits for the compaction
}

async function readBack(dir: string, kind: StateKind, partition: string, keys: readonly string[]) {
  const store = new LocalStateStore(dir);
  try {
    const values = await store.getMany(kind, partition, keys);
    return { values, damaged: store.damaged() };
  } finally {
    await store.close();
  }
}

describe("local journal: a batch that introduces a shape and its part, cut short at every byte", () => {
  it("reads every record whole or not at all, and writes the shape again when its line was lost", async () => {
    const source = tempDir();
    const store = new LocalStateStore(source);
    const first = row(1);
    const second = row(2, { ProcessCommandLine: "/dev/shm/.x/kworkerd -d" });
    await store.put("hit", "r", "a", { status: "new", row: first }); // the first of its keys: written as it is
    const before = readFileSync(path.join(source, journals(source)[0]!)).length;
    await store.put("hit", "r", "b", { status: "new", row: second }); // its keys met before: shape, part, record
    await store.close();
    const file = journals(source)[0]!;
    const whole = readFileSync(path.join(source, file));
    expect(whole.subarray(before).toString().split("\n").length - 1).toBe(3); // shape, part, record lines
    let wholeReads = 0;
    for (let cut = before; cut <= whole.length; cut++) {
      const dir = tempDir();
      writeFileSync(path.join(dir, file), whole.subarray(0, cut));
      const { values } = await readBack(dir, "hit", "r", ["a", "b"]);
      expect(values[0], `cut at ${cut}`).toEqual(asJson({ status: "new", row: first }));
      if (values[1] !== undefined) {
        expect(values[1], `cut at ${cut}`).toEqual(asJson({ status: "new", row: second }));
        wholeReads++;
      }
      // Writing on after the cut (at each line's ends, and every 16th byte between: each a fdatasync): a row of the
      // same shape (this process knows the shape already).
      const nearEnd = [-2, -1, 0, 1, 2].some((d) => whole[cut + d] === 0x0a);
      if (!nearEnd && cut % 16 !== 0 && cut !== whole.length) {
        rmSync(dir, { recursive: true, force: true });
        continue;
      }
      const third = row(3);
      const writer = new LocalStateStore(dir);
      await writer.put("hit", "r", "c", { status: "new", row: third });
      // A line cut short is reported; one that lacks only its newline is whole (its checksum holds): read, not lost.
      const lacksNewline = whole[cut] === 0x0a;
      const torn = cut < whole.length && whole[cut - 1] !== 0x0a && !lacksNewline;
      expect(writer.damaged().length, `cut at ${cut}`).toBe(torn ? 1 : 0);
      await writer.close();
      const after = await readBack(dir, "hit", "r", ["a", "b", "c"]);
      expect(after.damaged.length, `cut at ${cut}`).toBe(torn ? 1 : 0); // the cut line stays, reported
      expect(after.values[0], `cut at ${cut}`).toEqual(asJson({ status: "new", row: first }));
      expect(after.values[1], `cut at ${cut}`).toEqual(
        cut >= whole.length - 1 ? asJson({ status: "new", row: second }) : undefined,
      );
      expect(after.values[2], `cut at ${cut}`).toEqual(asJson({ status: "new", row: third }));
      rmSync(dir, { recursive: true, force: true });
    }
    expect(wholeReads).toBe(1); // only the whole file holds b
  });

  it("a batch that writes nothing after a cut line (a create that found its record) leaves the next one whole", async () => {
    // A rerun after a kill: its first batch creates what the killed run had recorded (nothing to write), the next
    // one writes a row in a new shape; the cut line must not swallow that batch's first line (its shape).
    const dir = tempDir();
    const store = new LocalStateStore(dir);
    await store.put("hit", "r", "a", { row: row(1) });
    await store.close();
    const file = path.join(dir, journals(dir)[0]!);
    writeFileSync(
      file,
      Buffer.concat([readFileSync(file), Buffer.from('0badf00d\t{"o":"p","k":"hit","p":"r","y":"cut')]),
    );
    const rerun = new LocalStateStore(dir);
    expect(await rerun.create("hit", "r", "a", { row: row(1) })).toBe(false);
    const fresh = row(2, { [`NewColumn${Date.now()}`]: "x" }); // keys never met: written as it is, first line
    await rerun.put("hit", "r", "b", { row: fresh });
    expect(await rerun.get("hit", "r", "b")).toEqual(asJson({ row: fresh }));
    await rerun.close();
    const { values, damaged } = await readBack(dir, "hit", "r", ["a", "b"]);
    expect(values).toEqual([asJson({ row: row(1) }), asJson({ row: fresh })]);
    expect(damaged).toHaveLength(1); // the cut line
  });

  it("reports a record whose shape line is damaged, and never reads it with other keys", async () => {
    const dir = tempDir();
    const store = new LocalStateStore(dir);
    await store.put("hit", "r", "a", { row: row(1) });
    await store.put("hit", "r", "b", { row: row(2) });
    await store.close();
    const file = path.join(dir, journals(dir)[0]!);
    const lines = readFileSync(file, "utf8").split("\n");
    const shapeAt = lines.findIndex((l) => /"v":\["TenantId"/.test(l));
    expect(shapeAt).toBeGreaterThanOrEqual(0);
    lines[shapeAt] = lines[shapeAt]!.replace('"TenantId"', '"TenantIe"'); // its checksum no longer holds
    writeFileSync(file, lines.join("\n"));
    const { values, damaged } = await readBack(dir, "hit", "r", ["a", "b"]);
    // b is in the shape; a too when this process had met its keys before (in an earlier test): whole or reported.
    expect(values[1]).toBeUndefined();
    for (const [i, key] of (["a", "b"] as const).entries()) {
      if (values[i] === undefined) expect(damaged.some((d) => d.kind === "hit" && d.key === key)).toBe(true);
      else expect(values[i]).toEqual(asJson({ row: row(i + 1) }));
    }
    expect(damaged.some((d) => /checksum/.test(d.error))).toBe(true);
  });
});

describe("local journal: a batch of rows as arrays and frozen labels as parts, cut short at every byte", () => {
  it("reads every record whole or not at all; a process writing on after the cut writes the lost parts again", async () => {
    const source = tempDir();
    const store = new LocalStateStore(source);
    const labels = Object.freeze([
      "shmhunt",
      "rule:8c5e9d4a-0000-4000-8000-000000000001",
      "target:defender",
      "T1059",
      "verdict:match",
      "yara:shm_elf_dropper",
      "yara:memfd_exec",
    ]);
    const rows = [row(11), row(12), row(13, { FileName: "é🦀" })];
    await store.put("hit", "r", "seed", { row: row(10) }); // its keys met: the batch's rows are in their shape
    const before = readFileSync(path.join(source, journals(source)[0]!)).length;
    const values = rows.map((r, i) => ({ id: `b${i}`, labels, evidence: { row: r } }));
    await store.batch(values.map((value, i) => ({ op: "put", kind: "incident", partition: "r", key: `b${i}`, value })));
    await store.close();
    const file = journals(source)[0]!;
    const whole = readFileSync(path.join(source, file));
    const added = whole.subarray(before).toString();
    expect(added).toMatch(/"c":"[^"]+","a":\[/);
    expect(added).toContain('"v":["shmhunt"'); // the labels: a part of their own
    const keys = values.map((_, i) => `b${i}`);
    for (let cut = before; cut <= whole.length; cut++) {
      const dir = tempDir();
      writeFileSync(path.join(dir, file), whole.subarray(0, cut));
      const { values: read } = await readBack(dir, "incident", "r", keys);
      read.forEach((v, i) => {
        if (v !== undefined) expect(v, `cut at ${cut}`).toEqual(asJson(values[i]));
      });
      const nearEnd = [-2, -1, 0, 1, 2].some((d) => whole[cut + d] === 0x0a);
      if (nearEnd || cut % 64 === 0) {
        // This process met the labels and rows before (its caches hold their parts): written on after the cut.
        const writer = new LocalStateStore(dir);
        await writer.batch(
          values.map((value, i) => ({ op: "put", kind: "incident", partition: "r", key: `w${i}`, value })),
        );
        await writer.close();
        const after = await readBack(
          dir,
          "incident",
          "r",
          values.map((_, i) => `w${i}`),
        );
        expect(after.values, `cut at ${cut}`).toEqual(values.map((v) => asJson(v)));
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("local journal: compaction and shapes", () => {
  it("writes a shape again when compaction dropped its line, in this process and in a new one", async () => {
    const dir = tempDir();
    const store = new LocalStateStore(dir, { compactAtBytes: 1e12 });
    for (let i = 0; i < 20; i++) await store.put("hit", "r", `k${i}`, { row: row(i) });
    for (let i = 0; i < 20; i++) await store.delete("hit", "r", `k${i}`);
    await store.close();
    await compactNow(dir);
    expect(readFileSync(compacted(dir), "utf8")).not.toContain('"v":["TenantId"');
    // The same process (its caches know the shape) writes rows of that shape again.
    const again = new LocalStateStore(dir, { compactAtBytes: 4096 });
    await again.put("hit", "r", "x", { row: row(100) });
    await again.put("hit", "r", "y", { row: row(101) });
    await again.close();
    const { values, damaged } = await readBack(dir, "hit", "r", ["x", "y"]);
    expect(values).toEqual([asJson({ row: row(100) }), asJson({ row: row(101) })]);
    expect(damaged).toEqual([]);
  });

  it("a store that held a generation another store compacted writes its shapes into the new one", async () => {
    const dir = tempDir();
    const a = new LocalStateStore(dir, { compactAtBytes: 4096 });
    const b = new LocalStateStore(dir, { compactAtBytes: 1e12 });
    await b.put("hit", "r", "b0", { row: row(0) });
    await b.put("hit", "r", "b1", { row: row(1) }); // b wrote the shape
    await b.delete("hit", "r", "b0");
    await b.delete("hit", "r", "b1");
    for (let i = 0; i < 20; i++) await a.put("checkpoint", "r", `c${i}`, { filler: "x".repeat(400) });
    for (let i = 0; i < 20; i++) await a.delete("checkpoint", "r", `c${i}`);
    await a.put("checkpoint", "r", "last", { n: 1 });
    await a.close(); // compacted: the shape's line is gone
    expect(readFileSync(compacted(dir), "utf8")).not.toContain('"v":["TenantId"');
    await b.put("hit", "r", "b2", { row: row(2) });
    await b.close();
    const { values, damaged } = await readBack(dir, "hit", "r", ["b2"]);
    expect(values[0]).toEqual(asJson({ row: row(2) }));
    expect(damaged).toEqual([]);
  });

  it("a compaction killed between its rename and its unlink: a store holding the old generation writes to the new", async () => {
    // What a compactor killed right after `rename(temp, journal.<n+1>)` leaves: both generations, the newer a copy
    // of the live lines, the older still linked. The lock it held is released (its owner is gone).
    const dir = tempDir();
    const held = new LocalStateStore(dir);
    await held.put("hit", "r", "before", { row: row(1) });
    copyFileSync(path.join(dir, "journal.0000000001"), path.join(dir, "journal.0000000002"));
    await held.put("hit", "r", "after", { row: row(2) });
    await held.close();
    expect(journals(dir)).toEqual(["journal.0000000002"]); // the old one removed by the writer (under the lock)
    const { values } = await readBack(dir, "hit", "r", ["before", "after"]);
    expect(values).toEqual([asJson({ row: row(1) }), asJson({ row: row(2) })]);
  });

  it("a compaction killed between its rename and its unlink: the next process's writer removes the old generation", async () => {
    // The same leftovers, met by a process that never held the old generation (it opens the newest): the old one,
    // a whole copy of a journal, is removed by its first write (under the lock), not left for good.
    const dir = tempDir();
    const before = new LocalStateStore(dir);
    await before.put("hit", "r", "before", { row: row(1) });
    await before.close();
    copyFileSync(path.join(dir, "journal.0000000001"), path.join(dir, "journal.0000000002"));
    expect((await readBack(dir, "hit", "r", ["before"])).values).toEqual([asJson({ row: row(1) })]);
    expect(journals(dir)).toEqual(["journal.0000000001", "journal.0000000002"]); // a reader takes no lock
    const next = new LocalStateStore(dir);
    await next.put("hit", "r", "after", { row: row(2) });
    await next.close();
    expect(journals(dir)).toEqual(["journal.0000000002"]);
    const { values } = await readBack(dir, "hit", "r", ["before", "after"]);
    expect(values).toEqual([asJson({ row: row(1) }), asJson({ row: row(2) })]);
  });
});

describe("local journal: a journal opened in the order compaction writes it", () => {
  it("keeps a part's shape whose id a reader meets first when its index is full, through the next compaction", async () => {
    // Compaction writes the records, then their parts, then the parts' shapes: a reader meets a shape's id (a part's
    // "c") before the shape's line. Here the 1,024 records' parts fill the index's first columns, so the shape's
    // slot is the first of grown ones; the part is its shape's only user. (Lines as docs/service.md gives them.)
    const dir = tempDir();
    const line = (o: unknown) => {
      const body = JSON.stringify(o);
      return `${crc32(Buffer.from(body)).toString(16).padStart(8, "0")}\t${body}\n`;
    };
    let text = "";
    for (let i = 0; i < 1024; i++)
      text += line({
        o: "p",
        k: "hit",
        p: "x",
        y: `k${i}`,
        r: [[["row"], i === 1023 ? "P" : `p${i}`]],
        v: { row: null },
      });
    for (let i = 0; i < 1023; i++) text += line({ o: "b", y: `p${i}`, v: `plain ${i}` });
    text += line({ o: "b", y: "P", c: "S", a: [1, 2] });
    text += line({ o: "b", y: "S", v: ["a", "b"] });
    writeFileSync(path.join(dir, "journal.0000000001"), text);
    const store = new LocalStateStore(dir, { compactAtBytes: 1 });
    expect(await store.get("hit", "x", "k1023")).toEqual({ row: { a: 1, b: 2 } });
    // Dead lines, so that a compaction runs (the records written over).
    await store.batch(
      Array.from({ length: 1000 }, (_, i) => ({
        op: "put" as const,
        kind: "hit" as const,
        partition: "x",
        key: `k${i}`,
        value: { n: i },
      })),
    );
    await store.close();
    compacted(dir);
    const { values, damaged } = await readBack(dir, "hit", "x", ["k1023"]);
    expect(values).toEqual([{ row: { a: 1, b: 2 } }]);
    expect(damaged).toEqual([]);
  });
});

describe("local journal: what killed writers leave behind", () => {
  it("a compaction's copy and a lock's file left by a killed process are removed by the next compaction", async () => {
    const dir = tempDir();
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!; // a process that has exited
    const live = process.ppid;
    const left = [`.compact-${dead}-0badf00d`, `.lock-${dead}-0badf00d`, `.import-${dead}-0badf00d`];
    const kept = [`.compact-${live}-0badf00d`, `.lock-${live}-0badf00d`];
    const store = new LocalStateStore(dir, { compactAtBytes: 1e12 });
    for (let i = 0; i < 10; i++) await store.put("hit", "r", `k${i}`, { row: row(i) });
    for (let i = 0; i < 10; i++) await store.delete("hit", "r", `k${i}`);
    await store.close();
    for (const name of [...left, ...kept]) writeFileSync(path.join(dir, name), "x".repeat(1024));
    await compactNow(dir);
    compacted(dir);
    const names = readdirSync(dir);
    for (const name of left) expect(names).not.toContain(name);
    for (const name of kept) expect(names).toContain(name);
  });
});

describe("local journal: values", () => {
  it("a row changed after it was written is stored as it is when written again", async () => {
    const dir = tempDir();
    const store = new LocalStateStore(dir);
    const r = row(1);
    await store.put("hit", "r", "before", { row: r });
    const before = asJson({ row: r });
    r.FileName = "changed";
    r.ProcessCommandLine = "/dev/shm/.x/kworkerd --changed";
    await store.put("hit", "r", "after", { row: r });
    expect(await store.get("hit", "r", "after")).toEqual(asJson({ row: r }));
    await store.close();
    const { values } = await readBack(dir, "hit", "r", ["before", "after"]);
    expect(values).toEqual([before, asJson({ row: r })]);
  });

  it("a row whose nested value changed after it was written is stored as it is when written again", async () => {
    const dir = tempDir();
    const store = new LocalStateStore(dir);
    const r = row(1, { AdditionalFields: { Elevated: false, list: [1] } }); // a dynamic column, as an object
    await store.put("hit", "r", "before", { row: r });
    const before = asJson({ row: r });
    (r.AdditionalFields as { Elevated: boolean; list: number[] }).Elevated = true;
    (r.AdditionalFields as { Elevated: boolean; list: number[] }).list.push(2);
    await store.put("hit", "r", "after", { row: r });
    await store.close();
    const { values } = await readBack(dir, "hit", "r", ["before", "after"]);
    expect(values).toEqual([before, asJson({ row: r })]);
  });

  it("a row changed after it was written, then written again after compaction dropped its part", async () => {
    const dir = tempDir();
    const store = new LocalStateStore(dir, { compactAtBytes: 1e12 });
    const rows = Array.from({ length: 20 }, (_, i) => row(i));
    for (let i = 0; i < 20; i++) await store.put("hit", "r", `k${i}`, { row: rows[i] });
    for (let i = 0; i < 20; i++) await store.delete("hit", "r", `k${i}`);
    await store.close();
    await compactNow(dir);
    expect(readFileSync(compacted(dir), "utf8")).not.toContain('"v":["TenantId"');
    const r = rows[5]!;
    r.FileName = "changed";
    const again = new LocalStateStore(dir);
    await again.put("hit", "r", "k5", { row: r });
    await again.close();
    const { values, damaged } = await readBack(dir, "hit", "r", ["k5"]);
    expect(values[0]).toEqual(asJson({ row: r }));
    expect(damaged).toEqual([]);
  });

  it("keeps what JSON keeps of odd keys and values, in a row written as it is and in its shape", async () => {
    const dir = tempDir();
    const store = new LocalStateStore(dir);
    const odd = (i: number) => {
      const r = row(i, {
        'quote"key': 'a "quoted"\nvalue',
        "new\nline": "\u2028\u2029",
        "ünï©ødé 🦀": "🦀",
        "": "empty key",
        nan: Number.NaN,
        negativeZero: -0,
        infinite: Number.POSITIVE_INFINITY,
        nested: { a: [1, "", null, { b: "" }], "": "" },
        list: ["", null],
        nothing: null,
        blank: "",
        lone: "\ud800",
      });
      // An own key "__proto__", as JSON.parse makes it (a column of that name).
      Object.defineProperty(r, "__proto__", { value: { polluted: true }, enumerable: true, writable: true });
      return r;
    };
    const values = [odd(1), odd(2), odd(3)];
    for (let i = 0; i < values.length; i++) await store.put("hit", "r", `k${i}`, { row: values[i] });
    // Same keys with an undefined value (JSON leaves the key out): not a value its shape can keep.
    const withUndefined = odd(4);
    withUndefined.FileName = undefined;
    await store.put("hit", "r", "undef", { row: withUndefined });
    await store.close();
    const { values: read, damaged } = await readBack(dir, "hit", "r", ["k0", "k1", "k2", "undef"]);
    expect(damaged).toEqual([]);
    const expected = [...values, withUndefined].map((r) => asJson({ row: r }));
    for (let i = 0; i < expected.length; i++) {
      expect(JSON.stringify(read[i])).toBe(JSON.stringify(expected[i]));
      const back = (read[i] as { row: Record<string, unknown> }).row;
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
      expect(Object.hasOwn(back, "__proto__")).toBe(true);
      expect((back as { polluted?: unknown }).polluted).toBeUndefined();
    }
    expect(Object.hasOwn((read[3] as { row: object }).row, "FileName")).toBe(false);
  });

  it("keeps what JSON gives of a column with a toJSON, in a row written as it is and in its shape", async () => {
    // JSON writes such a value otherwise in an object than in an array: a toJSON answering undefined is left out
    // of an object and null in an array; one looking at its key is called with the column's name, not an index.
    const dir = tempDir();
    const store = new LocalStateStore(dir);
    const keyed = { toJSON: (key: string) => `at ${key}` };
    const written = [
      row(1, { AccountSid: keyed }),
      row(2, { AccountSid: keyed }),
      row(3, { AccountSid: { toJSON: () => undefined } }),
      row(4, { AccountSid: new Date("2026-03-01T10:00:00.000Z"), AccountUpn: new Date(Number.NaN) }),
      row(5, { AccountSid: new Date("2026-03-01T10:00:00.000Z"), AccountUpn: new Date(Number.NaN) }),
    ];
    for (let i = 0; i < written.length; i++) await store.put("hit", "r", `k${i}`, { row: written[i] });
    await store.close();
    const { values, damaged } = await readBack(dir, "hit", "r", ["k0", "k1", "k2", "k3", "k4"]);
    expect(damaged).toEqual([]);
    written.forEach((r, i) => {
      expect(JSON.stringify(values[i]), `row ${i}`).toBe(JSON.stringify({ row: r }));
    });
    // Dates (their toJSON neither answers undefined nor looks at its key) still go in the shape: one row's line.
    expect(readFileSync(path.join(dir, "journal.0000000001"), "utf8")).toContain('"a":["","');
  });

  it("writes a record whose value has a toJSON of its own as its toJSON gives it", async () => {
    const dir = tempDir();
    const store = new LocalStateStore(dir);
    const value = { row: row(1), toJSON: () => ({ summary: "one row" }) };
    await store.put("hit", "r", "k", value);
    expect(await store.get("hit", "r", "k")).toEqual(asJson(value));
    await store.close();
    const { values, damaged } = await readBack(dir, "hit", "r", ["k"]);
    expect(values).toEqual([asJson(value)]);
    expect(damaged).toEqual([]);
  });

  it("reads one row held at two places of a record as two values, as JSON gives them", async () => {
    const dir = tempDir();
    const store = new LocalStateStore(dir);
    const r = row(1);
    const value = { hit: { row: r }, incident: { evidence: { row: r } }, copy: row(1) };
    await store.put("hit", "r", "k", value);
    await store.close();
    const { values } = await readBack(dir, "hit", "r", ["k"]);
    const got = values[0] as typeof value;
    expect(got).toEqual(asJson(value));
    got.hit.row.FileName = "changed";
    expect(got.incident.evidence.row.FileName).toBe("kworkerd");
    expect(got.copy.FileName).toBe("kworkerd");
  });

  it('keeps "" apart from null and from a missing column', async () => {
    const dir = tempDir();
    const store = new LocalStateStore(dir);
    const base = row(1);
    const blank = { ...base, AccountSid: "" };
    const nul = { ...base, AccountSid: null };
    const { AccountSid: _dropped, ...missing } = base;
    const rows = { base, blank, nul, missing, blank2: { ...blank }, nul2: { ...nul }, missing2: { ...missing } };
    for (const [key, r] of Object.entries(rows)) await store.put("hit", "r", key, { row: r });
    await store.close();
    const keys = Object.keys(rows);
    const { values } = await readBack(dir, "hit", "r", keys);
    keys.forEach((key, i) => {
      expect(JSON.stringify(values[i]), key).toBe(JSON.stringify({ row: rows[key as keyof typeof rows] }));
    });
  });
});

describe("local journal: two stores on one folder", () => {
  it("creates decided once across two stores of one process, each reading the other's shapes", async () => {
    const dir = tempDir();
    const a = new LocalStateStore(dir);
    const b = new LocalStateStore(dir);
    const made = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 === 0 ? a : b).create("hit", "r", `k${i % 20}`, { row: row(i % 20) }),
      ),
    );
    for (let k = 0; k < 20; k++) expect(made[k]! !== made[k + 20]!).toBe(true); // one of each pair won
    for (const store of [a, b]) {
      const got = await store.getMany(
        "hit",
        "r",
        Array.from({ length: 20 }, (_, k) => `k${k}`),
      );
      expect(got).toEqual(Array.from({ length: 20 }, (_, k) => asJson({ row: row(k) })));
      expect(store.damaged()).toEqual([]);
    }
    await Promise.all([a.close(), b.close()]);
  });

  it("a lock left by a killed process whose id this process has now (a restarted container) is broken", async () => {
    const dir = tempDir();
    // The lock a killed predecessor left: its pid, which a restarted container's process gets again.
    writeFileSync(path.join(dir, "journal.lock"), String(process.pid));
    const store = new LocalStateStore(dir, { lockTimeoutMs: 2000 });
    await expect(store.put("checkpoint", "r", "c", { n: 1 })).resolves.toBeUndefined();
    await store.close();
  });
  it("a stale lock found by many waiters at once is broken once: each create still decided by one writer", async () => {
    // Eight stores (as eight processes would) find the lock of a process that has exited; each removed "the stale
    // lock" when it had found it, the later ones removing the first one's fresh lock: two writers at once.
    for (let round = 0; round < 10; round++) {
      const dir = tempDir();
      const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
      writeFileSync(path.join(dir, "journal.lock"), String(dead));
      const stores = Array.from({ length: 8 }, () => new LocalStateStore(dir));
      const made = await Promise.all(stores.map((s, i) => s.create("hit", "r", "x", { row: row(i) })));
      expect(made.filter(Boolean), `round ${round}`).toHaveLength(1);
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it("an empty lock, left by a writer killed between creating it and writing its pid, is broken", async () => {
    // Found by test/attacks/journal-kill.test.ts: the next writer waited lockTimeoutMs, failed, and so did every one.
    const dir = tempDir();
    const lock = path.join(dir, "journal.lock");
    writeFileSync(lock, "");
    const past = new Date(Date.now() - 60_000);
    utimesSync(lock, past, past);
    const store = new LocalStateStore(dir, { lockTimeoutMs: 2000 });
    await expect(store.put("checkpoint", "r", "c", { n: 1 })).resolves.toBeUndefined();
    await store.close();
  });

  it("a lock held by a live process (this test's parent) is waited for, then the write fails clearly", async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "journal.lock"), String(process.ppid));
    const store = new LocalStateStore(dir, { lockTimeoutMs: 300 });
    await expect(store.put("checkpoint", "r", "c", { n: 1 })).rejects.toThrow(/locked by another process/);
    await store.close();
  });
});

describe("local journal: written by the format before shapes (main at a8fa494)", () => {
  it("reads every record, then writes on in the new format and reads both", async () => {
    const fixture = path.join(import.meta.dirname, "fixtures", "journal-a8fa494");
    const dir = tempDir();
    copyFileSync(path.join(fixture, "journal.0000000001"), path.join(dir, "journal.0000000001"));
    const written = JSON.parse(readFileSync(path.join(fixture, "values.json"), "utf8")) as Array<
      [StateKind, string, string, unknown]
    >;
    const store = new LocalStateStore(dir);
    for (const [kind, partition, key, value] of written) expect(await store.get(kind, partition, key)).toEqual(value);
    expect(await store.get("hit", "rule|defender", "gone")).toBeUndefined();
    // The same rows written again by the new format (their keys are met: in shapes), and a new row.
    const rows = written.filter(([kind]) => kind === "hit").map(([, , , v]) => (v as { row: unknown }).row);
    for (let i = 0; i < rows.length; i++) await store.put("hit", "new", `h${i}`, { row: rows[i] });
    await store.put("hit", "new", "fresh", { row: row(7) });
    await store.close();
    const again = new LocalStateStore(dir);
    for (const [kind, partition, key, value] of written) expect(await again.get(kind, partition, key)).toEqual(value);
    for (let i = 0; i < rows.length; i++) expect(await again.get("hit", "new", `h${i}`)).toEqual({ row: rows[i] });
    expect(await again.get("hit", "new", "fresh")).toEqual(asJson({ row: row(7) }));
    expect(again.damaged()).toEqual([]);
    await again.close();
  });
});

describe("local journal: written with rows in shapes as their entries (main at 7a8b068)", () => {
  // Written by the store at 7a8b068 (rows met twice as `"c":<shape>,"v":{entries not ""}`), frozen labels inline.
  it("reads every record, then writes on with rows as arrays and reads both", async () => {
    const fixture = path.join(import.meta.dirname, "fixtures", "journal-7a8b068");
    const dir = tempDir();
    copyFileSync(path.join(fixture, "journal.0000000001"), path.join(dir, "journal.0000000001"));
    expect(readFileSync(path.join(dir, "journal.0000000001"), "utf8")).toMatch(/"c":"[^"]+","v":\{/);
    const written = JSON.parse(readFileSync(path.join(fixture, "values.json"), "utf8")) as Array<
      [StateKind, string, string, unknown]
    >;
    const store = new LocalStateStore(dir);
    for (const [kind, partition, key, value] of written) expect(await store.get(kind, partition, key)).toEqual(value);
    expect(await store.get("hit", "rule|defender", "gone")).toBeUndefined();
    // The same rows and labels written again by this format: rows as arrays in the shapes 7a8b068 wrote.
    const labels = Object.freeze((written.find(([kind]) => kind === "incident")![3] as { labels: string[] }).labels);
    const rows = written.filter(([kind]) => kind === "hit").map(([, , , v]) => (v as { row: unknown }).row);
    for (let i = 0; i < rows.length; i++) await store.put("incident", "new", `b${i}`, { labels, row: rows[i] });
    await store.close();
    expect(readFileSync(path.join(dir, "journal.0000000001"), "utf8")).toMatch(/"c":"[^"]+","a":\[/);
    const again = new LocalStateStore(dir);
    for (const [kind, partition, key, value] of written) expect(await again.get(kind, partition, key)).toEqual(value);
    for (let i = 0; i < rows.length; i++)
      expect(await again.get("incident", "new", `b${i}`)).toEqual({ labels: [...labels], row: rows[i] });
    expect(again.damaged()).toEqual([]);
    await again.close();
  });
});
