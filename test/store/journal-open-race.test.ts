/**
 * A store opening the journal (its first operation, or a reopen after another process compacted) lists the
 * generations, then opens the newest it saw. A compaction by another process between the two (its rename and its
 * unlink of the old generation) must not make that open create a new, empty file under the old name, as it did
 * until 8 December 2026 (the open used O_CREAT): the store read no records and decided creates on nothing. The
 * race needs the reader's open to be late (its thread pool busy); `readdir` of node:fs/promises is wrapped so that
 * the other store's compaction runs between the listing and the open, everything else is the real store.
 */
import { readdirSync } from "node:fs";
import * as fsPromises from "node:fs/promises";
import { describe, expect, it, vi } from "vitest";
import { LocalStateStore } from "../../src/store/index.js";
import { tempDirs } from "../support/temp-dirs.js";

vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:fs/promises")>();
  return { ...actual, readdir: vi.fn(actual.readdir) };
});

const tempDir = tempDirs("open-race");
const journals = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /^journal\.\d{10}$/.test(f))
    .sort();

/** Runs `meanwhile` after the `nth` next listing of `dir` is made and before it is returned. */
function betweenListingAndOpen(dir: string, nth: number, meanwhile: () => Promise<void>): void {
  const readdir = vi.mocked(fsPromises.readdir);
  const real = readdir.getMockImplementation()!;
  let seen = 0;
  readdir.mockImplementation((async (file: string, ...rest: unknown[]) => {
    const names = await (real as (...a: unknown[]) => Promise<unknown>)(file, ...rest);
    if (String(file) === dir && ++seen === nth) {
      readdir.mockImplementation(real);
      await meanwhile();
    }
    return names;
  }) as typeof real);
}

async function deadLines(store: LocalStateStore, tag: string): Promise<void> {
  for (let i = 0; i < 20; i++) await store.put("checkpoint", "r", `${tag}${i}`, { filler: "x".repeat(400) });
  for (let i = 0; i < 20; i++) await store.delete("checkpoint", "r", `${tag}${i}`);
}

describe("a store that opens the journal while another compacts it", () => {
  it("reads the records there are, and its writes are not lost", async () => {
    const dir = tempDir();
    const writer = new LocalStateStore(dir, { compactAtBytes: 4096 });
    await writer.put("checkpoint", "r", "a", { n: 1 });
    const setup = new LocalStateStore(dir, { compactAtBytes: 1e12 });
    await deadLines(setup, "old");
    await setup.close();

    // The reader lists [1]; meanwhile the writer compacts 1 -> 2 (and unlinks 1); the reader then opens "1".
    const reader = new LocalStateStore(dir, { compactAtBytes: 1e12 });
    betweenListingAndOpen(dir, 2, async () => {
      await writer.put("checkpoint", "r", "b", { n: 1 }); // starts a compaction
      await writer.get("checkpoint", "r", "b"); // runs after it (one operation at a time)
    });
    const a = await reader.get("checkpoint", "r", "a");
    const filesAfterOpen = journals(dir);

    // The writer (holding generation 2) compacts again (2 -> 3), then the reader writes.
    await deadLines(writer, "more");
    await writer.close();
    const created = await reader.create("checkpoint", "r", "a", { n: 99 });
    await reader.put("checkpoint", "r", "fromReader", { n: 3 });
    await reader.close();

    const fresh = new LocalStateStore(dir);
    const after = await fresh.getMany("checkpoint", "r", ["a", "fromReader"]);
    await fresh.close();
    expect({ a, filesAfterOpen, created, after }).toEqual({
      a: { n: 1 },
      filesAfterOpen: ["journal.0000000002"],
      created: false,
      after: [{ n: 1 }, { n: 3 }],
    });
  });
});
