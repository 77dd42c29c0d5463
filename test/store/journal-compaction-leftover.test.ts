/**
 * A compaction that fails while it writes its copy (ENOSPC: the disk full, the one fault a compaction of a
 * large journal is likely to meet) must not leave its temporary file, a copy of the live lines, in the folder:
 * every later batch tries again, and `removeLeftovers` skips this process's own files, so until 8 December 2026
 * they stayed while the process lived, holding the space the failed writes took. A full disk is not produced on demand here: the
 * `.compact-` file's handle from node:fs/promises `open` is wrapped so its writes fail with ENOSPC; everything else
 * is the real store on a real folder.
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

const tempDir = tempDirs("compaction-leftover");

/** From now on, a `.compact-` file takes its first write, then every write fails as on a full disk. */
function diskFullForCompactions(): void {
  const open = vi.mocked(fsPromises.open);
  const real = open.getMockImplementation()!;
  open.mockImplementation(async (file, ...rest) => {
    const handle = await real(file, ...rest);
    if (!String(file).includes(".compact-")) return handle;
    let writes = 0;
    const write = handle.write.bind(handle) as (...a: unknown[]) => Promise<unknown>;
    (handle as unknown as { write: unknown }).write = async (...a: unknown[]) => {
      if (++writes > 1) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      return write(...a);
    };
    return handle;
  });
}

describe("a compaction that fails on a full disk", () => {
  it("does not leave its temporary copies behind", async () => {
    const dir = tempDir();
    const setup = new LocalStateStore(dir, { compactAtBytes: 1e12 });
    for (let i = 0; i < 5; i++) await setup.put("checkpoint", "r", `live${i}`, { n: i });
    for (let i = 0; i < 20; i++) await setup.put("checkpoint", "r", `dead${i}`, { filler: "x".repeat(400) });
    for (let i = 0; i < 20; i++) await setup.delete("checkpoint", "r", `dead${i}`);
    await setup.close();

    diskFullForCompactions();
    const store = new LocalStateStore(dir, { compactAtBytes: 4096 });
    for (let i = 0; i < 3; i++) {
      await store.put("checkpoint", "r", `w${i}`, { n: i }); // each starts a compaction, which fails
      await store.get("checkpoint", "r", `w${i}`); // runs after it
    }
    const leftovers = readdirSync(dir).filter((f) => f.startsWith(".compact-"));
    await store.close();
    expect(leftovers).toEqual([]);
  });
});
