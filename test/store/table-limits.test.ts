/**
 * The Azure Table state store against Microsoft's documented limits, checked on what the store sends (Azurite is
 * laxer than Azure on some of them):
 *
 * - "Performing entity group transactions": "The transaction can include at most 100 entities, and its total
 *   payload may be no more than 4 MiB in size."
 * - "Understanding the Table service data model": PartitionKey and RowKey each "a string value that may be up to
 *   1 KiB in size" (UTF-16: 512 characters; Azurite refuses a longer one); "The combined size of all data in an
 *   entity's properties can't exceed 1 MiB"; String, "a UTF-16-encoded value".
 *
 * A record or a hunt that breaks a limit must not stop the hunt: a transaction refused whole is refused again on
 * every rerun of the window, and the checkpoint never moves.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HuntDeps, HuntState, LocalAlertWriter, runHunts } from "../../src/hunt/index.js";
import { MemoryStateStore, type StateOp, type StateStore } from "../../src/store/index.js";
import { type Azurite, startAzurite } from "../support/azurite.js";
import { clock, EventTable, execEvent, huntRule, plan } from "../support/hunt-fixtures.js";
import { documentedEntitySize, entitiesIn, recordedTableStore, transactionsOf } from "../support/recorded-table.js";

const MiB = 1024 * 1024;

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

describe("Azure Table: a transaction's 4 MiB payload", () => {
  it("splits 100 records of one partition whose payload is over 4 MiB, and writes them all", async () => {
    const { store, sent } = recordedTableStore(azurite);
    // ~90 KB each as the service counts an entity (well under 1 MiB): ~4.5 MB together.
    const ops: StateOp[] = Array.from({ length: 100 }, (_, i) => ({
      op: "create",
      kind: "hit",
      partition: "rule-1",
      key: `k${i}`,
      value: { i, text: "x".repeat(45_000) },
    }));
    expect(await store.batch(ops)).toEqual(ops.map(() => true));
    const transactions = transactionsOf(sent);
    expect(transactions.length).toBeGreaterThan(1);
    for (const tx of transactions) expect(Buffer.byteLength(tx.body, "utf8")).toBeLessThanOrEqual(4 * MiB);
    expect(await store.get("hit", "rule-1", "k99")).toEqual({ i: 99, text: "x".repeat(45_000) });
  });

  it("a hunt whose rows carry long command lines (~44 KB a row) completes, and its next run too", async () => {
    const runs = [await longCommandLineHunt(recordedTableStore(azurite).store)];
    runs.push(await longCommandLineHunt(new MemoryStateStore())); // the same hunt, state in memory: the peer
    for (const statuses of runs)
      expect(statuses).toEqual([
        ["completed", undefined],
        ["completed", undefined],
      ]);
  });
});

/** Two runs of a hunt over 100 rows whose command lines are 22,000 characters (twice in the row): status, error. */
async function longCommandLineHunt(store: StateStore): Promise<Array<[string | undefined, string | undefined]>> {
  const state = new HuntState(store);
  const time = clock("2026-03-01T10:00:00Z");
  const table = new EventTable();
  for (let i = 0; i < 100; i++)
    table.add(
      execEvent(new Date(Date.parse("2026-03-01T09:58:00Z") + i).toISOString(), {
        ProcessCommandLine: `/dev/shm/payload -e ${"A".repeat(22_000)}`,
      }),
    );
  const alerts = new LocalAlertWriter(new HuntState(new MemoryStateStore()), time.now);
  const deps: HuntDeps = { state, queries: table, alerts, clock: time.now };
  const p = plan(huntRule({ maxSignals: 1000 }));
  const first = await runHunts([p], deps, { force: true });
  time.advance(5 * 60_000);
  const second = await runHunts([p], deps, { force: true });
  return [first.runs[0], second.runs[0]].map((r) => [r?.status, r?.error]);
}

