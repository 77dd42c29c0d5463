/**
 * Integer literals past 2^53, as Elasticsearch's EQL parser reads them. Oracle: elastic/elasticsearch,
 * x-pack/plugin/eql/.../parser/ExpressionBuilder.java visitIntegerLiteral:
 *   Number value = StringUtils.parseIntegral(text); return new Literal(source, value, DataTypes.fromJava(value));
 *   catch (QlIllegalArgumentException siae) { // if it's too large, then quietly try to parse as a float instead
 *     return new Literal(source, Double.valueOf(StringUtils.parseDouble(text)), DataTypes.DOUBLE); ...
 *     throw new ParsingException(source, siae.getMessage());
 * and x-pack/plugin/ql/.../util/StringUtils.java: parseIntegral returns an int or a long up to Long.MAX_VALUE, a
 * BigInteger (unsigned_long) up to 2^64 - 1, and throws "Number [..] is too large" past it; parseDouble throws
 * "Number [..] is too large" for an infinite value. ExpressionTests.testNumbers: `8589934592` is a LONG, `5e14` a
 * DOUBLE.
 * So an integer literal is exact up to 2^64 - 1, a double past it, and refused past the double range. shmhunt's
 * numbers are doubles: an integer a double holds exactly stays an integer; one it does not is refused, with its
 * position, rather than read as a neighbouring decimal (9007199254740993 was the real 9007199254740992).
 */
import { describe, expect, it } from "vitest";
import { DiagnosticError } from "../../src/diagnostics/index.js";
import { parseEqlExpression } from "../../src/eql/index.js";

function literal(text: string) {
  const e = parseEqlExpression(text);
  expect(e.kind).toBe("literal");
  return e.kind === "literal" ? { value: e.value, numberKind: e.numberKind } : undefined;
}

function refusal(text: string) {
  try {
    parseEqlExpression(text);
  } catch (error) {
    expect(error).toBeInstanceOf(DiagnosticError);
    const d = (error as DiagnosticError).diagnostics[0];
    return { code: d?.code, message: d?.message, start: d?.span?.start };
  }
  throw new Error(`expected ${text} to be refused`);
}

describe("integer literals", () => {
  it("are integers while Elasticsearch reads an int, long or unsigned_long and a double holds them", () => {
    expect(literal("5")).toEqual({ value: 5, numberKind: "integer" });
    expect(literal("8589934592")).toEqual({ value: 8589934592, numberKind: "integer" });
    expect(literal("9007199254740992")).toEqual({ value: 2 ** 53, numberKind: "integer" });
    expect(literal("1152921504606846976")).toEqual({ value: 2 ** 60, numberKind: "integer" });
    // past Long.MAX_VALUE: an unsigned_long (parseIntegral's BigInteger)
    expect(literal("9223372036854775808")).toEqual({ value: 2 ** 63, numberKind: "integer" });
  });

  it("are doubles past 2^64 - 1 (parsed 'quietly' as a float)", () => {
    expect(literal("18446744073709551616")).toEqual({ value: 2 ** 64, numberKind: "decimal" });
    expect(literal("99999999999999999999")).toEqual({ value: 1e20, numberKind: "decimal" });
  });

  it("are refused, with their position, where Elasticsearch holds an integer a double does not", () => {
    for (const text of ["9007199254740993", "9223372036854775807", "18446744073709551615"]) {
      const r = refusal(`process.pid ==\n  ${text}`);
      expect(r.code).toBe("EQL120");
      expect(r.message).toContain(`integer [${text}] cannot be held exactly`);
      expect(r.start).toMatchObject({ line: 2, column: 3 });
    }
  });

  it("are refused past the double range as Elasticsearch refuses them", () => {
    const text = `1${"0".repeat(400)}`;
    expect(refusal(`x == ${text}`)).toMatchObject({
      code: "EQL100",
      message: `Number [${text}] is too large`,
      start: { line: 1, column: 6 },
    });
    expect(refusal("x == 1e400")).toMatchObject({ code: "EQL100", message: "Number [1e400] is too large" });
  });
});
