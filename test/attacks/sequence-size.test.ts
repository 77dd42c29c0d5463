/**
 * A sequence's size: `with runs=N` repeats a step N times (at most 100 a step, as Elasticsearch's parser), and
 * nothing bounded the steps: a 370-character query expanded to 1,000 stages, ~0.5 MB of KQL built and checked on
 * the server's thread (~8 s), 3,000 stages 51 s and 350 MB. The stages are bounded now (MAX_SEQUENCE_STAGES): a
 * larger sequence is refused at parse time, EQL121, naming where it is.
 */
import { describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../src/diagnostics/index.js";
import { MAX_SEQUENCE_STAGES, parseEql } from "../../src/eql/parser.js";
import { translateQuery } from "../../src/kql/index.js";

const step = (runs: number) => `[process where process.name == "a"] with runs=${runs}`;
const sequence = (steps: readonly number[]) => `sequence with maxspan=1m ${steps.map(step).join(" ")}`;

describe("a sequence's stages", () => {
  it("up to the limit: parsed and translated", () => {
    const query = parseEql(sequence([MAX_SEQUENCE_STAGES / 2, MAX_SEQUENCE_STAGES / 2]));
    expect(query.kind).toBe("sequence");
    const t = translateQuery(query, "defender");
    expect(t.kql ?? t.refused?.message).toBeDefined();
  });

  it("over the limit, from many steps of many runs: refused with EQL121 at the sequence", () => {
    const text = sequence(Array.from({ length: 10 }, () => 100));
    let error: unknown;
    try {
      parseEql(text);
    } catch (e) {
      error = e;
    }
    const message = formatDiagnostic(
      (error as { diagnostics: Parameters<typeof formatDiagnostic>[0][] }).diagnostics[0]!,
    );
    expect(message).toMatch(/^1:1: error EQL121: a sequence of 1000 stages .* over the limit of 100/);
  });
});
