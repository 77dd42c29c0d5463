/**
 * Leaves whose translation selected other events than Elasticsearch (found by a review): query leaves on a field an
 * event does not have (docs/eql.md: "A query leaf on a missing field does not match, and its negation does") where
 * the leaf holds on the empty string a missing KQL string is (src/kql/emit-expr.ts `queryLeafCond`), and a date
 * written as a year.
 *
 * Each case: an EQL query, ECS events, the answer Elasticsearch gives (from an outside source, cited per block),
 * and the translated KQL (Defender target) run by the local engine over the same events as rows of
 * DeviceProcessEvents (a missing ECS field is an empty string column, as docs/kql.md "Nulls" says KQL has it).
 * The engine's semantics for the operators involved were checked against ../shared/reference/kusto-docs
 * (startswith: "RHS is an initial subsequence of LHS"; `==` case-sensitive equality; `matches regex` as RE2/Rust
 * regex with the `i` flag "letters match both upper and lower case").
 */
import { describe, expect, it } from "vitest";
import { evaluate, parseEql } from "../../src/eql/index.js";
import { translateQuery } from "../../src/kql/index.js";
import { runInline, toRecords } from "../../src/workspace/index.js";

/** Indexes of the events the evaluator matches (for information: the expected answer comes from the citations). */
function evaluator(eql: string, events: readonly Record<string, unknown>[]): number[] {
  const docs = events.map((e, i) => ({
    "@timestamp": new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    "event.category": "process",
    ...e,
  }));
  return evaluate(parseEql(eql), docs)
    .map((m) => m.indexes[0] as number)
    .sort((a, b) => a - b);
}

/** Indexes of the rows the translated KQL (defender) matches, DeviceProcessEvents given inline as a datatable. */
async function kql(eql: string, rows: readonly Record<string, string>[]): Promise<{ rows: number[]; text: string }> {
  const t = translateQuery(parseEql(eql), "defender");
  expect(t.refused, t.refused?.message).toBeUndefined();
  expect(t.diagnostics).toEqual([]);
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cells = rows.flatMap((r, i) => [...columns.map((c) => JSON.stringify(r[c] ?? "")), String(i)]);
  const data = `datatable(${columns.map((c) => `${c}:string`).join(", ")}, Row:long)[${cells.join(", ")}]`;
  const text = t.kql ?? "";
  const query = text.replace(/^DeviceProcessEvents\b/m, data);
  const out = toRecords(await runInline(`${query}\n| project Row`, { now: 0 }));
  return { rows: out.map((r) => Number(r.Row)).sort((a, b) => a - b), text };
}

interface Case {
  readonly eql: string;
  /** process.name per event; undefined: the event has no process.name */
  readonly names: readonly (string | undefined)[];
  /** what Elasticsearch returns (see the block's citation) */
  readonly expected: readonly number[];
}

async function check(c: Case, field = "process.name", column = "FileName") {
  const events = c.names.map((v) => (v === undefined ? {} : { [field]: v }));
  // the project's reference evaluator agrees with Elasticsearch on every case here
  expect(evaluator(c.eql, events)).toEqual(c.expected);
  const rows = c.names.map((v) => ({ [column]: v ?? "", ActionType: "ProcessCreated" }));
  const got = await kql(c.eql, rows);
  expect(got.rows, got.text).toEqual(c.expected);
}

/**
 * A leaf that holds on the empty string used to translate to a KQL test that holds on an empty column, i.e. on
 * an event WITHOUT the field; its negation then fails there.
 *
 * Elasticsearch: a field compared with constants is a Lucene query (term, prefix, wildcard, regexp) over the
 * field's indexed values; a document without the field has no value, so the query does not match it, and its
 * negation (bool must_not) does. Elastic's EQL docs ("Check if a field exists": "To match events that contain
 * a field value, compare the field to null using the != operator", "To match events that do not contain a field
 * value, compare the field to null using the == operator") make existence a separate test; docs/eql.md
 * ("A query leaf on a missing field does not match, and its negation does") and docs/kql.md ("Nulls": "A query
 * leaf on a missing value does not match, and its negation does") state the same as the project's own contract.
 * Events: 0 has no process.name, 1 has "bash". (An event holding an actual "" is left out: docs/kql.md lists
 * "an event whose field holds an actual empty string reads as missing in KQL" as a known difference.)
 */
describe("leaves true on the empty string, on events without the field", () => {
  const names = [undefined, "bash"] as const;
  it.each<Case>([
    // Lucene term query "" on a missing field: no match; KQL `FileName == ""` holds on the empty column
    { eql: 'process where process.name == ""', names, expected: [] },
    { eql: 'process where process.name : ""', names, expected: [] },
    { eql: 'process where process.name in ("", "zsh")', names, expected: [] },
    // must_not of the term query matches the document without the field
    { eql: 'process where process.name != ""', names, expected: [0, 1] },
    // prefix query "" = exists; KQL: "" startswith_cs "" is true ("RHS is an initial subsequence of LHS")
    { eql: 'process where startsWith(process.name, "")', names, expected: [1] },
    { eql: 'process where not stringContains(process.name, "")', names, expected: [0] },
    // a Lucene regexp that accepts the empty string still needs a value; `^(?:.*)$` matches the empty column
    { eql: 'process where process.name regex ".*"', names, expected: [1] },
    { eql: 'process where process.name regex~ "(bash)?"', names, expected: [1] },
    { eql: 'process where not process.name regex ".*"', names, expected: [0] },
  ])("$eql", (c) => check(c));

  it('argv: process.args : "*" on an event without arguments (command line empty)', async () => {
    // Elastic's EQL docs: a wildcard on a multi-valued field matches when any value does; no value, no match.
    await check(
      { eql: 'process where process.args : "*"', names: [undefined, "sh -c id"], expected: [1] },
      "process.args",
      "ProcessCommandLine",
    );
  });
});

/**
 * A date written as four digits. Elasticsearch reads a constant compared with a date as its default format,
 * `strict_date_optional_time||epoch_millis`; its format docs (mapping/params/format): `strict_date_optional_time` is
 * "A generic ISO datetime parser, where the date must include the year at a minimum, and the time (separated by T),
 * is optional", and formats joined by `||` are "tried in turn": "2026" is 2026-01-01T00:00:00Z, not 2026 ms after
 * the epoch. It used to be read as milliseconds, by the translator and by the evaluator.
 */
describe("@timestamp compared with a year", () => {
  it('process where @timestamp >= "2026": an event of 2025-06-01 is before it, one of 2026-06-01 after', async () => {
    const t = translateQuery(parseEql('process where @timestamp >= "2026"'), "defender");
    expect(t.kql).toContain("datetime(2026-01-01T00:00:00.000Z)");
    const data = `datatable(Timestamp:datetime, FileName:string, Row:long)[datetime(2025-06-01T00:00:00Z), "bash", 0, datetime(2026-06-01T00:00:00Z), "bash", 1]`;
    const query = (t.kql ?? "").replace(/^DeviceProcessEvents\b/m, data);
    const out = toRecords(await runInline(`${query}\n| project Row`, { now: 0 }));
    expect(out.map((r) => Number(r.Row))).toEqual([1]);
    const events = ["2025-06-01T00:00:00Z", "2026-06-01T00:00:00Z"].map((at) => ({
      "@timestamp": at,
      "event.category": "process",
    }));
    expect(evaluate(parseEql('process where @timestamp >= "2026"'), events).map((m) => m.indexes[0])).toEqual([1]);
  });
});
