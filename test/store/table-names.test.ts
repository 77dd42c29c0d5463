/**
 * Names holding an unpaired UTF-16 surrogate. The contract addresses a record by (kind, partition, key), any
 * strings; the memory store and the local journal keep "a\uD800" and "a\uDC00" apart and list them as written.
 * Until 8 December 2026 the Azure Table store encoded names as UTF-8 only (names.ts), which turns every unpaired
 * surrogate into U+FFFD: distinct names landed on one entity and were read back as other names. A lone surrogate is
 * now encoded as `%uXXXX`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Azurite, startAzurite } from "../support/azurite.js";
import { recordedTableStore } from "../support/recorded-table.js";

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

describe("Azure Table store: names with an unpaired surrogate", () => {
  it("keeps apart two keys that differ only in an unpaired surrogate (create-if-absent of each succeeds)", async () => {
    const { store } = recordedTableStore(azurite);
    const high = "sample\uD800";
    const low = "sample\uDC00";
    expect(await store.create("lease", "shmhunt-sample", high, { owner: "A" })).toBe(true);
    expect(await store.create("lease", "shmhunt-sample", low, { owner: "B" })).toBe(true);
    expect(await store.get("lease", "shmhunt-sample", high)).toEqual({ owner: "A" });
    expect(await store.get("lease", "shmhunt-sample", low)).toEqual({ owner: "B" });
  });

  it("list and getMany answer a record under the key it was written with", async () => {
    const { store } = recordedTableStore(azurite);
    const key = "k\uD83D"; // a high surrogate without its low half
    await store.put("hit", "rule-1", key, { n: 1 });
    expect(await store.get("hit", "rule-1", key)).toEqual({ n: 1 });
    expect(await store.getMany("hit", "rule-1", [key])).toEqual([{ n: 1 }]);
    expect((await store.list("hit", "rule-1")).map((r) => r.key)).toEqual([key]);
  });
});
