import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { localStores } from "../support/local-stores.js";
import { stateBackends } from "../support/state-backends.js";
import { tempDirs } from "../support/temp-dirs.js";
import { until } from "../support/until.js";

/** The files in a store folder's quarantine (none before it exists). */
const quarantined = (dir: string): string[] => {
  const folder = path.join(dir, "quarantine");
  return existsSync(folder) ? readdirSync(folder) : [];
};

const tempDir = tempDirs("state");
const local = localStores();
const backends = stateBackends("state");

describe.each(backends)("state store: %s", (_name, make) => {
  it("creates a record once and reports who created it", async () => {
    const store = await make();
    expect(await store.create("hit", "rule-1", "k1", { status: "pending" })).toBe(true);
    expect(await store.create("hit", "rule-1", "k1", { status: "other" })).toBe(false);
    expect(await store.get("hit", "rule-1", "k1")).toEqual({ status: "pending" });
  });

  it("lets exactly one of many concurrent creators win", async () => {
    const store = await make();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.create("incident", "local", "inc-1", { writer: i })),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect(await store.get("incident", "local", "inc-1")).toEqual({ writer: winner });
  });

  it("replaces, deletes idempotently and answers undefined for a missing record", async () => {
    const store = await make();
    await store.put("checkpoint", "rule-1", "defender", { end: "2026-01-01T00:05:00.000Z" });
    await store.put("checkpoint", "rule-1", "defender", { end: "2026-01-01T00:10:00.000Z" });
    expect(await store.get("checkpoint", "rule-1", "defender")).toEqual({ end: "2026-01-01T00:10:00.000Z" });
    await store.delete("checkpoint", "rule-1", "defender");
    await store.delete("checkpoint", "rule-1", "defender");
    expect(await store.get("checkpoint", "rule-1", "defender")).toBeUndefined();
    expect(await store.get("verdict", "x", "y")).toBeUndefined();
  });

  it("deletes a record given the value expected only while it still holds that value (compare-and-delete)", async () => {
    const store = await make();
    const held = { owner: "host/1/a", expiresAt: "2026-03-01T10:02:00.000Z" };
    const taken = { owner: "host/2/b", expiresAt: "2026-03-01T10:04:00.000Z" };
    await store.put("lease", "shmhunt-sample", "s1", held);
    // Another holder took it meanwhile: the first one's delete removes nothing.
    expect(
      await store.batch([
        { op: "swap", kind: "lease", partition: "shmhunt-sample", key: "s1", expected: held, value: taken },
      ]),
    ).toEqual([true]);
    expect(
      await store.batch([{ op: "delete", kind: "lease", partition: "shmhunt-sample", key: "s1", expected: held }]),
    ).toEqual([false]);
    expect(await store.get("lease", "shmhunt-sample", "s1")).toEqual(taken);
    // Its holder's delete removes it; once more (nothing there) is answered false, and a plain delete still succeeds.
    expect(
      await store.batch([{ op: "delete", kind: "lease", partition: "shmhunt-sample", key: "s1", expected: taken }]),
    ).toEqual([true]);
    expect(await store.get("lease", "shmhunt-sample", "s1")).toBeUndefined();
    expect(await store.list("lease")).toEqual([]);
    expect(
      await store.batch([{ op: "delete", kind: "lease", partition: "shmhunt-sample", key: "s1", expected: taken }]),
    ).toEqual([false]);
    await store.put("lease", "shmhunt-sample", "s2", held);
    // In a batch with other writes: each keeps its place and its own answer.
    expect(
      await store.batch([
        { op: "put", kind: "hit", partition: "rule-1", key: "k", value: 1 },
        { op: "delete", kind: "lease", partition: "shmhunt-sample", key: "s2", expected: taken },
        { op: "delete", kind: "lease", partition: "shmhunt-sample", key: "s2", expected: held },
        { op: "create", kind: "lease", partition: "shmhunt-sample", key: "s2", value: taken },
      ]),
    ).toEqual([true, false, true, true]);
    expect(await store.get("lease", "shmhunt-sample", "s2")).toEqual(taken);
    expect(await store.get("hit", "rule-1", "k")).toBe(1);
  });

  it("lets one of two concurrent compare-and-deletes and a create after them decide the record once", async () => {
    const store = await make();
    const held = { owner: "host/1/a", expiresAt: "2026-03-01T10:02:00.000Z" };
    await store.put("lease", "p", "k", held);
    const deletes = await Promise.all(
      Array.from({ length: 4 }, () =>
        store.batch([{ op: "delete", kind: "lease", partition: "p", key: "k", expected: held }]),
      ),
    );
    expect(deletes.flat().filter(Boolean)).toHaveLength(1);
    expect(await store.get("lease", "p", "k")).toBeUndefined();
  });

  it("lists by kind and by partition, keeping awkward keys intact", async () => {
    const store = await make();
    const awkward = "a/b\\c#d?e'f%g é.json";
    await store.put("pending", "sha-b", "k2", 2);
    await store.put("pending", "sha-a", awkward, 1);
    await store.put("pending", "sha-a", "k3", 3);
    await store.put("hit", "sha-a", "not-pending", 0);
    expect((await store.list("pending")).map((r) => [r.partition, r.key, r.value])).toEqual([
      ["sha-a", awkward, 1],
      ["sha-a", "k3", 3],
      ["sha-b", "k2", 2],
    ]);
    expect((await store.list("pending", "sha-b")).map((r) => r.key)).toEqual(["k2"]);
    expect(await store.list("incident")).toEqual([]);
  });

  it("keeps apart names that differ only in where a NUL falls, and lists each under its own names", async () => {
    // Names are any strings (state-store.ts); the stores' in-memory ids must not run two of them together.
    const store = await make();
    await store.put("hit", "a\u0000b", "c", 1);
    expect(await store.create("hit", "a", "b\u0000c", 2)).toBe(true);
    expect(await store.create("hit", "a\u0000", "bc", 3)).toBe(true);
    expect(await store.get("hit", "a\u0000b", "c")).toBe(1);
    expect(await store.get("hit", "a", "b\u0000c")).toBe(2);
    expect(await store.get("hit", "a\u0000", "bc")).toBe(3);
    expect((await store.list("hit", "a")).map((r) => [r.partition, r.key, r.value])).toEqual([["a", "b\u0000c", 2]]);
    expect((await store.list("hit")).map((r) => [r.partition, r.key, r.value])).toEqual([
      ["a", "b\u0000c", 2],
      ["a\u0000", "bc", 3],
      ["a\u0000b", "c", 1],
    ]);
    await store.delete("hit", "a", "b\u0000c");
    expect(await store.get("hit", "a\u0000b", "c")).toBe(1);
  });

  it("round-trips a record larger than one table property", async () => {
    const store = await make();
    const big = { text: "x".repeat(100_000), nested: { list: [1, 2, 3] } };
    await store.put("incident", "local", "big", big);
    expect(await store.get("incident", "local", "big")).toEqual(big);
  });
});

