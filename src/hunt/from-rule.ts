/** Adapters from the other stages' types to the hunt's: a loaded rule to a HuntRule, a YARA verdict to a stored one. */
import type { LoadedRule } from "../rules/types.js";
import { sentinelSeverity, sentinelTactics } from "../sentinel/vocabulary.js";
import type { Verdict } from "../yara/verdict.js";
import type { HuntRule, StoredVerdict } from "./types.js";

export function huntRuleOf(rule: LoadedRule): HuntRule {
  const gate = rule.settings.sampleGate;
  return {
    id: rule.id,
    name: rule.name,
    description: rule.description,
    severity: sentinelSeverity(rule.severity),
    riskScore: rule.riskScore,
    intervalMs: rule.intervalMs,
    lookbackMs: rule.lookbackMs,
    maxSignals: rule.maxSignals,
    tactics: sentinelTactics(rule),
    techniques: [...new Set(rule.threat.flatMap((t) => t.techniques.map((x) => x.id)))],
    gate: { mode: gate.mode, yaraRules: gate.yara.map((y) => y.name), pendingTimeoutMs: gate.pendingTimeoutMs },
    grouping: { entities: rule.settings.analytics.groupBy, windowMs: rule.settings.analytics.groupingWindowMs },
  };
}

/** A scanner verdict as stored by SHA-256; undefined when the scan produced no verdict (error, skipped). */
export function storedVerdictOf(verdict: Verdict, scannedAt: Date): StoredVerdict | undefined {
  if (verdict.sha256 === null || (verdict.verdict !== "match" && verdict.verdict !== "no-match")) return undefined;
  return {
    sha256: verdict.sha256,
    size: verdict.size,
    matches: verdict.matches.map((m) => ({ rule: m.rule, ...(m.file ? { file: m.file } : {}), tags: [...m.tags] })),
    scannedAt: scannedAt.toISOString(),
    ruleset: verdict.ruleset,
    detail: verdict,
  };
}
