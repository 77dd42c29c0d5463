/**
 * A transaction's 4 MiB. Until 8 December 2026 TRANSACTION_BYTES (4 MiB less 64 KiB) budgeted each operation's MIME
 * part at a flat 1,024 bytes beside its JSON entity, but the part carries the request line with the entity's URL,
 * PartitionKey and RowKey percent-escaped again (each `%` of an encoded name becomes `%25`): with long names a part's
 * headers are ~2 KB, and 100 of them overran the 64 KiB reserve. Each part now counts its keys as its request line
 * carries them. Microsoft: "The transaction can
 * include at most 100 entities, and its total payload may be no more than 4 MiB in size"; Azurite refuses such a
 * request (413 RequestBodyTooLarge), so the batch fails whole, again on every rerun.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StateOp } from "../../src/store/index.js";
import { type Azurite, startAzurite } from "../support/azurite.js";
import { recordedTableStore, transactionsOf } from "../support/recorded-table.js";

const MiB = 1024 * 1024;

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

describe("Azure Table store: a transaction's request at most 4 MiB", () => {
  it("keeps every transaction within 4 MiB when the records' partition and keys are long names", async () => {
    const { store, sent } = recordedTableStore(azurite);
    await store.put("pending", "warm", "warm", 0); // the table's creation, before counting
    // Legal names (Cyrillic path segments): over 512 characters once encoded, so kept as head, `%%` and SHA-256.
    const partition = `hostpath:["web-01","/dev/shm/${"д".repeat(200)}"]`;
    const key = (i: number) => `${"ж".repeat(200)}${String(i).padStart(3, "0")}`;
    // Each record's value sized so that by the store's own count (entity JSON + 1,024 bytes a part) the 100
    // operations fit one transaction of TRANSACTION_BYTES (4 MiB - 64 KiB): ~41 KB a record, far under 1 MiB.
    const fixed = Buffer.byteLength(
      JSON.stringify({
        partitionKey: "a".repeat(512),
        rowKey: "a".repeat(512),
        n: 2,
        pn: partition,
        kn: key(0),
        d0: "",
        d1: "",
      }),
    );
    const length = 41_280 - 1024 - 4 - fixed;
    const ops: StateOp[] = Array.from({ length: 100 }, (_, i) => ({
      op: "put",
      kind: "pending",
      partition,
      key: key(i),
      value: "x".repeat(length),
    }));
    const start = sent.length;
    const outcome = await store.batch(ops).then(
      () => "written",
      (error: Error) => error.message,
    );
    for (const tx of transactionsOf(sent.slice(start)))
      expect.soft(Buffer.byteLength(tx.body, "utf8")).toBeLessThanOrEqual(4 * MiB);
    expect(outcome).toBe("written");
  });
});
