/**
 * The Lucene regex reader and its two printers.
 *
 * Expected answers come from Lucene and Elasticsearch, not from this code:
 * - Lucene `RegExp` javadoc (org.apache.lucene.util.automaton.RegExp, Lucene 9): `\d` "a digit [0-9]", `\s`
 *   "whitespace [ \t\n\r]", `\w` "a word character [a-zA-Z_0-9]"; "Numerical intervals are specified by
 *   non-negative decimal integers and include both end points, and if n and m have the same number of digits,
 *   then the conforming strings must have that length (i.e. prefixed by 0's)"; reserved characters must be
 *   escaped "also in character classes", and a class is a union of characters and ranges (no set operators:
 *   `parseCharClasses` unions `parseCharClass` members until `]`).
 * - Elasticsearch "Regular expression syntax" reference: `foo<1-100>` matches foo1 … foo100, `foo<01-100>`
 *   matches foo01 … foo100.
 * The differential part gives the JavaScript and the RE2 printing of each pattern the same inputs (JavaScript
 * RegExp against the `re2` package, Google's RE2) and expects the same answers.
 */
import RE2 from "re2";
import { describe, expect, it } from "vitest";
import { luceneToJsSource } from "../../src/eql/lucene-regex.js";
import { luceneToRegExp } from "../../src/eql/patterns.js";
import { luceneToRe2 } from "../../src/kql/lucene-re2.js";

const js = (pattern: string) => new RegExp(`^(?:${luceneToJsSource(pattern)})$`, "su");
const re2 = (pattern: string) => new RE2(`(?s)^(?:${luceneToRe2(pattern)})$`, "u");

/** [pattern, input, Lucene's answer, source of the answer] */
const ORACLE: ReadonlyArray<readonly [string, string, boolean]> = [
  // bug 5: same digit count means fixed width (javadoc); different widths accept leading zeros (ES docs)
  ["<1-9>", "01", false],
  ["<1-9>", "7", true],
  ["<01-10>", "07", true],
  ["<01-10>", "7", false],
  ["<1-100>", "100", true],
  ["<1-100>", "0100", true],
  ["<01-100>", "01", true],
  ["<10-20>", "015", false],
  // bug 6: the predefined classes are ASCII (javadoc)
  ["\\d", "٣", false], // U+0663 ARABIC-INDIC DIGIT THREE is \p{Nd}, not [0-9]
  ["\\d", "3", true],
  ["\\s", "\u00a0", false], // NO-BREAK SPACE is not in [ \t\n\r]
  ["\\s", "\u000b", false], // vertical tab is not in [ \t\n\r]
  ["\\s", "\u000c", false], // form feed is not in [ \t\n\r]
  ["\\s", "\t", true],
  ["\\S", "\u00a0", true],
  ["\\w", "é", false],
  ["\\w", "_", true],
  ["\\W", "é", true],
  ["[\\d]", "٣", false],
  ["[a\\D]", "٣", true],
  // bug 7: `&&`, `~~`, `--` inside a class are members (a class is a union of characters and ranges)
  ["[a&&b]", "&", true],
  ["[a&&b]", "a", true],
  ["[a&&b]", "b", true],
  ["[a~~b]", "~", true],
  ["[a~~b]", "c", false],
  ["[!--]", "-", true], // the range ! (0x21) to - (0x2D)
  ["[!--]", ",", true],
  ["[!--]", ".", false],
  ["[--/]", ".", true], // the range - (0x2D) to / (0x2F)
  ["[[a]", "[", true],
  ["[^a]", "b", true],
  ["[^a]", "a", false],
];

describe("Lucene regex: answers from Lucene's documentation", () => {
  it.each(ORACLE)("%s on %j → %s (JavaScript, evaluator)", (pattern, input, expected) => {
    expect(luceneToRegExp(pattern, false).test(input)).toBe(expected);
  });
  it.each(ORACLE)("%s on %j → %s (RE2, KQL)", (pattern, input, expected) => {
    expect(re2(pattern).test(input)).toBe(expected);
  });
});

/** Patterns × inputs for the differential check: the printers must agree on every pair. */
const PATTERNS = [
  "a.c",
  "@",
  "#",
  "#|x",
  "()",
  '"a.b"c',
  "(ab)+c",
  "a*?",
  "a{2,3}",
  "a{2,}",
  "[^a-c]x",
  "[]a]",
  "[-a]x|y",
  "<0-255>",
  "<007-100>",
  "<5-15>",
  "\\d+\\s\\w*",
  "\\D\\S\\W",
  "[\\d\\s]+",
  "[^\\w]",
  "[a&&b]+",
  "[a~~b\\-\\-c]",
  "[\\[\\]\\^\\\\]+",
  "^a$",
  "x\\.y\\*z",
  "é+ü?",
  "😀.",
  "[😀-😂]",
  "\\\\",
];
const INPUTS = [
  "",
  "a",
  "abc",
  "ababc",
  "a.bc",
  "aa",
  "aaaa",
  "dx",
  "]",
  "a-x",
  "y",
  "0",
  "255",
  "256",
  "0255",
  "007",
  "07",
  "100",
  "12 ab_9",
  "٣ é",
  "\u00a0\u000b",
  "x y",
  "&",
  "ab&",
  "~-",
  "[]^\\",
  "^a$",
  "x.y*z",
  "ééü",
  "😀x",
  "😁",
  "\\",
  "\n",
  "a\nc",
];

describe("Lucene regex: the JavaScript and RE2 printings agree", () => {
  it.each(PATTERNS)("%s", (pattern) => {
    const a = js(pattern);
    const b = re2(pattern);
    const disagreements = INPUTS.filter((input) => a.test(input) !== b.test(input));
    expect(disagreements).toEqual([]);
  });

  it("agrees on random inputs over the patterns' alphabet", () => {
    const alphabet = [..."ab.c-&~[]^\\0159 \t\u00a0é😀_x"];
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const mismatches: string[] = [];
    for (const pattern of PATTERNS) {
      const a = js(pattern);
      const b = re2(pattern);
      for (let i = 0; i < 200; i++) {
        let s = "";
        for (let j = rand(6); j > 0; j--) s += alphabet[rand(alphabet.length)];
        if (a.test(s) !== b.test(s)) mismatches.push(`${pattern} on ${JSON.stringify(s)}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it("refuses what Lucene refuses: a range whose end comes first, `\\` before a letter that is no class", () => {
    // RegExp.makeCharRange: "invalid range: from … cannot be > to"; matchPredefinedCharacterClass: "invalid
    // character class" for a backslash before another letter
    expect(() => luceneToJsSource("[a-]")).toThrow(/invalid range/);
    expect(() => luceneToRe2("[b--]")).toThrow(/invalid range/);
    expect(() => luceneToJsSource("\\n")).toThrow(/invalid escape/);
  });

  it("refuses intersection and complement in both dialects, by name", () => {
    expect(() => luceneToJsSource("a&b")).toThrow(/intersection/);
    expect(() => luceneToRe2("a&b")).toThrow(/intersection/);
    expect(() => luceneToJsSource("~a")).toThrow(/complement/);
    expect(() => luceneToRe2("~a")).toThrow(/complement/);
  });

  it("refuses group nesting deeper than the documented limit instead of exhausting the stack", () => {
    const deep = `${"(".repeat(5000)}a${")".repeat(5000)}`;
    expect(() => luceneToJsSource(deep)).toThrow(/nested deeper/);
  });
});
