/**
 * Numbers from a query (a sequence's maxspan, a head/tail count, a folded constant) as KQL literals. Oracle:
 * Kusto.Language, Microsoft's parser: the number must be one literal token whose value, as Kusto.Language reads it,
 * is the query's. Before, a maxspan JavaScript prints with an exponent (`99999999999999999999999d` → `1e+23d`) was read
 * as the name `1e`, the operator `+` and `23d`; a maxspan past the timespan range (`10675200d`) as a negative span;
 * a count or a constant past the `long` range (`long(9999999999800000905216)`, `top 100000000000000000000`) as 0.
 */
import { describe, expect, it } from "vitest";
import { parseEql } from "../../src/eql/index.js";
import { translateQuery, validateQuery } from "../../src/kql/index.js";
import { bridgeTypeName } from "../../src/kusto/index.js";
import { parseKql } from "../../src/kusto/validate.js";

// biome-ignore lint/suspicious/noExplicitAny: Kusto.Language syntax nodes are Bridge.NET objects
type Node = any;

/** Kusto.Language's literal expressions of a query: their token text and the value it reads from them. */
function literals(kql: string): { text: string; value: string }[] {
  const out: { text: string; value: string }[] = [];
  (parseKql(kql).Syntax as Node).WalkElements((e: Node) => {
    if (bridgeTypeName(e) !== "Kusto.Language.Syntax.LiteralExpression") return;
    const v = e.LiteralValue;
    // a timespan is a .NET TimeSpan (its `ticks`), a long an Int64, a real a number
    const value = v?.ticks !== undefined ? `ticks ${v.ticks.toString()}` : String(v);
    out.push({ text: String(e.Token.Text), value });
  });
  return out;
}

const TICKS_PER_MS = 10_000n;

describe("a sequence's maxspan is one timespan literal of its own length, or refused", () => {
  for (const maxspan of ["5m", "10675199d", "10675200d", "922337203685478ms", "99999999999999999999999d"]) {
    it(maxspan, () => {
      const query = parseEql(`sequence with maxspan=${maxspan} [process where true] [process where true]`);
      const t = translateQuery(query, "defender");
      if (t.refused) {
        expect(t.refused.subject).toBe("timespan out of range");
        return;
      }
      expect(validateQuery(t.kql as string)).toEqual([]);
      const ms = query.kind === "sequence" ? query.maxspan?.milliseconds : undefined;
      const spans = literals(t.kql as string).filter((l) => l.value.startsWith("ticks "));
      expect(spans).toEqual([{ text: maxspan, value: `ticks ${BigInt(ms as number) * TICKS_PER_MS}` }]);
    });
  }
});

describe("a number is a literal of its own value, or refused", () => {
  it("keeps a constant past the long range as the number it is", () => {
    for (const [eql, value] of [
      ["process.pid == 3000000000 * 3000000000", 9e18],
      ["process.pid == 99999999999 * 99999999999", 99999999999 * 99999999999],
    ] as const) {
      const t = translateQuery(parseEql(`process where ${eql}`), "defender");
      expect(validateQuery(t.kql as string)).toEqual([]);
      expect(literals(t.kql as string).map((l) => Number(l.value))).toEqual([value]);
    }
  });

  it("writes an integer Elasticsearch holds exactly, past 2^53, as a long of its own value", () => {
    // Elasticsearch reads 1152921504606846976 (2^60) as a long (test/eql/number-literals.test.ts)
    const t = translateQuery(parseEql("process where process.pid == 1152921504606846976"), "defender");
    expect(validateQuery(t.kql as string)).toEqual([]);
    expect(literals(t.kql as string)).toEqual([{ text: "long(1152921504606846976)", value: "1152921504606846976" }]);
  });

  it("takes head/tail counts that are a long as such, and refuses others", () => {
    const t = translateQuery(parseEql("process where true | head 9007199254740993"), "defender");
    expect(literals(t.kql as string).map((l) => l.value)).toEqual(["9007199254740992"]);
    const big = translateQuery(parseEql("process where true | tail 99999999999999999999"), "defender");
    expect(big.refused?.subject).toBe("number out of range");
  });
});
