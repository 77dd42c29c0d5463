/**
 * Regression tests for issue 10's bugs 5, 6, 7, 8 and 10, end to end: the evaluator over ECS documents and the
 * translated KQL (run by the local engine over rows of the target's table) give the answer of an outside oracle:
 * - bugs 5–7 (Lucene regex): Lucene's RegExp javadoc (org.apache.lucene.util.automaton.RegExp): `\d` "a digit
 *   [0-9]", `\s` "whitespace [ \t\n\r]", `\w` "a word character [a-zA-Z_0-9]"; numeric intervals "if n and m have
 *   the same number of digits, then the conforming strings must have that length"; a class is a union of
 *   characters and ranges (`parseCharClasses`), so `&&` or `~~` in it are members.
 * - bug 8: Elasticsearch's ip field indexes addresses with Lucene's InetAddressPoint, whose javadoc says IPv4
 *   addresses are indexed as IPv4-mapped IPv6 addresses (::ffff:a.b.c.d), so an IPv4-mapped address is the IPv4
 *   address to a CIDR query; a negated query leaf matches a document without the field (bool must_not).
 * - bug 10: Java's String.length (UTF-16 units) behind EQL's length(); KQL docs strlen-function.md: "This function
 *   counts Unicode code points".
 */
import { describe, expect, it } from "vitest";
import { evaluate, parseEql } from "../../src/eql/index.js";
import { translateQuery } from "../../src/kql/index.js";
import { runInline, toRecords } from "../../src/workspace/index.js";

/** Indexes of the events the evaluator matches. */
function evaluator(eql: string, events: readonly Record<string, unknown>[]): number[] {
  const docs = events.map((e, i) => ({ "@timestamp": new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), ...e }));
  const result = evaluate(parseEql(eql), docs);
  return result.map((m) => m.indexes[0] as number).sort((a, b) => a - b);
}

/** Indexes of the rows the translated KQL matches, the table given inline as a datatable of string columns. */
async function kql(eql: string, table: string, rows: readonly Record<string, string>[]): Promise<number[]> {
  const t = translateQuery(parseEql(eql), "defender");
  expect(t.refused, t.refused?.message).toBeUndefined();
  expect(t.diagnostics).toEqual([]);
  const columns = Object.keys(rows[0] ?? {});
  const cells = rows.flatMap((r, i) => [...columns.map((c) => JSON.stringify(r[c] ?? "")), String(i)]);
  const data = `datatable(${columns.map((c) => `${c}:string`).join(", ")}, Row:long)[${cells.join(", ")}]`;
  const query = (t.kql ?? "").replace(new RegExp(`^${table}\\b`, "m"), data);
  const out = toRecords(await runInline(`${query}\n| project Row`, { now: 0 }));
  return out.map((r) => Number(r.Row)).sort((a, b) => a - b);
}

interface Case {
  readonly eql: string;
  /** field value per event (undefined: the field is missing) */
  readonly values: readonly (string | undefined)[];
  readonly expected: readonly number[];
}

async function check(c: Case, field: string, column: string, table: string, extra: Record<string, string> = {}) {
  const events = c.values.map((v) => {
    const doc: Record<string, unknown> = { "event.category": table === "DeviceNetworkEvents" ? "network" : "process" };
    if (v !== undefined) doc[field] = v;
    return doc;
  });
  expect(evaluator(c.eql, events)).toEqual(c.expected);
  const rows = c.values.map((v) => ({ ...extra, [column]: v ?? "" }));
  expect(await kql(c.eql, table, rows)).toEqual(c.expected);
}

describe("bug 5: Lucene numeric intervals", () => {
  it.each<Case>([
    { eql: 'process where process.name regex "x<1-9>"', values: ["x01", "x1", "x9", "x10"], expected: [1, 2] },
    { eql: 'process where process.name regex "x<01-10>"', values: ["x07", "x7", "x10", "x010"], expected: [0, 2] },
    { eql: 'process where process.name regex "x<1-100>"', values: ["x007", "x100", "x101"], expected: [0, 1] },
  ])("$eql", (c) => check(c, "process.name", "FileName", "DeviceProcessEvents"));
});

describe("bug 6: \\d \\s \\w are ASCII", () => {
  it.each<Case>([
    { eql: 'process where process.name regex "a\\\\d"', values: ["a3", "a٣"], expected: [0] },
    {
      eql: 'process where process.name regex "a\\\\sb"',
      values: ["a b", "a\u00a0b", "a\u000bb", "a\tb"],
      expected: [0, 3],
    },
    { eql: 'process where process.name regex "\\\\w+"', values: ["abc_9", "café"], expected: [0] },
    { eql: 'process where process.name regex "\\\\S+"', values: ["a\u00a0b", "a b"], expected: [0] },
  ])("$eql", (c) => check(c, "process.name", "FileName", "DeviceProcessEvents"));
});

describe("bug 7: && ~~ inside a class are members", () => {
  it.each<Case>([
    { eql: 'process where process.name regex "[a&&b]"', values: ["&", "a", "c"], expected: [0, 1] },
    { eql: 'process where process.name regex "[a~~b]+"', values: ["~a", "ab", "c~"], expected: [0, 1] },
    { eql: 'process where process.name regex "[!--]"', values: ["-", ",", "."], expected: [0, 1] },
  ])("$eql", (c) => check(c, "process.name", "FileName", "DeviceProcessEvents"));
});

describe("bug 8: cidrMatch on IPv4-mapped IPv6, and its negation on a missing address", () => {
  const values = ["::ffff:10.1.2.3", "10.1.2.3", "11.0.0.1", undefined, "fe80::1"];
  it.each<Case>([
    { eql: 'network where cidrMatch(destination.ip, "10.0.0.0/8")', values, expected: [0, 1] },
    { eql: 'network where not cidrMatch(destination.ip, "10.0.0.0/8")', values, expected: [2, 3, 4] },
    { eql: 'network where cidrMatch(destination.ip, "10.0.0.0/8", "fe80::/10")', values, expected: [0, 1, 4] },
  ])("$eql", (c) => check(c, "destination.ip", "RemoteIP", "DeviceNetworkEvents"));
});

describe("bug 10: length() counts UTF-16 units", () => {
  it.each<Case>([
    // "😀" is one code point and two UTF-16 units
    { eql: "process where length(process.name) == 3", values: ["a😀", "abc", "a😀b"], expected: [0, 1] },
  ])("$eql", (c) => check(c, "process.name", "FileName", "DeviceProcessEvents"));

  it("names substring/indexOf's code-point offsets as an approximation", () => {
    const t = translateQuery(parseEql('process where substring(process.name, 1) == "x"'), "defender");
    expect(t.approximations.some((a) => a.startsWith("substring(): offsets count code points"))).toBe(true);
  });
});
