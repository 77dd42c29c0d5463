/**
 * Which queries can be windowed on `ingestion_time()`: only those whose rows are still a table's rows (Kusto:
 * "ingestion_time() ... when the current record was ingested", learn.microsoft.com/kusto/query/ingestion-time-function;
 * operators that build new rows drop it, and the emulator refuses `ingestion_time()` after them). The generated
 * queries of kql/ are judged as shipped; the analytics rule of such a query takes only rows that arrived since the
 * previous run (learn.microsoft.com/azure/sentinel/ingestion-delay), so the 9m lookback / 5m frequency overlap does
 * not alert twice.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { analyticsRuleQuery } from "../../src/sentinel/desired.js";
import { keepsIngestionTime } from "../../src/sentinel/ingestion-time.js";

const kql = (file: string) => readFileSync(path.resolve(import.meta.dirname, "../../kql", file), "utf8");

describe("keepsIngestionTime", () => {
  it("holds for a table read through where/extend (Defender), with lets and strings full of | and ;", () => {
    expect(keepsIngestionTime(kql("shm-execution/defender.kql"))).toBe(true);
    expect(keepsIngestionTime(kql("shm-creation/defender.kql"))).toBe(true);
    expect(keepsIngestionTime("T | where a == \"x | project y; z\" | extend b = @'c|d' // | summarize")).toBe(true);
  });

  it("does not hold through parsers, projections, joins or a let-bound source", () => {
    expect(keepsIngestionTime(kql("shm-execution/asim.kql"))).toBe(false); // _Im_ProcessEvent: an ASIM parser
    expect(keepsIngestionTime(kql("shm-execution/auditd.kql"))).toBe(false); // ShmhuntAuditd(): joins
    expect(keepsIngestionTime("T | project a")).toBe(false);
    expect(keepsIngestionTime("T | summarize count() by a")).toBe(false);
    expect(keepsIngestionTime("T | join (U) on a")).toBe(false);
    expect(keepsIngestionTime("let x = T | project a; x | where a > 1")).toBe(false);
  });
});

describe("analyticsRuleQuery", () => {
  it("keeps only rows that arrived since the previous run, where the rows carry their ingestion time", () => {
    expect(analyticsRuleQuery("T | where a > 1", 5 * 60_000)).toBe(
      "T | where a > 1\n| where ingestion_time() > ago(5m)",
    );
    expect(analyticsRuleQuery("T | where a > 1", 3_600_000)).toMatch(/ago\(1h\)$/);
    expect(analyticsRuleQuery("T | project a", 5 * 60_000)).toBe("T | project a");
  });
});
