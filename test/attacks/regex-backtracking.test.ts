/**
 * A Lucene regex with nested repetitions against an event's value (the local EQL evaluator, `shmhunt eql`). The
 * evaluator ran the regex as a backtracking JavaScript RegExp: `"a"×30 regex "(a*)*b"` took 8 s, doubling with each
 * further `a`. Lucene compiles a regex to an automaton, so Elasticsearch answers it at once; the evaluator now runs
 * RE2. Oracle for the answers: Lucene's semantics (the whole value must match), which a pattern ending in `b`
 * cannot meet on a text of `a`s. Over RE2's repetition limit, the pattern is refused at parse time (EQL120).
 */
import { describe, expect, it } from "vitest";
import { Codes } from "../../src/diagnostics/index.js";
import { evaluate, parseEql } from "../../src/eql/index.js";
import { cpuTime } from "../support/cpu-time.js";
import { thrownDiagnostic } from "../support/refusal.js";

const events = [{ event: { category: "process" }, process: { name: "a".repeat(30) } }];

describe("a regex of nested repetitions", () => {
  it("is evaluated over an event at once", () => {
    const { ms } = cpuTime(() => {
      expect(evaluate(parseEql('process where process.name regex "(a*)*b"'), events)).toEqual([]);
      expect(evaluate(parseEql('process where process.name regex~ "(a|aa)*(A*)*c"'), events)).toEqual([]);
      expect(evaluate(parseEql('process where process.name regex "(a*)*"'), events)).toHaveLength(1);
    });
    // linear matching takes milliseconds (under 15 ms of CPU, the first time in a process); backtracking took 8 s
    // for the first query alone. CPU time, not the wall clock: a loaded machine does not move it.
    expect(ms).toBeLessThan(1000);
  });

  it("over RE2's repetition limit is refused at parse time with the pattern's position", () => {
    const d = thrownDiagnostic(() => parseEql('process where process.name regex "a{1001}"'));
    expect(d.code).toBe(Codes.EqlUnsupported);
    expect(d.span?.start).toEqual({ line: 1, column: 34, offset: 33 });
    expect(parseEql('process where process.name regex "a{1000}"').kind).toBe("event");
  });
});
