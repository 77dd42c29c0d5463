/**
 * jsonSyntaxError (src/diagnostics/json-syntax.ts, where `eql --events` places bad JSON) agrees with JSON.parse:
 * nothing in what it parses, and at its position where it names one.
 */
import { describe, expect, it } from "vitest";
import { jsonSyntaxError } from "../../src/diagnostics/index.js";

const valid = ["1", "[]", "{}", ' [1, {"a": [true, false, null]}, "\\u00e9\\n"] ', "-0.5e+10", '"\ud800"', "[[[]]]"];
const invalid = ["[1,]", '{"a" 1}', "{,}", "01", "1.", '"abc', "[1 2]", "tru", '{"a":1}x', "", '{"a":1,}', '"\\x"'];
const more = ['"\\u12g4"', "[", '{"a":[1}', "-", "1e", '"a\tb"', '[{"a":1},\n  {"c": x}]'];

describe("jsonSyntaxError", () => {
  it("finds nothing in valid JSON", () => {
    for (const text of valid) expect(jsonSyntaxError(text), text).toBeUndefined();
  });

  it("is at JSON.parse's position where it gives one, and at the end where the input ends early", () => {
    for (const text of [...invalid, ...more]) {
      const message = (() => {
        try {
          JSON.parse(text);
          return "parsed";
        } catch (error) {
          return (error as Error).message;
        }
      })();
      const error = jsonSyntaxError(text);
      expect(error, text).toBeDefined();
      const at = /at position (\d+)/.exec(message)?.[1];
      if (at !== undefined) expect(error?.offset, text).toBe(Number(at));
      if (message.startsWith("Unexpected end")) expect(error?.offset, text).toBeGreaterThanOrEqual(text.length - 1);
      expect(error?.reason).not.toContain("\n");
    }
  });
});
