/**
 * `close()` called while the store's last batch is still in flight (a shutdown that closes the store after
 * starting its final write): no compaction may start after it (until 8 December 2026 the batch started one behind
 * the close, which reopened the journal and left the new generation's descriptor open in a store that was closed).
 */
import { readdirSync, readlinkSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { LocalStateStore } from "../../src/store/index.js";
import { tempDirs } from "../support/temp-dirs.js";

const tempDir = tempDirs("close-leak");

/** The files under `dir` this process holds open. */
function openIn(dir: string): string[] {
  const out: string[] = [];
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir)) out.push(target.slice(dir.length + 1));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

describe("close with a batch in flight", () => {
  it("leaves no journal open once close() and the batch have resolved", async () => {
    const dir = tempDir();
    const setup = new LocalStateStore(dir, { compactAtBytes: 1e12 });
    for (let i = 0; i < 20; i++) await setup.put("checkpoint", "r", `dead${i}`, { filler: "x".repeat(400) });
    for (let i = 0; i < 20; i++) await setup.delete("checkpoint", "r", `dead${i}`);
    await setup.close();

    const store = new LocalStateStore(dir, { compactAtBytes: 4096 });
    const write = store.put("checkpoint", "r", "last", { n: 1 });
    await store.close();
    await write;
    await sleep(300);
    expect(openIn(dir)).toEqual([]);
  });
});
