/** Adapters from the other stages' types to the hunt's: a loaded rule to a HuntRule, a YARA verdict to a stored one. */
import type { LoadedRule } from "../rules/types.js";
import type { AlertSeverity } from "../sentinel/incidents.js";
import type { Verdict } from "../yara/verdict.js";
import type { HuntRule, StoredVerdict } from "./types.js";

const severities: Readonly<Record<LoadedRule["severity"], AlertSeverity>> = {
  low: "Low",
  medium: "Medium",
  high: "High",
  critical: "High",
};

export function huntRuleOf(rule: LoadedRule): HuntRule {
  const gate = rule.settings.sampleGate;
  return {
    id: rule.id,
    name: rule.name,
    description: rule.description,
    severity: severities[rule.severity],
    riskScore: rule.riskScore,
    intervalMs: rule.intervalMs,
    lookbackMs: rule.lookbackMs,
    maxSignals: rule.maxSignals,
    // Sentinel names tactics without spaces ("DefenseEvasion"); MITRE names them with ("Defense Evasion").
    tactics: [...new Set(rule.threat.map((t) => t.tactic.name.replace(/\s+/g, "")))],
    techniques: [...new Set(rule.threat.flatMap((t) => t.techniques.map((x) => x.id)))],
    gate: { mode: gate.mode, yaraRules: gate.yara.map((y) => y.name), pendingTimeoutMs: gate.pendingTimeoutMs },
  };
}

/** A scanner verdict as stored by SHA-256; undefined when the scan produced no verdict (error, skipped). */
export function storedVerdictOf(verdict: Verdict, scannedAt: Date): StoredVerdict | undefined {
  if (verdict.sha256 === null || (verdict.verdict !== "match" && verdict.verdict !== "no-match")) return undefined;
  return {
    sha256: verdict.sha256,
    size: verdict.size,
    matches: verdict.matches.map((m) => ({ rule: m.rule, file: m.namespace, tags: [...m.tags] })),
    scannedAt: scannedAt.toISOString(),
    detail: verdict,
  };
}
