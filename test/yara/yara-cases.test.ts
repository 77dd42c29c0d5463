/**
 * libyara's own literal test cases (../shared/corpus/yara-cases), run through shmhunt's real path: compile with
 * the suite's external variables, scan in the worker pool. No wrong result is allowed; the cases YARA-X handles
 * differently are listed, with the documented difference, in yara-x-differences.json.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DiagnosticError } from "../../src/diagnostics/index.js";
import { type CompiledRuleSet, compileYaraSource } from "../../src/yara/index.js";
import { ScanPool } from "../../src/yara/pool.js";
import { repoRoot } from "./tmp.js";

interface YaraCase {
  readonly line: number;
  readonly expect: boolean;
  readonly rule: string;
  readonly data_base64: string;
}

interface Difference {
  readonly line: number;
  readonly kind: "refused" | "crash";
}

const corpus = path.resolve(repoRoot, "../shared/corpus/yara-cases/yara-cases.json");
const { cases } = JSON.parse(readFileSync(corpus, "utf8")) as { cases: YaraCase[] };
const differences = (
  JSON.parse(readFileSync(path.join(import.meta.dirname, "yara-x-differences.json"), "utf8")) as {
    cases: Difference[];
  }
).cases;
const refused = new Set(differences.filter((d) => d.kind === "refused").map((d) => d.line));
const crashing = new Set(differences.filter((d) => d.kind === "crash").map((d) => d.line));
const externals = { var_zero: 0, var_one: 1, var_true: true, var_false: false } as const;
const limits = { maxSampleSize: 16 * 1024 * 1024, timeoutMs: 10_000 };

describe("libyara's test cases on YARA-X", () => {
  const pool = new ScanPool(2);
  afterAll(() => pool.close());

  it("holds all 157 cases", () => {
    expect(cases).toHaveLength(157);
  });

  it("refuses exactly the listed cases at compile time, with a YARA400 diagnostic", () => {
    const failedToCompile: number[] = [];
    for (const c of cases) {
      try {
        compileYaraSource(c.rule, `yara-cases:${c.line}`, { externals });
      } catch (error) {
        expect(error).toBeInstanceOf(DiagnosticError);
        expect((error as DiagnosticError).diagnostics[0]?.code).toBe("YARA400");
        failedToCompile.push(c.line);
      }
    }
    expect(failedToCompile).toEqual([...refused].sort((a, b) => a - b));
  });

  it("gives YARA's result on every other case, and fails the crashing ones as a scan error", async () => {
    const wrong: string[] = [];
    const crashed: number[] = [];
    const runnable = cases.filter((c) => !refused.has(c.line));
    const results = await Promise.all(
      runnable.map(async (c) => {
        const rules: CompiledRuleSet = compileYaraSource(c.rule, `yara-cases:${c.line}`, { externals });
        const data = Buffer.from(c.data_base64, "base64");
        return {
          c,
          verdict: await pool.run({ target: { kind: "bytes", data }, limits, rules, knownSize: data.length }),
        };
      }),
    );
    for (const { c, verdict } of results) {
      if (verdict.verdict === "error") {
        crashed.push(c.line);
        expect(verdict.error?.code).toBe("YARA410");
        expect(verdict.error?.message).toMatch(/YARA-X crashed while scanning/);
        continue;
      }
      const matched = verdict.verdict === "match";
      if (matched !== c.expect) wrong.push(`line ${c.line}: expected ${c.expect}, got ${matched}: ${c.rule}`);
    }
    expect(wrong).toEqual([]);
    expect(crashed.sort((a, b) => a - b)).toEqual([...crashing].sort((a, b) => a - b));
    expect(pool.stats().crashes).toBe(crashing.size);
    expect(results.length + refused.size).toBe(157);
  }, 120_000);

  it("agrees with YARA on the refused percentage case once written with parentheses", async () => {
    const rules = compileYaraSource(
      'rule test { strings: $a1 = "miss" $a2 = "issi" condition: (1050%100)% of them }',
      "yara-cases:2010-parenthesised",
    );
    const data = Buffer.from("mississippi");
    expect((await pool.run({ target: { kind: "bytes", data }, limits, rules, knownSize: data.length })).verdict).toBe(
      "match",
    );
  });
});
