/**
 * The translation benchmark's thresholds, enforced in CI: over Elastic's Linux EQL rules, no query fails
 * Kusto.Language validation, at least 83% of the non-sequence rules translate to valid KQL on Defender, and every
 * refusal names its field or construct.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type CorpusReport, translateCorpus } from "../../src/kql/corpus-report.js";
import { ruleFilesUnder } from "../../src/rules/loader.js";

const corpus = path.resolve(import.meta.dirname, "../../../shared/corpus/elastic-rules-linux");

describe.skipIf(!existsSync(corpus))("translation of the Elastic Linux rules", () => {
  let report: CorpusReport;

  it("translates every EQL rule for every target", async () => {
    const files = [
      ...(await ruleFilesUnder(path.join(corpus, "rules_linux"))),
      ...(await ruleFilesUnder(path.join(corpus, "rules_building_block_linux"))),
    ];
    report = await translateCorpus(files);
    expect(report.rules).toBeGreaterThan(250);
  }, 240_000);

  it("emits no invalid query", () => {
    for (const t of report.tallies) expect(t.invalidRules, t.target).toEqual([]);
  });

  it("keeps at least 83% of non-sequence rules valid on defender", () => {
    const defender = report.tallies.find((t) => t.target === "defender");
    expect((defender?.validEvent ?? 0) / report.eventRules).toBeGreaterThanOrEqual(0.83);
  });

  it("names a field or construct in every refusal", () => {
    for (const t of report.tallies) {
      for (const reason of t.refusedBy.keys()) expect(reason).toMatch(/^(field [\w.@]+|construct \S.*)$/);
    }
  });
});
