/**
 * EQL functions whose translation returned other values than Elastic's EQL function reference states (found by a
 * review against docs/reference/query-languages/eql/eql-function-ref.md in elastic/elasticsearch, quoted per case).
 *
 * Each case runs the translated KQL (Defender target) in the local engine over rows of DeviceProcessEvents, whose
 * `indexof` follows ../shared/reference/kusto-docs/indexof-function.md, and also asks the evaluator (the project's
 * reference) for the same events; the expected answer is the EQL reference's.
 */
import { describe, expect, it } from "vitest";
import { parseEql } from "../../src/eql/index.js";
import { translateQuery } from "../../src/kql/index.js";
import { evaluator as evaluateOn, PROCESS, defender as translatedOn } from "../support/eql-beside-kql.js";

interface Event {
  /** undefined: the event has no process.name (an empty FileName in KQL, docs/kql.md "Nulls") */
  readonly name?: string;
  readonly pid?: number;
}

/** The event as ECS fields of DeviceProcessEvents' columns (FileName, ProcessId). */
const ecs = (e: Event) => ({ "process.name": e.name, "process.pid": e.pid });

/** Indexes of the events the evaluator matches. */
const evaluator = (eql: string, events: readonly Event[]) => evaluateOn(eql, PROCESS, events.map(ecs));

/** Indexes of the rows the Defender translation matches, DeviceProcessEvents given inline. */
const defender = (eql: string, events: readonly Event[]) => translatedOn(eql, PROCESS, events.map(ecs));

/**
 * indexOf's start position. The EQL reference: "`<start_pos>` ... Positions are zero-indexed. Negative offsets are
 * treated as `0`.", with the example
 *   // url.domain = "subdomain.example.com"
 *   indexOf(url.domain, ".", -6)    // returns 9
 *   indexOf(url.domain, "", -6)     // returns 0
 * KQL's indexof reads a negative start from the end instead (indexof-function.md: "*start* ... A negative value will
 * offset the starting search position from the end of the *string* by this many steps", example
 * `indexof("abcdefg","cde",-5)` → 2), so `indexof(s, ".", -6)` finds the "." at 17. The translation passed the
 * start through as it was.
 */
describe("indexOf with a negative start position", () => {
  const events = [{ name: "subdomain.example.com" }];
  it.each([
    { eql: 'process where indexOf(process.name, ".", -6) == 9', expected: [0] },
    { eql: 'process where indexOf(process.name, ".", -6) == 17', expected: [] },
    { eql: 'process where indexOf(process.name, "", -6) == 0', expected: [0] },
    { eql: 'process where indexOf(process.name, ".", -30) == 9', expected: [0] },
  ])("$eql", async ({ eql, expected }) => {
    expect(evaluator(eql, events)).toEqual(expected);
    const got = await defender(eql, events);
    expect(got.rows, got.text).toEqual(expected);
  });

  it("a start read from a field (negative on one event) is treated as 0 too", async () => {
    const eql = 'process where indexOf(process.name, ".", process.pid) == 9';
    const rows = [
      { name: "subdomain.example.com", pid: -6 },
      { name: "subdomain.example.com", pid: 3 },
      { name: "subdomain.example.com", pid: 10 },
    ];
    expect(evaluator(eql, rows)).toEqual([0, 1]);
    const got = await defender(eql, rows);
    expect(got.rows, got.text).toEqual([0, 1]);
    for (const target of ["asim", "auditd"] as const) {
      const t = translateQuery(parseEql(eql), target);
      expect(t.refused, t.refused?.message).toBeUndefined();
      expect(t.kql).not.toMatch(/indexof\([^\n]*, (ActorProcessId|TargetProcessId|Pid)\)/);
    }
  });
});

/**
 * number() of a string beginning with 0x. The EQL reference: "Strings that begin with `0x` are auto-detected as
 * hexadecimal and use a default `<base_num>` of `16`", with `number("0xdeadbeef") // returns 3735928559`. A
 * constant is folded at translation time (docs/kql.md); it was read in base 10 (no number), which made the
 * condition always false and the rule refused.
 */
describe("number() auto-detects hexadecimal", () => {
  it.each([
    'process where number("0xdeadbeef") == 3735928559 and process.name == "x"',
    'process where number("0xdeadbeef", null) == 3735928559 and process.name == "x"',
  ])("%s", async (eql) => {
    const events = [{ name: "x" }, { name: "y" }];
    expect(evaluator(eql, events)).toEqual([0]);
    const got = await defender(eql, events);
    expect(got.rows, got.text).toEqual([0]);
  });

  it("says, for a field, that KQL's todouble does not read 0x text as hexadecimal", () => {
    for (const target of ["defender", "asim", "auditd"] as const) {
      const t = translateQuery(parseEql("process where number(process.name) == 5"), target);
      expect(t.refused, t.refused?.message).toBeUndefined();
      expect(t.approximations.join("\n")).toMatch(/number\(\).*0x/);
    }
  });
});