describe("Azure Table: an entity's 1 MiB", () => {
  it("refuses before sending anything a record over 1 MiB as the service counts it, and sends one under it", async () => {
    const { store, sent } = recordedTableStore(azurite);
    await store.put("hit", "p", "warm", 0);
    const start = sent.length;
    // 600,000 JSON characters: 1.2 MB as UTF-16.
    const big: StateOp = { op: "put", kind: "hit", partition: "p", key: "big", value: { text: "y".repeat(600_000) } };
    const small: StateOp = { op: "put", kind: "hit", partition: "p", key: "small", value: 1 };
    await expect(store.batch([small, big])).rejects.toThrow(/too large for a table entity/);
    expect(sent.slice(start)).toEqual([]); // nothing of the batch was sent
    await expect(store.put("hit", "p", "big", { text: "y".repeat(600_000) })).rejects.toThrow(/too large/);
    // Just under: 500,000 characters, ~1,000,000 bytes as UTF-16.
    await store.put("hit", "p", "large", { text: "z".repeat(500_000) });
    const bodies = sent.slice(start).filter((s) => s.body.includes('"RowKey"'));
    expect(bodies).toHaveLength(1);
    expect(documentedEntitySize(JSON.parse(bodies[0]!.body) as Record<string, unknown>)).toBeLessThanOrEqual(MiB);
    expect(await store.get("hit", "p", "large")).toEqual({ text: "z".repeat(500_000) });
  });
});

describe("Azure Table: keys of 1 KiB", () => {
  it("stores, reads, lists and deletes records whose names are over 1 KiB once encoded", async () => {
    const { store, sent } = recordedTableStore(azurite);
    const key = "ж".repeat(200); // 400 bytes of UTF-8: 1,200 characters once encoded (%D0%B6 a letter)
    const partition = `hostpath:["web-01","/dev/shm/${"д".repeat(100)}/${"д".repeat(100)}"]`;
    await store.put("pending", partition, key, { ok: 1 });
    expect(await store.create("pending", partition, key, { ok: 2 })).toBe(false);
    expect(await store.create("pending", partition, `${key}!`, { ok: 3 })).toBe(true);
    expect(await store.get("pending", partition, key)).toEqual({ ok: 1 });
    expect(await store.getMany("pending", partition, [key, `${key}!`, "none"])).toEqual([
      { ok: 1 },
      { ok: 3 },
      undefined,
    ]);
    expect((await store.list("pending")).map((r) => [r.partition, r.key])).toEqual([
      [partition, key],
      [partition, `${key}!`],
    ]);
    expect((await store.list("pending", partition)).map((r) => r.key)).toEqual([key, `${key}!`]);
    await store.delete("pending", partition, key);
    expect(await store.get("pending", partition, key)).toBeUndefined();
    for (const s of sent) {
      const url = decodeURIComponent(s.url);
      for (const match of url.matchAll(/(PartitionKey|RowKey)='((?:[^']|'')*)'/g))
        expect(match[2]!.length).toBeLessThanOrEqual(512);
      for (const entity of s.body.startsWith("{") ? [JSON.parse(s.body)] : entitiesIn(s.body)) {
        if (entity.RowKey === undefined) continue; // the table's creation
        expect(String(entity.PartitionKey).length).toBeLessThanOrEqual(512);
        expect(String(entity.RowKey).length).toBeLessThanOrEqual(512);
      }
    }
  });

  it("keeps the keys of names that fit as they were (records written before keep their place)", async () => {
    const { store, sent } = recordedTableStore(azurite);
    const fits = "k".repeat(512);
    await store.put("hit", "p".repeat(512 - "hit~".length), fits, 1);
    const entity = JSON.parse(sent.find((s) => s.body.includes('"RowKey"'))!.body) as Record<string, unknown>;
    expect(entity.RowKey).toBe(fits);
    expect(entity.PartitionKey).toBe(`hit~${"p".repeat(508)}`);
    expect(entity.kn).toBeUndefined();
  });

  it("a gated hunt whose row names a long path (the sample awaited by host and path) completes, twice", async () => {
    for (const store of [recordedTableStore(azurite).store, new MemoryStateStore()])
      expect(await longPathHunt(store)).toEqual({
        runs: [
          ["completed", undefined],
          ["completed", undefined],
        ],
        pending: 2,
      });
  });
});

