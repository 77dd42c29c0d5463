/**
 * EQL functions given a null argument, against Elastic's EQL function reference
 * (docs/reference/query-languages/eql/eql-function-ref.md in elastic/elasticsearch, quoted per case): the function
 * returns null, and a null condition matches no event, negated or not (Elasticsearch's own EQL suite,
 * test_queries.toml: "this returns `null`, and `not null` is still null").
 *
 * Each case asks the evaluator (ECS documents) and runs the Defender translation in the local engine (rows of the
 * table given inline); both must give the reference's answer. A bare null condition makes the translation refuse
 * the rule ("always false"), so each condition is joined by `or` to a test of another field: the rows that match
 * are then exactly those of the other test.
 */
import { describe, it } from "vitest";
import { check, type Event, NETWORK, PROCESS } from "../support/eql-beside-kql.js";

/**
 * cidrMatch. The reference:
 *   // null handling
 *   cidrMatch(null, "10.0.0.0/8")                             // returns null
 *   cidrMatch(source.address, null)                           // returns null
 * and "`<cidr_block>` (Required, string or `null`) CIDR block you wish to search. If `null`, the function returns
 * `null`." The evaluator read a null block as a block that matches nothing (false), so `not cidrMatch(f, null)`
 * matched every event; the translation dropped the null block the same way, and made `cidrMatch(null, …)` false.
 */
describe("cidrMatch with a null argument is null", () => {
  const events: Event[] = [
    { "destination.ip": "10.1.2.3", "destination.port": 443 },
    { "destination.ip": "10.1.2.3", "destination.port": 80 },
    { "destination.ip": "11.0.0.1", "destination.port": 80 },
    { "destination.port": 80 },
  ];
  it.each([
    { eql: "network where not cidrMatch(destination.ip, null) or destination.port == 443", expected: [0] },
    { eql: "network where cidrMatch(destination.ip, null) or destination.port == 443", expected: [0] },
    {
      eql: 'network where not cidrMatch(destination.ip, "10.0.0.0/8", null) or destination.port == 443',
      expected: [0],
    },
    { eql: 'network where cidrMatch(destination.ip, "10.0.0.0/8", null) or destination.port == 443', expected: [0] },
    { eql: 'network where not cidrMatch(null, "10.0.0.0/8") or destination.port == 443', expected: [0] },
    // `expr == null` is an existence check (the syntax reference: "compare the field to `null`")
    { eql: "network where cidrMatch(destination.ip, null) == null and destination.port == 80", expected: [1, 2, 3] },
    { eql: 'network where cidrMatch(null, "10.0.0.0/8") == null and destination.port == 80', expected: [1, 2, 3] },
  ])("$eql", ({ eql, expected }) => check(eql, NETWORK, events, expected));

  it("a block that is not null still decides", () =>
    check('network where not cidrMatch(destination.ip, "10.0.0.0/8")', NETWORK, events, [2, 3]));
});

/**
 * startsWith, endsWith and stringContains of a field and null. The reference: `startsWith("regsvr32.exe", null)
 * // returns null`, `endsWith("regsvr32.exe", null) // returns null`, `stringContains(process.command_line, null)
 * // returns null`, each with "`<substring>` (Required, string or `null`) Substring to search for. If `null`, the
 * function returns `null`." The evaluator ran them as queries on the field (false), so their negation matched every
 * event.
 */
describe("startsWith, endsWith and stringContains with a null substring are null", () => {
  const events: Event[] = [
    { "process.name": "bash", "process.pid": 1 },
    { "process.name": "sh", "process.pid": 2 },
    {},
  ];
  it.each([
    "process where not startsWith(process.name, null) or process.pid == 1",
    "process where not endsWith(process.name, null) or process.pid == 1",
    "process where not stringContains(process.name, null) or process.pid == 1",
    "process where not startsWith~(process.name, null) or process.pid == 1",
    "process where startsWith(process.name, null) or process.pid == 1",
  ])("%s", (eql) => check(eql, PROCESS, events, [0]));
});

/**
 * A function of a field given a null argument, compared with a value. The reference: `concat(process.name, null)
 * // returns null` ("If any of the arguments are `null`, the function returns `null`"), and `indexOf(url.domain,
 * ".", null) // returns null`; compared with a value the result is null on every event, and so is its negation.
 * It is not the literal null of an existence check (the syntax reference: "To match events that do not contain a
 * field value, compare the field to `null` using the `==` operator"; an absent optional field is that literal: "EQL
 * interprets the query as: `network where null != null` ... In this case, the query matches no events."). The
 * translation read `concat(f, null) == "bash"` as the check `"bash" == null` (false), so its negation matched every
 * row.
 */
describe("a function of a field given null is null on each event, not an existence check", () => {
  const events: Event[] = [
    { "process.name": "bash", "process.pid": 1 },
    { "process.name": "sh", "process.pid": 2 },
    {},
  ];
  it.each([
    { eql: 'process where not concat(process.name, null) == "bash" or process.pid == 1', expected: [0] },
    { eql: 'process where concat(process.name, null) != "bash" or process.pid == 1', expected: [0] },
    { eql: 'process where not indexOf(process.name, "a", null) == 1 or process.pid == 1', expected: [0] },
    { eql: 'process where not concat(process.name, null) : "BASH" or process.pid == 1', expected: [0] },
    { eql: 'process where not concat(process.name, null) like "b*" or process.pid == 1', expected: [0] },
    { eql: 'process where not concat(process.name, null) in ("sh") or process.pid == 1', expected: [0] },
    { eql: 'process where concat(process.name, null) not in ("sh") or process.pid == 1', expected: [0] },
    { eql: "process where concat(process.name, null) == null", expected: [0, 1, 2] },
    { eql: "process where ?process.no_such_field != null or process.pid == 1", expected: [0] },
    { eql: "process where ?process.no_such_field == null and process.pid == 2", expected: [1] },
  ])("$eql", ({ eql, expected }) => check(eql, PROCESS, events, expected));
});

/**
 * An optional field that does not exist, as the source of startsWith, endsWith, stringContains or cidrMatch. The
 * syntax reference: "If an optional field doesn't exist, the query replaces it with `null` instead of returning an
 * error"; the function reference: `startsWith(null, "regsvr32") // returns null`, `cidrMatch(null, "10.0.0.0/8")
 * // returns null`. So neither the function nor its negation matches. The evaluator ran these as queries on a
 * missing field, whose negation (must_not) matched every event; the translation already gave null.
 */
describe("a query function of an optional field that does not exist is null", () => {
  const events: Event[] = [
    { "process.name": "bash", "process.pid": 1 },
    { "process.name": "sh", "process.pid": 2 },
  ];
  it.each([
    'process where not startsWith(?process.no_such_field, "a") or process.pid == 1',
    'process where not endsWith~(?process.no_such_field, "a") or process.pid == 1',
    'process where not stringContains(?process.no_such_field, "a") or process.pid == 1',
    'process where not cidrMatch(?process.no_such_field, "10.0.0.0/8") or process.pid == 1',
  ])("%s", (eql) => check(eql, PROCESS, events, [0]));

  it("an optional field that exists is the field: its negation is must_not", () =>
    check('process where not startsWith(?process.name, "b")', PROCESS, [...events, {}], [1, 2]));
});
