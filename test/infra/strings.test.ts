/**
 * Bicep string literals read by Bicep's rules (test/infra/bicep.ts `stringValue`, now the one reader of the template
 * tests and of the generated content's readers). The escapes are those Microsoft Learn's "Data types in Bicep"
 * (Strings) lists and the content readers already decoded: `\\`, `\'`, `\n`, `\r`, `\t`, `\$` and `\u{x}`; a
 * multi-line string (`'''`) has none and no interpolation, and drops its first line break. Before the two readers
 * became one, the template tests' reader kept `\$` as two characters and `\u{…}` as written.
 */
import { describe, expect, it } from "vitest";
import { parseSource, type SyntaxNode, stringValue } from "./bicep.js";

/** The string literal of `var x = <literal>`. */
function literal(text: string): SyntaxNode {
  const node = parseSource(`var x = ${text}\n`).descendantsOfType("string")[0];
  if (!node) throw new Error(`no string in ${text}`);
  return node;
}

describe("a Bicep string's value", () => {
  it.each([
    [String.raw`'a\\b'`, "a\\b"],
    [String.raw`'it\'s'`, "it's"],
    [String.raw`'one\ntwo\r\tthree'`, "one\ntwo\r\tthree"],
    [String.raw`'cost: \${price}'`, "cost: ${price}"],
    [String.raw`'smile \u{1F600}'`, "smile \u{1F600}"],
    ["'a b'", "a b"],
    ["'''\nverbatim \\n ${x}'''", "verbatim \\n ${x}"],
  ])("%s is %j", (text, value) => {
    expect(stringValue(literal(text))).toBe(value);
  });

  it("gives each interpolation's expression to the caller, and is undefined without one to ask", () => {
    const node = literal("'pre-${name}-post'");
    expect(stringValue(node, (expression) => `<${expression.text}>`)).toBe("pre-<name>-post");
    expect(stringValue(node)).toBeUndefined();
  });

  it("refuses an escape Bicep does not have", () => {
    expect(() => stringValue(literal(String.raw`'a\qb'`))).toThrow(/unknown escape \\q at line 1/);
  });
});
