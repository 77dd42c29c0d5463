import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStateStore, LocalStateStore, type StateStore } from "../../src/store/index.js";
import { type Azurite, startAzurite } from "../support/azurite.js";

let azurite: Azurite;
const dirs: string[] = [];

beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-state-"));
  dirs.push(dir);
  return dir;
}

let tableCount = 0;
const backends: ReadonlyArray<[string, () => Promise<StateStore>]> = [
  ["local files", async () => new LocalStateStore(tempDir())],
  [
    "Azure Table (Azurite)",
    async () =>
      createStateStore({
        kind: "table",
        table: `shmhuntstate${++tableCount}`,
        access: { connectionString: azurite.connectionString },
      }),
  ],
];

describe.each(backends)("state store: %s", (_name, make) => {
  it("creates a record once and reports who created it", async () => {
    const store = await make();
    expect(await store.create("hit", "rule-1", "k1", { status: "pending" })).toBe(true);
    expect(await store.create("hit", "rule-1", "k1", { status: "other" })).toBe(false);
    expect(await store.get("hit", "rule-1", "k1")).toEqual({ status: "pending" });
  });

  it("lets exactly one of many concurrent creators win", async () => {
    const store = await make();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.create("incident", "local", "inc-1", { writer: i })),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect(await store.get("incident", "local", "inc-1")).toEqual({ writer: winner });
  });

  it("replaces, deletes idempotently and answers undefined for a missing record", async () => {
    const store = await make();
    await store.put("checkpoint", "rule-1", "defender", { end: "2026-01-01T00:05:00.000Z" });
    await store.put("checkpoint", "rule-1", "defender", { end: "2026-01-01T00:10:00.000Z" });
    expect(await store.get("checkpoint", "rule-1", "defender")).toEqual({ end: "2026-01-01T00:10:00.000Z" });
    await store.delete("checkpoint", "rule-1", "defender");
    await store.delete("checkpoint", "rule-1", "defender");
    expect(await store.get("checkpoint", "rule-1", "defender")).toBeUndefined();
    expect(await store.get("verdict", "x", "y")).toBeUndefined();
  });

  it("lists by kind and by partition, keeping awkward keys intact", async () => {
    const store = await make();
    const awkward = "a/b\\c#d?e'f%g é.json";
    await store.put("pending", "sha-b", "k2", 2);
    await store.put("pending", "sha-a", awkward, 1);
    await store.put("pending", "sha-a", "k3", 3);
    await store.put("hit", "sha-a", "not-pending", 0);
    expect((await store.list("pending")).map((r) => [r.partition, r.key, r.value])).toEqual([
      ["sha-a", awkward, 1],
      ["sha-a", "k3", 3],
      ["sha-b", "k2", 2],
    ]);
    expect((await store.list("pending", "sha-b")).map((r) => r.key)).toEqual(["k2"]);
    expect(await store.list("incident")).toEqual([]);
  });

  it("round-trips a record larger than one table property", async () => {
    const store = await make();
    const big = { text: "x".repeat(100_000), nested: { list: [1, 2, 3] } };
    await store.put("incident", "local", "big", big);
    expect(await store.get("incident", "local", "big")).toEqual(big);
  });
});

describe("local state store on disk", () => {
  it("leaves no temporary files behind and names files safely", async () => {
    const dir = tempDir();
    const store = new LocalStateStore(dir);
    await store.create("hit", "../escape", "../../etc/passwd", 1);
    await store.put("hit", "../escape", "../../etc/passwd", 2);
    expect(await store.create("hit", "../escape", "../../etc/passwd", 3)).toBe(false);
    expect(readdirSync(dir)).toEqual(["hit"]);
    const [partition] = readdirSync(path.join(dir, "hit"));
    expect(partition).toBe("%2E.%2Fescape");
    expect(readdirSync(path.join(dir, "hit", partition!))).toEqual(["%2E.%2F..%2Fetc%2Fpasswd.json"]);
  });
});
