/**
 * The header and docs/service.md say a line at the journal's end without its newline is ended and read
 * when it is whole, else skipped, reported by `damaged()` and copied to quarantine/. A compaction that is the first
 * to meet it (another process killed in its write between this store's batch and the compaction that batch starts)
 * must do the same. Until 8 December 2026 only `append` looked at that tail: the compaction copied the indexed lines
 * only, and the tail went with the old generation, a whole record neither kept nor reported, a cut one never
 * reported nor quarantined.
 */
import { appendFileSync, existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { LocalStateStore } from "../../src/store/index.js";
import { tempDirs } from "../support/temp-dirs.js";

const tempDir = tempDirs("compaction-tail");

function line(body: object): string {
  const text = JSON.stringify(body);
  return `${crc32(Buffer.from(text)).toString(16).padStart(8, "0")}\t${text}`;
}

async function mostlyDead(dir: string): Promise<void> {
  const store = new LocalStateStore(dir, { compactAtBytes: 1e12 });
  for (let i = 0; i < 20; i++) await store.put("checkpoint", "r", `dead${i}`, { filler: "x".repeat(400) });
  for (let i = 0; i < 20; i++) await store.delete("checkpoint", "r", `dead${i}`);
  await store.close();
}

/** Runs a batch that starts a compaction; `tail` is appended (as by another writer killed mid-write) in between. */
async function batchThenTailThenCompaction(dir: string, tail: string): Promise<LocalStateStore> {
  const store = new LocalStateStore(dir, { compactAtBytes: 4096 });
  const results = store.batch([{ op: "put", kind: "checkpoint", partition: "r", key: "mine", value: { n: 1 } }]);
  // Runs after the store queued its compaction, before the compaction takes the lock.
  void results.then(() => appendFileSync(path.join(dir, "journal.0000000001"), tail));
  await results;
  await store.get("checkpoint", "r", "mine"); // after the compaction
  return store;
}

describe("a compaction that meets a line cut short at the journal's end", () => {
  it("keeps a whole line (no newline) as an append would", async () => {
    const dir = tempDir();
    await mostlyDead(dir);
    const tail = line({ o: "p", k: "checkpoint", p: "r", y: "other", v: { n: 2 } });
    const store = await batchThenTailThenCompaction(dir, tail);
    expect(readdirSync(dir).filter((f) => f.startsWith("journal.0"))).toEqual(["journal.0000000002"]);
    const got = await store.getMany("checkpoint", "r", ["mine", "other"]);
    const damaged = store.damaged();
    await store.close();
    expect({ got, damaged }).toEqual({ got: [{ n: 1 }, { n: 2 }], damaged: [] });
  });

  it("reports a cut line and copies it to quarantine/", async () => {
    const dir = tempDir();
    await mostlyDead(dir);
    const whole = line({ o: "p", k: "checkpoint", p: "r", y: "cut", v: { n: 2, filler: "y".repeat(50) } });
    const store = await batchThenTailThenCompaction(dir, whole.slice(0, 40));
    expect(readdirSync(dir).filter((f) => f.startsWith("journal.0"))).toEqual(["journal.0000000002"]);
    const damaged = store.damaged().length;
    await store.close();
    expect({ damaged, quarantined: existsSync(path.join(dir, "quarantine")) }).toEqual({
      damaged: 1,
      quarantined: true,
    });
  });
});
