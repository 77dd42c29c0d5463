/**
 * Hit keys, incident keys and content ids must not change across versions: a changed key is a duplicate alert
 * after an upgrade. fixtures/keys-7a8b068.json holds what the code at 7a8b068 computed for fixed rows (non-ASCII
 * and very long values, numbers and their text, datetimes in several forms and as dates, rows without a time
 * column, identity columns of a plan, entity grouping); this code must compute the same.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { alertRequestOf } from "../../src/hunt/alert-request.js";
import { hitKey, type Row } from "../../src/hunt/hit-key.js";
import type { HitRecord, HuntPlan, IncidentGrouping } from "../../src/hunt/types.js";
import { contentIds } from "../../src/sentinel/ids.js";
import { huntRule } from "../support/hunt-fixtures.js";

interface Expected {
  readonly row: number;
  readonly ruleId: string;
  readonly target: string;
  readonly identity: number;
  readonly key: string;
  readonly incident: string;
  readonly bookmark: string;
  readonly incidentKeys: ReadonlyArray<{ readonly incidentKey: string; readonly title: string }>;
  readonly groupIncident: readonly string[];
}

const fixture = JSON.parse(readFileSync(path.join(import.meta.dirname, "fixtures", "keys-7a8b068.json"), "utf8")) as {
  rows: Array<Record<string, unknown>>;
  identityOptions: Array<string[] | null>;
  grouping: IncidentGrouping[];
  keys: Expected[];
};

/** A `{"$date": iso}` value of the fixture is a Date in the row (as the Logs SDK gives a datetime column). */
function rowOf(raw: Record<string, unknown>): Row {
  return Object.fromEntries(
    Object.entries(raw).map(([k, v]) => [
      k,
      v !== null && typeof v === "object" && "$date" in v ? new Date((v as { $date: string }).$date) : v,
    ]),
  );
}

describe("keys across versions (computed by 7a8b068)", () => {
  it("are the same for every fixed row, rule, target, identity columns and grouping", () => {
    expect(fixture.keys.length).toBeGreaterThan(300);
    const differing: string[] = [];
    for (const want of fixture.keys) {
      const row = rowOf(fixture.rows[want.row]!);
      const identityColumns = fixture.identityOptions[want.identity];
      const key = hitKey(want.ruleId, want.target, row, identityColumns ? { identityColumns } : {});
      const where = `row ${want.row}, rule ${want.ruleId}, target ${want.target}, identity ${want.identity}`;
      if (key !== want.key) differing.push(`${where}: hit key`);
      if (contentIds.incident(key) !== want.incident) differing.push(`${where}: incident id`);
      if (contentIds.bookmark(key) !== want.bookmark) differing.push(`${where}: bookmark id`);
      fixture.grouping.forEach((grouping, g) => {
        const plan: HuntPlan = {
          rule: huntRule({ id: want.ruleId, name: "Rule é", tactics: [], techniques: [], grouping }),
          target: want.target,
          query: "q",
        };
        const hit = {
          key,
          ruleId: want.ruleId,
          target: want.target,
          status: "new",
          firstSeen: "x",
          updatedAt: "x",
          window: { start: "2026-12-01T00:00:00.000Z", end: "2026-12-03T00:00:00.000Z" },
          eventTime: "2026-12-01T10:00:00.000Z",
          row,
        } as HitRecord;
        const alert = alertRequestOf(plan, hit, undefined);
        if (alert.incidentKey !== want.incidentKeys[g]!.incidentKey) differing.push(`${where}, grouping ${g}: key`);
        if (alert.title !== want.incidentKeys[g]!.title) differing.push(`${where}, grouping ${g}: title`);
        if (contentIds.incident(alert.incidentKey) !== want.groupIncident[g])
          differing.push(`${where}, grouping ${g}: incident id`);
      });
    }
    expect(differing).toEqual([]);
  });
});