describe("local state store on disk (a journal)", () => {
  it("keeps awkward keys inside the journal: no file is named after a key", async () => {
    const dir = tempDir();
    const store = local(dir);
    await store.create("hit", "../escape", "../../etc/passwd", 1);
    await store.put("hit", "../escape", "../../etc/passwd", 2);
    expect(await store.create("hit", "../escape", "../../etc/passwd", 3)).toBe(false);
    await store.close();
    expect(readdirSync(dir).sort()).toEqual(["journal.0000000001"]);
    expect(await local(dir).get("hit", "../escape", "../../etc/passwd")).toBe(2);
  });

  it("reads a folder of the former layout (one file per record) into its first journal", async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, "incident", "local"), { recursive: true });
    writeFileSync(path.join(dir, "incident", "local", "inc%2F1.json"), JSON.stringify({ id: "inc/1" }));
    writeFileSync(path.join(dir, "incident", "local", "broken.json"), '{"id": "tru');
    const store = local(dir);
    expect(await store.list("incident")).toEqual([{ partition: "local", key: "inc/1", value: { id: "inc/1" } }]);
    expect(await store.create("incident", "local", "inc/1", { id: "again" })).toBe(false);
  });

  it("writes a batch as one append and decides creates within it and against the journal", async () => {
    const dir = tempDir();
    const store = local(dir);
    await store.put("hit", "r", "a", { n: 0 });
    const results = await store.batch([
      { op: "create", kind: "hit", partition: "r", key: "a", value: { n: 1 } }, // exists: refused
      { op: "create", kind: "hit", partition: "r", key: "b", value: { n: 2 } },
      { op: "create", kind: "hit", partition: "r", key: "b", value: { n: 3 } }, // created just before: refused
      { op: "delete", kind: "hit", partition: "r", key: "a" },
      { op: "create", kind: "hit", partition: "r", key: "a", value: { n: 4 } }, // deleted just before: created
    ]);
    expect(results).toEqual([false, true, false, true, true]);
    const reopened = local(dir);
    expect((await reopened.list("hit", "r")).map((r) => [r.key, r.value])).toEqual([
      ["a", { n: 4 }],
      ["b", { n: 2 }],
    ]);
    const lines = readFileSync(path.join(dir, "journal.0000000001"), "utf8").split("\n").filter(Boolean);
    expect(lines).toHaveLength(4); // put a, create b, delete a, create a: the refused creates are not written
  });

  it("two stores on one folder (two processes) see each other's writes; one creator wins", async () => {
    const dir = tempDir();
    const one = local(dir);
    const two = local(dir);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? one : two).create("incident", "local", "inc-1", { writer: i })),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect(await one.get("incident", "local", "inc-1")).toEqual({ writer: winner });
    expect(await two.get("incident", "local", "inc-1")).toEqual({ writer: winner });
    await one.put("checkpoint", "r", "t", { end: "x" });
    expect(await two.get("checkpoint", "r", "t")).toEqual({ end: "x" });
  });

  it("skips, reports and quarantines a torn write and a damaged line, never stopping the rest", async () => {
    const dir = tempDir();
    const store = local(dir);
    await store.put("incident", "local", "a", { id: "a" });
    await store.put("incident", "local", "b", { id: "b" });
    await store.close();
    const journal = path.join(dir, "journal.0000000001");
    // Alter one byte of the first record's value (a disk error), and leave a write cut short at the end (a crash).
    const text = readFileSync(journal, "utf8").replace('{"id":"a"}', '{"id":"A"}');
    writeFileSync(journal, `${text}0badc0de\t{"o":"p","k":"incident","p":"local","y":"c","v":{"id"`);
    const reopened = local(dir);
    expect((await reopened.list("incident")).map((r) => r.value)).toEqual([{ id: "b" }]);
    await reopened.put("incident", "local", "d", { id: "d" });
    const after = local(dir);
    expect((await after.list("incident")).map((r) => r.value)).toEqual([{ id: "b" }, { id: "d" }]);
    expect(after.damaged().map((d) => [d.kind, d.key, d.error])).toEqual([
      ["incident", "a", "checksum mismatch (truncated or altered)"],
      ["incident", "c", "checksum mismatch (truncated or altered)"],
    ]);
    // The copies are written in the background (nothing awaits them): waited for, not slept on.
    await until(() => quarantined(dir).length >= 2, "the two quarantined lines", 30_000);
    expect(quarantined(dir)).toHaveLength(2);
  });

  it("reads lines longer than its read chunk (4 MiB) and lines across chunks, and quarantines a damaged one whole", async () => {
    const dir = tempDir();
    const store = local(dir);
    // Records of 1.5, 5 and 9 MB (distinct texts, each written once in its record), with small ones between.
    const sizes = [1_500_000, 10, 5_000_000, 20, 9_000_000, 30];
    const values = sizes.map((size, i) => ({ n: i, text: String.fromCharCode(97 + i).repeat(size) }));
    for (let i = 0; i < values.length; i++) await store.put("hit", "r", `k${i}`, values[i]);
    await store.close();
    // A disk error in the small record between the first two long ones (its checksum no longer holds): the reader
    // goes on reading into the buffer that held it while its quarantined copy is written.
    const journal = path.join(dir, "journal.0000000001");
    const lines = readFileSync(journal, "latin1").split("\n");
    const bad = lines.findIndex((line) => line.includes('"y":"k1"'));
    lines[bad] = lines[bad]!.replace('"n":1', '"n":9');
    writeFileSync(journal, lines.join("\n"), "latin1");
    const reopened = local(dir);
    expect(await reopened.list("hit", "r")).toEqual(
      values.map((value, i) => ({ partition: "r", key: `k${i}`, value })).filter((_, i) => i !== 1),
    );
    expect(reopened.damaged().map((d) => [d.key, d.error])).toEqual([
      ["k1", "checksum mismatch (truncated or altered)"],
    ]);
    // The quarantined copy is the damaged line as it was read, byte for byte.
    const quarantine = path.join(dir, "quarantine");
    await until(() => quarantined(dir).length > 0, "the quarantined line", 30_000);
    const [file] = readdirSync(quarantine);
    expect(readFileSync(path.join(quarantine, file!), "latin1")).toBe(lines[bad]);
  });

  it("writes a large part shared by records once, and reads every record whole", async () => {
    const dir = tempDir();
    const store = local(dir);
    // A result row of many columns (one of them named like an object's prototype), and a long query text.
    const row: Record<string, unknown> = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`Col${i}`, `v${i}`]));
    Object.defineProperty(row, "__proto__", { value: "odd", enumerable: true, writable: true, configurable: true });
    const query = `DeviceProcessEvents | where ${"FolderPath startswith '/dev/shm/' or ".repeat(20)}true`;
    const hit = { key: "k1", status: "new", row };
    const bookmark = { id: "b1", evidence: { query, row, entities: [{ entityType: "Host" }] } };
    const incident = { id: "i1", description: query, evidence: { query, row } };
    await store.batch([
      { op: "create", kind: "hit", partition: "r", key: "k1", value: hit },
      { op: "create", kind: "incident", partition: "i1", key: "b1", value: bookmark },
    ]);
    await store.put("incident", "local", "i1", incident);
    const text = readFileSync(path.join(dir, "journal.0000000001"), "utf8");
    expect(text.split(`"Col39":"v39"`)).toHaveLength(2); // the row: once in the journal
    expect(text.split("startswith").length - 1).toBeLessThan(3 * 20); // the query: not in all three records
    for (const reader of [store, local(dir)]) {
      const readHit = await reader.get<typeof hit>("hit", "r", "k1");
      expect(readHit).toEqual(hit);
      expect(Object.hasOwn(readHit!.row, "__proto__")).toBe(true);
      expect(Object.getPrototypeOf(readHit!.row)).toBe(Object.prototype);
      expect(await reader.get("incident", "i1", "b1")).toEqual(bookmark);
      expect(await reader.list("incident", "local")).toEqual([{ partition: "local", key: "i1", value: incident }]);
    }
  });

  it("writes a wide row's empty strings once for all rows of its columns, and reads every row whole, in order", async () => {
    const dir = tempDir();
    const store = local(dir);
    // Log Analytics answers an empty string column with "" (and a number or datetime with null): most of a wide row.
    const row = (n: number) =>
      Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`Column${i}`, i < 50 ? "" : i < 55 ? null : `v${n}`]));
    const odd = { ...row(9), Column3: undefined, Column4: { nested: "" } };
    for (let n = 0; n < 20; n++) await store.put("hit", "r", `k${n}`, { row: row(n) });
    await store.put("hit", "r", "odd", { row: odd });
    const text = readFileSync(path.join(dir, "journal.0000000001"), "utf8");
    // The column names: in the first row (written whole), once for the 19 rows after it, and in the odd one.
    expect(text.split('"Column0"').length - 1).toBe(3);
    for (const reader of [store, local(dir)]) {
      for (let n = 0; n < 20; n++) {
        const read = await reader.get<{ row: Record<string, unknown> }>("hit", "r", `k${n}`);
        expect(read).toEqual({ row: row(n) });
        expect(Object.keys(read!.row)).toEqual(Object.keys(row(n)));
      }
      const readOdd = await reader.get<{ row: Record<string, unknown> }>("hit", "r", "odd");
      expect(readOdd).toEqual({ row: JSON.parse(JSON.stringify(odd)) });
      expect(Object.hasOwn(readOdd!.row, "Column3")).toBe(false);
    }
  });

  it("reports a record whose part is damaged, and keeps the parts live records refer to through a compaction", async () => {
    const dir = tempDir();
    const store = local(dir, { compactAtBytes: 4096 });
    const row = (n: number) => Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`Col${i}`, `row${n}-${i}`]));
    await store.put("hit", "r", "keep", { row: row(1) });
    for (let i = 0; i < 100; i++) await store.put("hit", "r", "churn", { n: i, row: row(100 + i) });
    await store.close(); // waits for a compaction under way
    const journals = readdirSync(dir).filter((f) => f.startsWith("journal.0"));
    expect(journals).toHaveLength(1);
    expect(journals[0]).not.toBe("journal.0000000001");
    const reopened = local(dir);
    expect(await reopened.get("hit", "r", "keep")).toEqual({ row: row(1) });
    expect(await reopened.get("hit", "r", "churn")).toEqual({ n: 99, row: row(199) });
    const compacted = readFileSync(path.join(dir, journals[0]!), "utf8");
    expect(compacted).not.toContain("row150-0"); // a part no live record refers to is dropped
    // One byte of the kept row's part altered on disk: its record is skipped and reported, the others are read.
    writeFileSync(path.join(dir, journals[0]!), compacted.replace('"row1-5"', '"row1-X"'));
    const damaged = local(dir);
    expect(await damaged.get("hit", "r", "keep")).toBeUndefined();
    expect(await damaged.get("hit", "r", "churn")).toEqual({ n: 99, row: row(199) });
    expect(damaged.damaged().map((d) => d.error)).toContain("checksum mismatch (truncated or altered)");
    expect(damaged.damaged().some((d) => d.key === "keep" && /part it refers to/.test(d.error))).toBe(true);
  });

  it("compacts a journal of mostly dead lines; stores holding the old one follow", async () => {
    const dir = tempDir();
    const store = local(dir, { compactAtBytes: 4096 });
    const reader = local(dir);
    await reader.put("hit", "r", "keep", { n: -1 });
    for (let i = 0; i < 200; i++) await store.put("checkpoint", "r", "t", { n: i });
    await store.close(); // waits for a compaction under way
    const journals = readdirSync(dir).filter((f) => f.startsWith("journal.0"));
    expect(journals).toHaveLength(1);
    expect(journals[0]).not.toBe("journal.0000000001");
    expect(statSync(path.join(dir, journals[0]!)).size).toBeLessThan(4096);
    expect(await reader.get("checkpoint", "r", "t")).toEqual({ n: 199 });
    expect(await reader.get("hit", "r", "keep")).toEqual({ n: -1 });
    await reader.put("hit", "r", "later", { n: 1 });
    expect(await local(dir).get("hit", "r", "later")).toEqual({ n: 1 });
  });
});
