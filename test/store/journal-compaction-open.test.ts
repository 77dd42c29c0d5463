/**
 * A compaction whose new generation cannot be opened once it is renamed into place. An open of a file just renamed
 * by its owner fails here only by a fault of the system (EIO, ENOMEM, or a descriptor taken in between by another
 * open of the process), which no real part of this machine gives on demand: `open` of node:fs/promises is wrapped to
 * fail once for that path, everything else is the real store on a real folder.
 */
import { readdirSync } from "node:fs";
import * as fsPromises from "node:fs/promises";
import { describe, expect, it, vi } from "vitest";
import { LocalStateStore } from "../../src/store/index.js";
import { tempDirs } from "../support/temp-dirs.js";

vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:fs/promises")>();
  return { ...actual, open: vi.fn(actual.open) };
});

const tempDir = tempDirs("journal-compaction-open");
const journals = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /^journal\.\d{10}$/.test(f))
    .sort();

/** Makes the next open of a path ending in `suffix` fail as a disk error would. */
function failNextOpenOf(suffix: string): void {
  const open = vi.mocked(fsPromises.open);
  const real = open.getMockImplementation()!;
  open.mockImplementation(async (file, ...rest) => {
    if (String(file).endsWith(suffix)) {
      open.mockImplementation(real);
      throw Object.assign(new Error(`EIO: i/o error, open '${String(file)}'`), { code: "EIO", errno: -5 });
    }
    return real(file, ...rest);
  });
}

/** A journal of 20 records written and deleted (~9 KB of dead lines), by a store that never compacts. */
async function mostlyDead(dir: string): Promise<void> {
  const store = new LocalStateStore(dir, { compactAtBytes: 1e12 });
  for (let i = 0; i < 20; i++) await store.put("checkpoint", "r", `dead${i}`, { filler: "x".repeat(400) });
  for (let i = 0; i < 20; i++) await store.delete("checkpoint", "r", `dead${i}`);
  await store.close();
}

describe("local journal: a compaction whose new generation cannot be opened", () => {
  it("leaves the store that compacted working, on the old generation and then the new one, with nothing lost", async () => {
    const dir = tempDir();
    await mostlyDead(dir);
    const store = new LocalStateStore(dir, { compactAtBytes: 4096 });
    failNextOpenOf("journal.0000000002");
    // Appended to generation 1; the compaction this write starts fails at its last step, once the new generation
    // is renamed into place.
    await store.put("checkpoint", "r", "kept", { n: 1 });
    // The store's next operations run after that compaction (one at a time), on the same object.
    await store.put("checkpoint", "r", "next", { n: 2 });
    expect(await store.get("checkpoint", "r", "kept")).toEqual({ n: 1 });
    expect(await store.get("checkpoint", "r", "next")).toEqual({ n: 2 });
    expect((await store.list("checkpoint", "r")).map((r) => r.key)).toEqual(["kept", "next"]);
    await store.close();
    expect(
      vi.mocked(fsPromises.open).mock.calls.filter(([file]) => String(file).endsWith("journal.0000000002")).length,
    ).toBeGreaterThan(1); // the failed open, then the store's own reopening of the new generation
    expect(journals(dir)).toEqual(["journal.0000000002"]);

    const reader = new LocalStateStore(dir);
    expect(await reader.getMany("checkpoint", "r", ["kept", "next", "dead0"])).toEqual([{ n: 1 }, { n: 2 }, undefined]);
    expect(reader.damaged()).toEqual([]);
    await reader.close();
  });
});
