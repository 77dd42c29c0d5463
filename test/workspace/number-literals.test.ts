/**
 * Decimal `long` and `int` literals take the value Kusto.Language reads from them (the oracle: Microsoft's parser,
 * through the project's bridge; its LiteralExpression.LiteralValue). Past the type's range, or not a whole decimal
 * number, that value is 0 and no diagnostic says so: the engine read `long(99999999999999999999)` as 1e20, a number no
 * KQL long holds, where the query Sentinel is sent reads 0. Hexadecimal literals are the exception, at the end: there
 * the documentation's example and Kusto.Language's LiteralValue disagree, and the documentation wins (a hexadecimal
 * literal past a long's range is not pinned: the documentation says nothing of it).
 */
import { describe, expect, it } from "vitest";
import { bridgeTypeName } from "../../src/kusto/index.js";
import { parseKql } from "../../src/kusto/validate.js";
import { inlineKql } from "../support/inline-kql.js";

// biome-ignore lint/suspicious/noExplicitAny: Kusto.Language syntax nodes are Bridge.NET objects
type Node = any;

const { scalar, column } = inlineKql();

/** The value Kusto.Language reads from the one literal of `print r = <literal>`, as a JavaScript number. */
function kustoLanguageValue(literal: string): number {
  const values: number[] = [];
  (parseKql(`print r = ${literal}`).Syntax as Node).WalkElements((e: Node) => {
    if (bridgeTypeName(e) === "Kusto.Language.Syntax.LiteralExpression") values.push(Number(String(e.LiteralValue)));
  });
  expect(values).toHaveLength(1);
  return values[0] as number;
}

describe("a long or int literal is the value Kusto.Language reads from it", () => {
  const overflowing = [
    "long(99999999999999999999)",
    "99999999999999999999",
    "long(9223372036854775808)",
    "long(-9223372036854775809)",
    "int(3000000000)",
    "int(2147483648)",
    "int(-2147483649)",
    "long(1.5)",
  ];
  for (const literal of overflowing) {
    it(literal, async () => {
      expect(kustoLanguageValue(literal)).toBe(0);
      expect(await scalar(literal)).toBe(0);
    });
  }

  for (const literal of ["12", "long(-5)", "long(9223372036854775807)", "long(-9223372036854775808)", "int(7)"]) {
    it(`${literal} (within range)`, async () => {
      expect(await scalar(literal)).toBe(kustoLanguageValue(literal));
    });
  }

  it("compares as 0 in a filter", async () => {
    expect(await column("range x from 0 to 2 step 1 | where x == long(99999999999999999999)", "x")).toEqual([0]);
  });
});

/**
 * A hexadecimal literal is the number it writes: "0xhex — An integer represented with hexadecimal syntax. 0xf is
 * equivalent to 15" (Microsoft Learn, "The long data type"). Kusto.Language's LiteralValue differs here (it gives 0
 * for `0xf`): the documentation wins.
 */
describe("a hexadecimal long literal", () => {
  it("0xf is 15, as the documentation's example says (where Kusto.Language's LiteralValue says 0)", async () => {
    expect(await scalar("0xf")).toBe(15);
    expect(kustoLanguageValue("0xf")).toBe(0);
  });

  it.each([
    ["0x10", 16],
    ["0xFF", 255],
    ["0x7fffffff", 2147483647],
  ])("%s is %d", async (literal, value) => {
    expect(await scalar(literal)).toBe(value);
  });
});
