/**
 * An EQL condition asked two ways over the same events: the evaluator over ECS documents, and the Defender
 * translation run in the local engine over the table's rows given inline (a `Row` column numbers them). The KQL
 * function-reference and null-argument suites hold both to Elastic's EQL reference.
 */
import { expect } from "vitest";
import { evaluate, parseEql } from "../../src/eql/index.js";
import { translateQuery } from "../../src/kql/index.js";
import { runInline, toRecords } from "../../src/workspace/index.js";

export interface Table {
  readonly name: string;
  readonly category: string;
  /** ECS field → [column, KQL type] */
  readonly columns: Readonly<Record<string, readonly [string, "string" | "long"]>>;
  /** Columns every row holds (the category's ActionType) */
  readonly fixed?: Readonly<Record<string, string>>;
}

export const NETWORK: Table = {
  name: "DeviceNetworkEvents",
  category: "network",
  columns: { "destination.ip": ["RemoteIP", "string"], "destination.port": ["RemotePort", "long"] },
};
export const PROCESS: Table = {
  name: "DeviceProcessEvents",
  category: "process",
  columns: { "process.name": ["FileName", "string"], "process.pid": ["ProcessId", "long"] },
  fixed: { ActionType: "ProcessCreated" },
};

export type Event = Readonly<Record<string, string | number | undefined>>;

export function evaluator(eql: string, table: Table, events: readonly Event[]): number[] {
  const docs = events.map((e, i) => {
    const doc: Record<string, unknown> = {
      "@timestamp": new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      "event.category": table.category,
    };
    for (const [k, v] of Object.entries(e)) if (v !== undefined) doc[k] = v;
    return doc;
  });
  return evaluate(parseEql(eql), docs)
    .map((m) => m.indexes[0] as number)
    .sort((a, b) => a - b);
}

export async function defender(
  eql: string,
  table: Table,
  events: readonly Event[],
): Promise<{ rows: number[]; text: string }> {
  const t = translateQuery(parseEql(eql), "defender");
  expect(t.refused, t.refused?.message).toBeUndefined();
  expect(t.diagnostics).toEqual([]);
  const fields = Object.entries(table.columns);
  const fixed = Object.entries(table.fixed ?? {});
  const header = [
    ...fields.map(([, [c, type]]) => `${c}:${type}`),
    ...fixed.map(([c]) => `${c}:string`),
    "Row:long",
  ].join(", ");
  const cells = events.flatMap((e, i) => [
    ...fields.map(([f, [, type]]) => {
      const v = e[f];
      // a missing string is empty in Defender's tables, a missing number null (docs/kql.md "Nulls")
      if (v === undefined) return type === "string" ? '""' : "long(null)";
      return type === "string" ? JSON.stringify(String(v)) : String(v);
    }),
    ...fixed.map(([, v]) => JSON.stringify(v)),
    String(i),
  ]);
  const text = t.kql ?? "";
  const data = `datatable(${header})[${cells.join(", ")}]`;
  const query = text.replace(new RegExp(`^${table.name}\\b`, "m"), data);
  const out = toRecords(await runInline(`${query}\n| project Row`, { now: 0 }));
  return { rows: out.map((r) => Number(r.Row)).sort((a, b) => a - b), text };
}

export async function check(eql: string, table: Table, events: readonly Event[], expected: readonly number[]) {
  expect(evaluator(eql, table, events), "evaluator").toEqual(expected);
  const got = await defender(eql, table, events);
  expect(got.rows, got.text).toEqual(expected);
}
