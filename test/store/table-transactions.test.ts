/**
 * Azure Table state in entity group transactions, on Azurite, with every request counted: a batch costs one round
 * trip per partition and 100 operations (the service's limit for a transaction), and a hunt costs two transactions
 * per 100 rows (the hits, then their statuses) plus a fixed few requests.
 */
import { TableClient } from "@azure/data-tables";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HuntDeps, HuntState, LocalAlertWriter, runPlan } from "../../src/hunt/index.js";
import { TableStateStore } from "../../src/store/index.js";
import { type Azurite, startAzurite } from "../support/azurite.js";
import { clock, EventTable, execEvent, huntRule, plan } from "../support/hunt-fixtures.js";

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

let n = 0;
function countedStore(): { store: TableStateStore; requests: () => number } {
  const client = TableClient.fromConnectionString(azurite.connectionString, `txstate${++n}`, {
    allowInsecureConnection: true,
  });
  let count = 0;
  client.pipeline.addPolicy({
    name: "count-requests",
    sendRequest: (request, next) => {
      count++;
      return next(request);
    },
  });
  return { store: new TableStateStore(client), requests: () => count };
}

describe("Azure Table state in transactions (Azurite)", () => {
  it("writes 250 records of one partition in 3 round trips, and decides creates against existing entities", async () => {
    const { store, requests } = countedStore();
    await store.put("hit", "other", "warm", 0); // the table's creation and one write, before counting
    const start = requests();
    const ops = Array.from({ length: 250 }, (_, i) => ({
      op: "create" as const,
      kind: "hit" as const,
      partition: "rule-1",
      key: `k${i}`,
      value: { i },
    }));
    expect(await store.batch(ops)).toEqual(ops.map(() => true));
    expect(requests() - start).toBe(3);
    // Again, with two new keys among existing ones: refused creates answer false, the new ones are written.
    const again = await store.batch([
      ...ops.slice(0, 3),
      { op: "create", kind: "hit", partition: "rule-1", key: "new-1", value: { i: -1 } },
      { op: "delete", kind: "hit", partition: "rule-1", key: "never-written" },
      { op: "create", kind: "hit", partition: "rule-1", key: "new-2", value: { i: -2 } },
    ]);
    expect(again).toEqual([false, false, false, true, true, true]);
    expect(await store.get("hit", "rule-1", "new-2")).toEqual({ i: -2 });
    expect(await store.get("hit", "rule-1", "k1")).toEqual({ i: 1 });
    expect((await store.list("hit", "rule-1")).length).toBe(252);
  });

  it("a hunt over 1,000 rows costs a transaction per 100 rows and 11 requests more", async () => {
    const { store, requests } = countedStore();
    const state = new HuntState(store);
    const time = clock("2026-03-01T10:00:00Z");
    const table = new EventTable();
    for (let i = 0; i < 1000; i++) table.add(execEvent(new Date(Date.parse("2026-03-01T09:55:00Z") + i).toISOString()));
    // Alerts go to Sentinel in the deployed app (not this table); here to a local writer with state of its own.
    const alerts = new LocalAlertWriter(new HuntState(countedStore().store), time.now);
    const deps: HuntDeps = { state, queries: table, alerts, clock: time.now };
    const report = await runPlan(plan(huntRule({ maxSignals: 1000 })), deps, { force: true });
    expect(report.counts).toMatchObject({ rows: 1000, new: 1000, alerted: 1000 });
    // 10 transactions recording the hits, one writing their statuses (the batch's status record); the table's
    // creation, the checkpoint read and write, the one sample's verdict looked up once for the run; the lease read,
    // created, and given up (a conditional update under the ETag the store kept from creating it); the window's
    // max_signals count read, its one record written, and dropped at the end.
    expect(requests()).toBe(10 + 1 + 4 + 4 + 2);
    expect((await state.hits()).filter((h) => h.status === "alerted")).toHaveLength(1000);
  });
});
