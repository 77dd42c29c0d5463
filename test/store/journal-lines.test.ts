/**
 * The journal's line writer (src/store/journal-lines.ts) against the line format local-state-store.ts documents:
 * `<crc32 hex>\t<body>\n`, the checksum over the body's UTF-8 bytes (node:zlib's crc32, eight lower-case hex digits).
 * Its chunks are reused from batch to batch once written: these tests show that a reused chunk never changes bytes
 * handed over and not released yet, and that the lines stay whole across chunk ends.
 */
import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { JournalLines } from "../../src/store/journal-lines.js";

const line = (body: string) => {
  const bytes = Buffer.from(body, "utf8");
  return Buffer.concat([Buffer.from(`${crc32(bytes).toString(16).padStart(8, "0")}\t`), bytes, Buffer.from("\n")]);
};

/** Bodies of many lengths, some with characters of two, three and four UTF-8 bytes, some longer than a chunk. */
const bodies = (seed: number, chunk: number) =>
  Array.from({ length: 200 }, (_, i) => {
    const n = (i * 37 + seed) % (i % 29 === 0 ? 3 * chunk : 400);
    return JSON.stringify({ i, seed, s: "aé€😀".repeat(n % 11) + "x".repeat(n) });
  });

describe("journal lines: chunks reused from batch to batch", () => {
  // A chunk size of these tests' own (the spare chunks are kept by size, apart from the store's), over Node's
  // 4 KiB limit for buffers cut from its shared pool: each chunk is an ArrayBuffer of its own, as the store's are.
  const CHUNK = 4099;

  it("writes every line whole across chunk ends, batch after batch on reused chunks", () => {
    for (let batch = 0; batch < 4; batch++) {
      const lines = new JournalLines(CHUNK);
      const written: Buffer[] = [];
      const expected: Buffer[] = [];
      for (const [i, body] of bodies(batch, CHUNK).entries()) {
        const length = lines.add(body);
        expect(length).toBe(line(body).length);
        expected.push(line(body));
        // Written out now and then, as the store does, each piece copied (the file) before the chunks are released.
        if (i % 41 === 40) {
          written.push(Buffer.concat(lines.take()));
          lines.release(false);
        }
      }
      written.push(Buffer.concat(lines.take()));
      lines.release(true);
      expect(Buffer.concat(written).equals(Buffer.concat(expected))).toBe(true);
    }
  });

  it("never reuses a chunk whose lines were handed over but not released", () => {
    const first = new JournalLines(CHUNK);
    const early = bodies(1, CHUNK).slice(0, 30);
    for (const body of early) first.add(body);
    const handed = first.take(); // not copied, not released: these bytes must stay as they are
    const snapshot = Buffer.concat(handed);
    // Other batches fill and release many chunks meanwhile, and this one goes on.
    for (let batch = 0; batch < 3; batch++) {
      const other = new JournalLines(CHUNK);
      for (const body of bodies(batch + 5, CHUNK)) other.add(body);
      other.take();
      other.release(true);
    }
    for (const body of bodies(2, CHUNK)) first.add(body);
    first.take();
    expect(Buffer.concat(handed).equals(snapshot)).toBe(true);
    expect(snapshot.equals(Buffer.concat(early.map(line)))).toBe(true);
  });

  it("a batch after a released one writes into the released chunk (no fresh memory)", () => {
    const size = CHUNK + 1;
    const before = new JournalLines(size);
    before.add("{}");
    const [chunk] = before.take();
    before.release(true);
    const after = new JournalLines(size);
    after.add('{"a":1}');
    const [reused] = after.take();
    expect(reused!.buffer).toBe(chunk!.buffer);
    expect(reused!.byteOffset).toBe(chunk!.byteOffset);
    expect(reused!.equals(line('{"a":1}'))).toBe(true);
  });
});
