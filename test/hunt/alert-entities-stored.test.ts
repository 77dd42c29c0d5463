/**
 * The hunt's alerts leave their entities out of the stored evidence when the row gives them back (`entitiesFromRow`,
 * src/hunt/alert-request.ts): the local writer stores the row as JSON, and its reader rebuilds the entities from the
 * row read back. That holds only when JSON keeps every entity column: JSON.stringify drops a key whose value is
 * undefined, and the entities follow the order of the row's columns.
 */
import { describe, expect, it } from "vitest";
import { alertRequestOf, entitiesOf } from "../../src/hunt/alert-request.js";
import type { HitRecord } from "../../src/hunt/types.js";
import { huntRule, plan } from "../support/hunt-fixtures.js";

const hitOf = (row: Record<string, unknown>): HitRecord =>
  ({
    key: "k",
    ruleId: "r",
    target: "defender",
    status: "new",
    firstSeen: "2026-03-01T10:00:00.000Z",
    updatedAt: "2026-03-01T10:00:00.000Z",
    window: { start: "2026-03-01T09:00:00.000Z", end: "2026-03-01T10:00:00.000Z" },
    eventTime: "2026-03-01T10:00:00.000Z",
    row,
  }) as HitRecord;

const readBack = (row: Record<string, unknown>) => JSON.parse(JSON.stringify(row)) as Record<string, unknown>;

describe("alert entities left to the row", () => {
  const huntPlan = plan(huntRule({ grouping: { entities: ["Host"], windowMs: 3_600_000 } }));

  it("are left to the row only when the row read back from JSON gives the same entities", () => {
    const rows: Array<Record<string, unknown>> = [
      { Entity_Host_HostName: "web-01", Entity_Account_Name: "alice", Entity_Host_HostId: "h1" },
      { Entity_Host_HostName: null, Entity_Account_Name: "alice", Entity_Host_HostId: "h1" },
      { Entity_Host_HostName: "", Entity_Account_Name: 7, Entity_Host_HostId: "h1" },
      // An undefined column is dropped by JSON: Host's first column goes, and Account comes first once read back.
      { Entity_Host_HostName: undefined, Entity_Account_Name: "alice", Entity_Host_HostId: "h1" },
      { Entity_Account_Name: "alice", Entity_Host_HostId: undefined },
    ];
    for (const row of rows) {
      const alert = alertRequestOf(huntPlan, hitOf(row), undefined);
      const same = JSON.stringify(entitiesOf(readBack(row))) === JSON.stringify(alert.entities);
      if (alert.entitiesFromRow) expect(same, JSON.stringify(Object.keys(row))).toBe(true);
    }
    // The undefined column's row: its entities are stored with the alert, not left to the row.
    expect(alertRequestOf(huntPlan, hitOf(rows[3]!), undefined).entitiesFromRow).toBe(false);
    // A row JSON keeps whole still leaves them to the row.
    expect(alertRequestOf(huntPlan, hitOf(rows[0]!), undefined).entitiesFromRow).toBe(true);
  });
});
