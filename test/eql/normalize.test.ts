/** normalizeCondition: Elasticsearch's rewrites of `not` and boolean equalities, for back ends to share. */
import { describe, expect, it } from "vitest";
import { type Expr, normalizeCondition, parseEqlExpression } from "../../src/eql/index.js";

/** A compact rendering: fields by name, literals as JSON, operators in prefix form. */
function show(e: Expr): string {
  switch (e.kind) {
    case "literal":
      return JSON.stringify(e.value);
    case "field":
      return e.name;
    case "not":
      return `not(${show(e.operand)})`;
    case "logical":
    case "comparison":
    case "arithmetic":
      return `${e.op}(${show(e.left)}, ${show(e.right)})`;
    case "match":
      return `${e.op}${e.caseInsensitive ? "~" : ""}(${show(e.left)}, ${e.patterns.map(show).join(", ")})`;
    case "in":
      return `${e.negated ? "not in" : "in"}(${show(e.left)}, ${e.values.map(show).join(", ")})`;
    case "negate":
      return `-(${show(e.operand)})`;
    case "call":
      return `${e.name}(${e.args.map(show).join(", ")})`;
  }
}

const normal = (text: string) => show(normalizeCondition(parseEqlExpression(text)));

describe("normalizeCondition", () => {
  it("pushes not down with De Morgan and flips ordering comparisons", () => {
    expect(normal("not (a < 1 and b == 2)")).toBe("or(>=(a, 1), not(==(b, 2)))");
    expect(normal('not (a >= 1 or c : "x")')).toBe('and(<(a, 1), not(:~(c, "x")))');
    expect(normal("not not a > 1")).toBe(">(a, 1)");
    expect(normal("not (not a > 1 and not b <= 2)")).toBe("or(>(a, 1), <=(b, 2))");
  });

  it("removes boolean equalities", () => {
    expect(normal('startsWith(a, "x") == false')).toBe('not(startswith(a, "x"))');
    expect(normal('true != startsWith(a, "x")')).toBe('not(startswith(a, "x"))');
    expect(normal("(a > 1) == false")).toBe("<=(a, 1)");
    expect(normal('not (cidrMatch(ip, "10.0.0.0/8") == true)')).toBe('not(cidrmatch(ip, "10.0.0.0/8"))');
  });

  it("leaves other expressions as they are", () => {
    expect(normal("a == true")).toBe("==(a, true)");
    expect(normal("a in (1, 2) or length(b) > 2")).toBe("or(in(a, 1, 2), >(length(b), 2))");
  });
});
