/**
 * A store holding generation N, left linked by a compactor killed between its rename and its unlink, while another
 * process opens N+1 (a read: no lock, so N stays) and later compacts it to N+2: the holder must see the newer
 * generations' writes, and its own writes must be kept. Until 8 December 2026 its check looked for N+1 only, found
 * none, and it read N and wrote to it for good (a file no other store reads, removed by the next writer to open
 * the folder); now a compaction removes every older generation, so the holder finds its own unlinked and reopens.
 */
import { linkSync, readdirSync, unlinkSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LocalStateStore } from "../../src/store/index.js";
import { tempDirs } from "../support/temp-dirs.js";

const tempDir = tempDirs("stale-gen");
const journals = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /^journal\.\d{10}$/.test(f))
    .sort();

async function deadLines(store: LocalStateStore, tag: string): Promise<void> {
  for (let i = 0; i < 20; i++) await store.put("checkpoint", "r", `${tag}${i}`, { filler: "x".repeat(400) });
  for (let i = 0; i < 20; i++) await store.delete("checkpoint", "r", `${tag}${i}`);
}

describe("generations left by a compactor killed before its unlink", () => {
  it("a store holding the old generation sees a later compaction's writes, and its own writes are kept", async () => {
    const dir = tempDir();
    const setup = new LocalStateStore(dir, { compactAtBytes: 1e12 });
    await setup.put("checkpoint", "r", "a", { n: 1 });
    await deadLines(setup, "old");
    await setup.close();

    // A long-lived process (the server) reads, and so holds generation 1.
    const server = new LocalStateStore(dir, { compactAtBytes: 1e12 });
    expect(await server.get("checkpoint", "r", "a")).toEqual({ n: 1 });

    // A compaction 1 -> 2 whose process is killed after its rename, before its unlink of generation 1: made here by
    // a real compaction with generation 1's inode linked back afterwards (what the kill leaves: both names there).
    const keep = path.join(dir, "keep-gen1");
    linkSync(path.join(dir, "journal.0000000001"), keep);
    const compactor = new LocalStateStore(dir, { compactAtBytes: 4096 });
    await compactor.put("checkpoint", "r", "c", { n: 1 }); // starts the compaction
    await compactor.close();
    expect(journals(dir)).toEqual(["journal.0000000002"]);
    linkSync(keep, path.join(dir, "journal.0000000001"));
    unlinkSync(keep);
    expect(journals(dir)).toEqual(["journal.0000000001", "journal.0000000002"]);

    // A CLI: its first operation a read (opens generation 2, unlocked), then writes enough to compact 2 -> 3.
    const cli = new LocalStateStore(dir, { compactAtBytes: 4096 });
    expect(await cli.get("checkpoint", "r", "a")).toEqual({ n: 1 });
    await deadLines(cli, "cli");
    await cli.put("checkpoint", "r", "a", { n: 2 });
    await cli.close();

    // The server reads again: the newest generation holds a = 2.
    const seen = await server.get("checkpoint", "r", "a");
    // And writes: acknowledged durable.
    await server.put("checkpoint", "r", "fromServer", { n: 3 });
    await server.close();
    const fresh = new LocalStateStore(dir);
    const after = await fresh.get("checkpoint", "r", "fromServer");
    await fresh.close();
    expect({ seen, after, files: journals(dir) }).toEqual({
      seen: { n: 2 },
      after: { n: 3 },
      files: expect.any(Array),
    });
  });
});
