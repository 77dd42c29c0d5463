/**
 * Deep and long conditions (issue 12 item 4): a 2,000-term `or` translates, with its operands in order and no
 * quadratic re-reading of emitted text; 2,000 nested parentheses are refused by name (EQL121) instead of
 * exhausting the stack. The translation is checked by Kusto.Language; no timing is asserted here (speed lives in
 * bench/translate.bench.ts).
 */
import { describe, expect, it } from "vitest";
import { Codes, DiagnosticError } from "../../src/diagnostics/index.js";
import { MAX_EXPRESSION_DEPTH, parseEql } from "../../src/eql/index.js";
import { translateQuery } from "../../src/kql/index.js";
import { MAX_JUNCTION_OPERANDS } from "../../src/kql/kql-tree.js";

const orChain = (n: number) =>
  `process where ${Array.from({ length: n }, (_, i) => `process.pid == ${i}`).join(" or ")}`;

function refusedCode(eql: string): string | undefined {
  try {
    parseEql(eql);
  } catch (error) {
    if (error instanceof DiagnosticError) return error.diagnostics[0]?.code;
    throw error;
  }
  return undefined;
}

describe("deep and long conditions", () => {
  it("translates a 2,000-term or chain into one grouped `or`", () => {
    const t = translateQuery(parseEql(orChain(2000)), "defender");
    expect(t.refused).toBeUndefined();
    expect(t.diagnostics).toEqual([]);
    const where = (t.kql ?? "").split("\n").find((l) => l.startsWith("| where ")) ?? "";
    // one disjunction, in the order written, in parenthesised groups of MAX_JUNCTION_OPERANDS (Kusto refuses a
    // flat chain of a few hundred with KS245, which the diagnostics check above would report)
    const terms = Array.from({ length: 2000 }, (_, i) => `ProcessId == ${i}`);
    const groups: string[] = [];
    for (let i = 0; i < terms.length; i += MAX_JUNCTION_OPERANDS) {
      groups.push(`(${terms.slice(i, i + MAX_JUNCTION_OPERANDS).join(" or ")})`);
    }
    expect(where).toBe(`| where ${groups.join(" or ")}`);
  });

  it("translates a 2,000-term and chain of negations", () => {
    const eql = `process where ${Array.from({ length: 2000 }, (_, i) => `process.name != "n${i}"`).join(" and ")}`;
    const t = translateQuery(parseEql(eql), "defender");
    expect(t.refused).toBeUndefined();
    expect(t.diagnostics).toEqual([]);
    // one operand per line, in parenthesised groups (one group per MAX_JUNCTION_OPERANDS operands)
    expect((t.kql ?? "").match(/\n {4}and /g)?.length).toBe(1999);
    expect((t.kql ?? "").match(/\(FileName != /g)?.length).toBe(Math.ceil(2000 / MAX_JUNCTION_OPERANDS));
  });

  it("refuses 2,000 nested parentheses by name instead of overflowing the stack", () => {
    const eql = `process where ${"(".repeat(2000)}process.pid == 1${")".repeat(2000)}`;
    expect(refusedCode(eql)).toBe(Codes.EqlTooDeep);
  });

  it("refuses 2,000 nested `not` and unary minus the same way", () => {
    expect(refusedCode(`process where ${"not ".repeat(2000)}process.pid == 1`)).toBe(Codes.EqlTooDeep);
    expect(refusedCode(`process where process.pid == ${"-".repeat(2000)}1`)).toBe(Codes.EqlTooDeep);
  });

  it("accepts nesting up to the documented limit", () => {
    const depth = MAX_EXPRESSION_DEPTH - 8;
    const eql = `process where ${"(".repeat(depth)}process.pid == 1${")".repeat(depth)}`;
    const t = translateQuery(parseEql(eql), "defender");
    expect(t.refused).toBeUndefined();
    expect(t.kql).toContain("| where ProcessId == 1");
  });
});
