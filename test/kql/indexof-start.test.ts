/**
 * indexOf's start position, as Elasticsearch types and reads it. Oracle: Elasticsearch's EQL source
 * (x-pack/plugin/eql, expression/function/scalar/string):
 * - IndexOf.resolveType: `isInteger(start, sourceText(), ParamOrdinal.THIRD)`: the start is an integer type (int,
 *   long, unsigned_long); a double (`1.5`, `1e21`, and an integer literal past 2^64 - 1, which the parser reads as
 *   a double: ExpressionBuilder.visitIntegerLiteral) is refused before the query runs;
 * - IndexOfFunctionProcessor.doProcess: `int startIndex = start == null ? 0 : ((Number) start).intValue();` then
 *   Java's `String.indexOf(substring, startIndex)`, which reads a negative start as 0 and finds nothing from a start
 *   past the string (the processor returns null for -1). A long's intValue() keeps its low 32 bits: 4294967296 is 0,
 *   4294967298 is 2, 2147483648 is -2147483648 (so 0).
 * A start past 2^53 reached the KQL as `real(...)`, which Kusto.Language refuses (KS134 "The expression value must be
 * an integer") only when the query is validated, and one past KQL's int was passed on whole (finding nothing).
 */
import { describe, expect, it } from "vitest";
import { DiagnosticError } from "../../src/diagnostics/index.js";
import { parseEql } from "../../src/eql/index.js";
import { translateQuery } from "../../src/kql/index.js";
import { evaluator, PROCESS, defender as translated } from "../support/eql-beside-kql.js";

const events = [{ "process.name": "foobar" }];

describe("indexOf's start is an integer, of which Elasticsearch takes the int value", () => {
  it.each([
    { eql: 'process where indexOf(process.name, "f", 4294967296) == 0', expected: [0] },
    { eql: 'process where indexOf(process.name, "o", 4294967298) == 2', expected: [0] },
    { eql: 'process where indexOf(process.name, "o", 4294967299) == 2', expected: [] },
    { eql: 'process where indexOf(process.name, "f", 2147483648) == 0', expected: [0] },
    { eql: 'process where indexOf(process.name, "f", 1152921504606846976) == 0', expected: [0] },
    { eql: 'process where indexOf(process.name, "f", 4294967295 + 1) == 0', expected: [0] },
    { eql: 'process where indexOf(process.name, "r", 5) == 5', expected: [0] },
    { eql: 'process where indexOf(process.name, "r", 6) == 5', expected: [] },
    { eql: 'process where indexOf(process.name, "r", 2147483647) == 5', expected: [] },
  ])("$eql", async ({ eql, expected }) => {
    expect(evaluator(eql, PROCESS, events)).toEqual(expected);
    const got = await translated(eql, PROCESS, events);
    expect(got.rows, got.text).toEqual(expected);
  });

  it.each(["99999999999999999999", "1e21", "1.5", "2.0"])(
    "refuses a decimal start (%s) as the EQL is read",
    (start) => {
      let error: unknown;
      const eql = `process where indexOf(process.name, "a", ${start}) == 1`;
      try {
        parseEql(eql);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DiagnosticError);
      const d = (error as DiagnosticError).diagnostics[0];
      expect(d?.code).toBe("EQL112");
      expect(d?.message).toBe("argument 3 of [indexOf] must be an integer");
      expect(d?.span?.start.column).toBe(eql.indexOf(start) + 1);
    },
  );

  it("refuses a decimal start the parser cannot see (arithmetic), rather than KQL that Kusto.Language refuses", () => {
    const t = translateQuery(parseEql('process where indexOf(process.name, "a", 2 * 1.5) == 1'), "defender");
    expect(t.refused?.subject).toBe("indexOf start");
    expect(t.kql ?? "").not.toMatch(/real\(/);
  });
});