/**
 * Two runs of a gated hunt (require) over two rows without a SHA-256: one names a file two directories deep under
 * /dev/shm, each name 100 Cyrillic letters (200 bytes, legal on Linux), the other an ordinary path. Both hits wait
 * (pending) by host and path.
 */
async function longPathHunt(store: StateStore) {
  const state = new HuntState(store);
  const time = clock("2026-03-01T10:00:00Z");
  const table = new EventTable();
  const dir = "д".repeat(100);
  const folder = `/dev/shm/${dir}/${dir}`;
  table.add(
    execEvent("2026-03-01T09:56:00Z", { SHA256: undefined, FolderPath: folder, ProcessCommandLine: folder }),
    execEvent("2026-03-01T09:57:00Z", { SHA256: undefined }),
  );
  const alerts = new LocalAlertWriter(new HuntState(new MemoryStateStore()), time.now);
  const deps: HuntDeps = { state, queries: table, alerts, clock: time.now };
  const rule = huntRule({ gate: { mode: "require", yaraRules: ["shm_elf"], pendingTimeoutMs: 60 * 60_000 } });
  const p = { ...plan(rule), sampleNameColumns: { path: ["FolderPath"], sha1: [], md5: [] } };
  const first = await runHunts([p], deps, { force: true });
  time.advance(5 * 60_000);
  const second = await runHunts([p], deps, { force: true });
  return {
    runs: [first.runs[0], second.runs[0]].map((r) => [r?.status, r?.error]),
    pending: (await state.pending()).length,
  };
}

describe("Azure Table: creating again records that exist (a rerun after a kill)", () => {
  it("answers each false in a few requests a transaction, not a round trip a record", async () => {
    const { store, sent } = recordedTableStore(azurite);
    const ops: StateOp[] = Array.from({ length: 200 }, (_, i) => ({
      op: "create",
      kind: "hit",
      partition: "rule-1",
      key: `k${i}`,
      value: { i, row: "r".repeat(2_000) },
    }));
    expect(await store.batch(ops.slice(0, 150))).toEqual(ops.slice(0, 150).map(() => true));
    const start = sent.length;
    const again = await store.batch(ops);
    expect(again).toEqual(ops.map((_, i) => i >= 150));
    // Two transactions of 100: each refused once (409), its creates looked up (8 queries of 14 keys at most), the
    // rest sent again (the second: its 50 new records); the first had none left to send.
    expect(sent.length - start).toBeLessThanOrEqual(2 * (1 + 8 + 1));
    expect(await store.get("hit", "rule-1", "k199")).toEqual({ i: 199, row: "r".repeat(2_000) });
  });
});

describe("Azure Table: the order a batch is sent in", () => {
  it("partition by partition, in the order each first appears: a crash leaves a prefix of that order", async () => {
    let transactions = 0;
    // The second transaction sent is never answered (a crash).
    const { store } = recordedTableStore(azurite, {
      failWhen: (s) => s.url.includes("$batch") && ++transactions === 2,
    });
    const ops: StateOp[] = [
      { op: "put", kind: "hit", partition: "p1", key: "first", value: 1 },
      { op: "put", kind: "hit", partition: "p2", key: "second", value: 2 },
      { op: "put", kind: "hit", partition: "p1", key: "third", value: 3 },
      { op: "put", kind: "hit", partition: "p3", key: "fourth", value: 4 },
    ];
    await expect(store.batch(ops)).rejects.toThrow(/simulated crash/);
    const present = await Promise.all(
      ops.map(async (op) => (await store.get("hit", op.partition, op.key)) !== undefined),
    );
    // Sent as p1 {first, third}, then p2 {second}, then p3 {fourth}: the first transaction landed, no other.
    expect(present).toEqual([true, false, true, false]);
  });
});