/**
 * `f(x) == null` / `!= null` over a function of a missing field. The EQL reference: every function returns null on a
 * null argument (`length`: "If `null`, the function returns `null`", `length(null) // returns null`; `indexOf`:
 * "`<source>` ... If `null`, the function returns `null`"), and the syntax reference's existence check: "To match
 * events containing any value for a field, compare the field to `null` using the `!=` operator". KQL's strlen of
 * the empty string a missing field is (docs/kql.md "Nulls") is 0, not null, so `length(process.name) != null` held
 * on events without a name.
 */
describe("null checks of a function over a missing field", () => {
  const events = [{}, { name: "bash" }];
  it.each([
    { eql: "process where length(process.name) != null", expected: [1] },
    { eql: "process where length(process.name) == null", expected: [0] },
    { eql: 'process where indexOf(process.name, "") != null', expected: [1] },
    { eql: 'process where indexOf(process.name, "") == null', expected: [0] },
    { eql: "process where not length(process.name) == null", expected: [1] },
  ])("$eql", async ({ eql, expected }) => {
    expect(evaluator(eql, events)).toEqual(expected);
    const got = await defender(eql, events);
    expect(got.rows, got.text).toEqual(expected);
  });
});

/**
 * A decimal literal in an `in` list. The EQL syntax reference: "`in` (case-sensitive) Returns `true` if the value is
 * contained in the provided list"; 2.0 is a constant like 2, but the translation refused the rule as "in with a
 * non-constant value" (a decimal literal is emitted as `real(2.0)` to keep arithmetic in reals).
 */
describe("in with a decimal literal", () => {
  it("process where process.pid in (1, 2.0) matches the event with pid 2", async () => {
    const eql = "process where process.pid in (1, 2.0)";
    const events = [
      { name: "a", pid: 2 },
      { name: "b", pid: 3 },
    ];
    expect(evaluator(eql, events)).toEqual([0]);
    const got = await defender(eql, events);
    expect(got.rows, got.text).toEqual([0]);
  });
});

/**
 * indexOf with a null start position. The EQL reference: "`<start_pos>` (Optional, integer or `null`) ... If this
 * argument is `null` or higher than the length of the `<source>` string, the function returns `null`.", with the
 * example `indexOf(url.domain, ".", null)  // returns null`. The evaluator read a null start as 0 (so
 * `indexOf(f, ".", null) == null` missed every event with a "."), and both it and the translation read a start taken
 * from a missing field as 0.
 */
describe("indexOf with a null start position is null", () => {
  const events = [
    { name: "subdomain.example.com", pid: 3 },
    { name: "subdomain.example.com" },
    { name: "abc", pid: 0 },
  ];
  it.each([
    { eql: 'process where indexOf(process.name, ".", null) == null', expected: [0, 1, 2] },
    { eql: 'process where not indexOf(process.name, ".", null) == 9 or process.pid == 3', expected: [0] },
    { eql: 'process where indexOf(process.name, ".", process.pid) == null', expected: [1, 2] },
    { eql: 'process where indexOf(process.name, ".", process.pid) == 9', expected: [0] },
    { eql: 'process where indexOf(process.name, ".", process.pid) != null', expected: [0] },
  ])("$eql", async ({ eql, expected }) => {
    expect(evaluator(eql, events)).toEqual(expected);
    const got = await defender(eql, events);
    expect(got.rows, got.text).toEqual(expected);
  });
});

/**
 * modulo and `%` with negative operands. The EQL reference's examples:
 *   modulo(10, 6)    // returns 4
 *   modulo(10, -6)   // returns 4
 *   modulo(-10, -6)  // returns -4
 * (the remainder has the dividend's sign). Kusto's `%` never answers a negative number (numerical operators, "Note on
 * the modulo operator": "0 ≤ (N % D) < abs(D)", `-14 % -12` is 10), so `-10 % -6` is 2 there: the translation
 * must not hand EQL's remainder to it as it is.
 */
describe("modulo with a negative dividend or divisor", () => {
  const events = [{ pid: 10 }, { pid: -10 }];
  it.each([
    { eql: "process where modulo(process.pid, 6) == 4", expected: [0] },
    { eql: "process where modulo(process.pid, -6) == 4", expected: [0] },
    { eql: "process where modulo(process.pid, -6) == -4", expected: [1] },
    { eql: "process where process.pid % -6 == -4", expected: [1] },
    { eql: "process where modulo(process.pid, -6) == 2", expected: [] },
    { eql: "process where modulo(process.pid, 5) == 0", expected: [0, 1] },
  ])("$eql", async ({ eql, expected }) => {
    expect(evaluator(eql, events)).toEqual(expected);
    const got = await defender(eql, events);
    expect(got.rows, got.text).toEqual(expected);
  });
});
