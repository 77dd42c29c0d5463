/**
 * A journal line's head read without its value (src/store/journal-head.ts). The oracle is JSON.parse of the same
 * line: for every line the store writes (records with awkward kinds, partitions and keys, deletes, parts, shapes,
 * rows in their shapes), the head holds what JSON.parse gives for those fields. A line in another form (fields in
 * another order, as a hand-made line may have them) gives no head, and the store still reads it, parsed whole.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { LocalStateStore } from "../../src/store/index.js";
import { readLineHead } from "../../src/store/journal-head.js";
import { tempDirs } from "../support/temp-dirs.js";

const tempDir = tempDirs("journal-head");

/** Names JSON must escape, or whose UTF-8 is more than ASCII, or that look like the line's own syntax. */
const awkward = [
  "plain",
  'quote " inside',
  "back\\slash",
  'ends with \\"',
  "new\nline\ttab\u0000nul\u001f",
  "é ü 中文 🦀",
  "lone \ud800 surrogate",
  '","y":"forged',
  "[brackets] {braces}",
  "__proto__",
  "",
  "x".repeat(600),
];

/** The body of each line (after its checksum and tab) of the store's journal in `dir`. */
function bodies(dir: string): Buffer[] {
  const data = readFileSync(path.join(dir, "journal.0000000001"));
  const out: Buffer[] = [];
  for (let start = 0, nl = data.indexOf(0x0a); nl >= 0; start = nl + 1, nl = data.indexOf(0x0a, start))
    out.push(data.subarray(start + 9, nl));
  return out;
}

/** What the index needs of a line, from JSON.parse of the whole line (the oracle). */
function headByJsonParse(body: Buffer): Record<string, unknown> {
  const line = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
  const fields = line.o === "b" ? ["o", "y", "c"] : ["o", "k", "p", "y", "r"];
  return Object.fromEntries(fields.filter((f) => line[f] !== undefined).map((f) => [f, line[f]]));
}

describe("journal line heads", () => {
  it("hold what JSON.parse gives for every line the store writes", async () => {
    const dir = tempDir();
    const store = new LocalStateStore(dir);
    const columns = Array.from({ length: 20 }, (_, i) => (i === 3 ? "__proto__" : `Col${i}${awkward[i % 12]}`));
    const row = (i: number) =>
      Object.fromEntries(columns.map((c, j) => [c, j === 0 ? `v${i} ${awkward[i % 12]}` : ""]));
    const query = `DeviceProcessEvents | where FolderPath has "${"/dev/shm/".repeat(80)}"`;
    let n = 0;
    for (const name of awkward) {
      for (const other of [awkward[(n * 5) % awkward.length]!, `k${n}`]) {
        await store.batch([
          { op: "put", kind: "hit", partition: name, key: other, value: { n, row: row(n), query } },
          { op: "put", kind: "incident", partition: other, key: name, value: { n, labels: [name], query } },
          { op: "create", kind: "verdict", partition: `${name}/${other}`, key: "v", value: name },
          // A part's place under a key JSON escapes, with brackets: the refs' end is found past their strings.
          { op: "put", kind: "hit", partition: "places", key: `${n}`, value: { [`at ${name} ]]"`]: row(n) } },
        ]);
        n++;
      }
      await store.delete("verdict", `${name}/${awkward[0]}`, "v");
    }
    await store.close();
    const lines = bodies(dir);
    const forms = new Set(
      lines.map((b) => {
        const line = JSON.parse(b.toString("utf8")) as { o: string; c?: string; r?: unknown };
        return `${line.o}${line.c ? "+shape" : ""}${line.r ? "+refs" : ""}`;
      }),
    );
    // Records with and without parts, deletes, parts, rows in their shapes.
    expect(forms).toEqual(new Set(["p", "p+refs", "d", "b", "b+shape"]));
    for (const body of lines) expect(readLineHead(body), body.toString("utf8", 0, 200)).toEqual(headByJsonParse(body));
  });

  it("gives none for a line in another form, which the store still reads, parsed whole", async () => {
    const dir = tempDir();
    const store = new LocalStateStore(dir);
    await store.put("hit", "r", "first", { n: 1 });
    await store.close();
    const reordered = [
      '{"k":"hit","o":"p","p":"r","y":"second","v":{"n":2}}',
      '{"o":"p","k":"hit","p":"r","v":{"n":3},"y":"third"}',
    ];
    for (const body of reordered) expect(readLineHead(Buffer.from(body))).toBeUndefined();
    // In the store's form but not a record the store reads (a part's place through `__proto__`): no head either.
    expect(readLineHead(Buffer.from('{"o":"p","k":"hit","p":"r","y":"z","r":[[["__proto__"],"id"]],"v":{}}'))).toBe(
      undefined,
    );
    const journal = path.join(dir, "journal.0000000001");
    const lines = reordered.map((body) => `${crc32(Buffer.from(body)).toString(16).padStart(8, "0")}\t${body}\n`);
    writeFileSync(journal, readFileSync(journal, "utf8") + lines.join(""));
    const reopened = new LocalStateStore(dir);
    expect((await reopened.list("hit", "r")).map((r) => [r.key, r.value])).toEqual([
      ["first", { n: 1 }],
      ["second", { n: 2 }],
      ["third", { n: 3 }],
    ]);
    expect(reopened.damaged()).toEqual([]);
  });

  it("leaves a value that is not JSON to be reported when it is read", async () => {
    const dir = tempDir();
    const store = new LocalStateStore(dir);
    await store.put("hit", "r", "good", { n: 1 });
    await store.close();
    // A whole line (its checksum holds) whose value is not JSON: only a writer's fault makes one.
    const body = '{"o":"p","k":"hit","p":"r","y":"bad","v":{"n":}';
    const journal = path.join(dir, "journal.0000000001");
    writeFileSync(
      journal,
      `${readFileSync(journal, "utf8")}${crc32(Buffer.from(body)).toString(16).padStart(8, "0")}\t${body}\n`,
    );
    const reopened = new LocalStateStore(dir);
    expect(await reopened.get("hit", "r", "good")).toEqual({ n: 1 });
    expect(reopened.damaged()).toEqual([]);
    expect(await reopened.get("hit", "r", "bad")).toBeUndefined();
    expect(reopened.damaged().map((d) => [d.key, d.error.slice(0, 9)])).toEqual([["bad", "not JSON:"]]);
    expect((await reopened.list("hit", "r")).map((r) => r.key)).toEqual(["good"]);
  });
});
