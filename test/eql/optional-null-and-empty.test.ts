/**
 * Evaluator results that disagreed with Elasticsearch's EQL documentation until 8 December 2026 (stringContains with
 * an empty string; a condition on an optional field that exists nowhere). Each expectation comes from the
 * Elasticsearch EQL reference (docs/reference/eql/functions.asciidoc, syntax.asciidoc), quoted at the test.
 */
import { describe, expect, it } from "vitest";
import { type EvaluateOptions, evaluate, parseEql } from "../../src/eql/index.js";

const ids = (query: string, events: unknown[], options: EvaluateOptions = {}): number[] =>
  evaluate(parseEql(query), events, options).map((m) => m.indexes[0] as number);

describe("stringContains with an empty string", () => {
  // functions.asciidoc, stringContains:
  //   // process.command_line = "start regsvr32.exe"
  //   // empty strings
  //   stringContains("", "")                            // returns false
  //   stringContains(process.command_line, "")          // returns false
  const events = [{ "@timestamp": 1, process: { command_line: "start regsvr32.exe" } }];

  it('stringContains("", "") is false (no event matches)', () => {
    expect(ids('any where stringContains("", "")', events)).toEqual([]);
  });

  it('stringContains("start regsvr32.exe", "") is false (no event matches)', () => {
    expect(ids('any where stringContains("start regsvr32.exe", "")', events)).toEqual([]);
  });

  it('stringContains("", "") == false holds', () => {
    expect(ids('any where stringContains("", "") == false', events)).toEqual([0]);
  });
});

describe("an optional field that does not exist is the literal null", () => {
  // syntax.asciidoc, Optional fields: "If you aren't sure if a field exists in a dataset, use the `?` operator
  // to mark the field as optional. If an optional field doesn't exist, the query replaces it with `null`
  // instead of returning an error." So with no event and no mapping holding user.id, `not ?user.id : "x"` is
  // `not (null : "x")`: a comparison against null is null (ES suite, test_queries.toml, nullEqualityWithGtAndHead:
  // note = "check that comparisons against null values return null"), its negation is null, and a null condition
  // matches no event. Only `== null` / `!= null` are rewritten to existence checks.
  const events = [
    { "@timestamp": 1, event: { category: "network" }, user: { name: "a" } },
    { "@timestamp": 2, event: { category: "network" }, user: { name: "b" } },
  ];

  it('not ?user.id : "x" matches nothing (it is not (null : "x"))', () => {
    expect(ids('network where not ?user.id : "x"', events)).toEqual([]);
  });

  it('?user.id not in ("x", "y") matches nothing (it is null not in ("x", "y"))', () => {
    expect(ids('network where ?user.id not in ("x", "y")', events)).toEqual([]);
  });

  it('not ?user.id like "x*" matches nothing (it is not (null like "x*"))', () => {
    expect(ids('network where not ?user.id like "x*"', events)).toEqual([]);
  });

  it('not ?user.id regex "x.*" matches nothing (it is not (null regex "x.*"))', () => {
    expect(ids('network where not ?user.id regex "x.*"', events)).toEqual([]);
  });
});
