/**
 * Nested counted repetitions are refused where RE2 refuses them, and only there. The oracle is RE2 itself (the `re2`
 * package, Google's RE2, the engine of Kusto's `matches regex` and of the local evaluator), given the same regex the
 * printers write, printed here without the check under test. RE2's parser (re2/parse.cc, RepetitionWalker, run by
 * PushRepetition) bounds the product of nested `{n,m}` counts by 1000, besides each count: `(a{999}){999}` passed the
 * printer's count-by-count check and reached the KQL as a `matches regex` Sentinel's RE2 refuses.
 */
import RE2 from "re2";
import { describe, expect, it } from "vitest";
import { parseEql } from "../../src/eql/index.js";
import { type CodeRanges, parseLuceneRegex, printRegex, type RegexDialect } from "../../src/eql/lucene-regex.js";
import { luceneToRe2 } from "../../src/kql/lucene-re2.js";
import { thrownDiagnostic } from "../support/refusal.js";

const hex = (c: number) => c.toString(16);
/** RE2 syntax, with no repetition limit of its own: what the printers write, unchecked. */
const UNCHECKED: RegexDialect = {
  char: (c) => `\\x{${hex(c)}}`,
  charClass: (ranges: CodeRanges) =>
    `[${ranges.map(([lo, hi]) => (lo === hi ? `\\x{${hex(lo)}}` : `\\x{${hex(lo)}}-\\x{${hex(hi)}}`)).join("")}]`,
  nothing: "[^\\x{0}-\\x{10FFFF}]",
};

/** Whether RE2 reads the regex a Lucene pattern prints as. */
function re2Reads(pattern: string): boolean {
  const source = printRegex(parseLuceneRegex(pattern), UNCHECKED);
  try {
    new RE2(`(?s)^(?:${source})$`, "u");
    return true;
  } catch (error) {
    expect((error as Error).message).toMatch(/repetition/);
    return false;
  }
}

/** Whether the translator writes a regex for a Lucene pattern (rather than refusing it). */
function translated(pattern: string): boolean {
  try {
    luceneToRe2(pattern);
    return true;
  } catch (error) {
    expect((error as Error).message).toMatch(/repetition/);
    return false;
  }
}

describe("nested repetitions", () => {
  const cases = [
    "(a{999}){999}",
    "(a{2}){500}",
    "(a{2}){501}",
    "(a{2,}){500}",
    "(a{2,}){501}",
    "(a{0,5}){200}",
    "(a{0,6}){200}",
    "((a{10}){10}){10}",
    "((a{10}){10}){11}",
    "(a{0}){1000}",
    "((a{2}){0}){1000}",
    "(a*){1000}",
    "(a+){1000}",
    "(a?){1000}",
    "(a{1}){1000}",
    "(a{500}|b{3}){2}",
    "(a{500}b{3}){3}",
    "(a{1000})",
    "(<0-99>){1000}",
    "(<0-999>){1000}",
    "(<0-9999>){333}",
    "(<0-9999>){334}",
    "(<0000-9999>){250}",
    "(<0000-9999>){251}",
  ];
  for (const pattern of cases) {
    it(pattern, () => {
      expect(translated(pattern)).toBe(re2Reads(pattern));
    });
  }

  it("agrees with RE2 over random nestings", () => {
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const counts = [0, 1, 2, 3, 7, 10, 31, 32, 33, 100, 333, 334, 500, 999, 1000];
    const quantifier = () => {
      const a = counts[next(counts.length)] as number;
      const b = counts[next(counts.length)] as number;
      switch (next(4)) {
        case 0:
          return `{${a}}`;
        case 1:
          return `{${a},}`;
        case 2:
          return `{${Math.min(a, b)},${Math.max(a, b)}}`;
        default:
          return "*+?"[next(3)] as string;
      }
    };
    const build = (depth: number): string => {
      if (depth === 0) return next(3) === 0 ? "<0-999>" : "a";
      const inner = next(3) === 0 ? `${build(depth - 1)}|b` : build(depth - 1);
      return `(${inner})${quantifier()}`;
    };
    let refused = 0;
    for (let i = 0; i < 1000; i++) {
      const pattern = build(1 + next(4));
      const reads = re2Reads(pattern);
      if (!reads) refused++;
      expect(translated(pattern), pattern).toBe(reads);
    }
    expect(refused).toBeGreaterThan(20);
  });

  it("are refused as the EQL is read, with the pattern's position", () => {
    const d = thrownDiagnostic(() => parseEql('process where process.name regex "(a{999}){999}"'));
    expect(d.code).toBe("EQL120");
    expect(d.message).toMatch(/nested repetition counts multiply past 1000/);
    expect(d.span?.start).toEqual({ line: 1, column: 34, offset: 33 });
    expect(parseEql('process where process.name regex "(a{2}){500}"').kind).toBe("event");
  });
});
