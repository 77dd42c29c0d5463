/**
 * How Sentinel spells the facts of a rule: severities, ATT&CK tactics and techniques, durations. One definition of
 * each, used by the content model (desired.ts) and by the hunt's incidents.
 */
import type { LoadedRule, Severity } from "../rules/types.js";

export type SentinelSeverity = "High" | "Medium" | "Low" | "Informational";

/** Sentinel has four alert severities; `critical` is High (the risk score keeps the difference). */
export function sentinelSeverity(severity: Severity): "High" | "Medium" | "Low" {
  return severity === "critical" || severity === "high" ? "High" : severity === "medium" ? "Medium" : "Low";
}

/**
 * ATT&CK Enterprise tactic id → Sentinel's `AttackTactic` enum (AlertTypes.json, 2022-09-01-preview and 2025-12-01).
 * A table, not a rule of spelling: "Command and Control" is `CommandAndControl`, which no space-stripping gives.
 */
const SENTINEL_TACTICS: Readonly<Record<string, string>> = {
  TA0043: "Reconnaissance",
  TA0042: "ResourceDevelopment",
  TA0001: "InitialAccess",
  TA0002: "Execution",
  TA0003: "Persistence",
  TA0004: "PrivilegeEscalation",
  TA0005: "DefenseEvasion",
  TA0006: "CredentialAccess",
  TA0007: "Discovery",
  TA0008: "LateralMovement",
  TA0009: "Collection",
  TA0011: "CommandAndControl",
  TA0010: "Exfiltration",
  TA0040: "Impact",
};

/** The rule's tactics as Sentinel spells them (ids outside the table are left out: the loader refuses them first). */
export function sentinelTactics(rule: LoadedRule): string[] {
  return [...new Set(rule.threat.flatMap((th) => SENTINEL_TACTICS[th.tactic.id] ?? []))];
}

/** Techniques as `T####` (sub-techniques folded into their technique: API 2022-09-01-preview accepts only those). */
export function sentinelTechniques(rule: LoadedRule): string[] {
  return [...new Set(rule.threat.flatMap((th) => th.techniques.map((x) => x.id.replace(/\..*$/, ""))))];
}

/** Techniques and sub-techniques (`T1059`, `T1059.004`): where Sentinel takes both (hunting query tags, YAML). */
export function techniquesWithSubtechniques(rule: LoadedRule): string[] {
  return [
    ...new Set(rule.threat.flatMap((th) => th.techniques.flatMap((x) => [x.id, ...x.subtechniques.map((s) => s.id)]))),
  ];
}

/**
 * An ISO 8601 duration of milliseconds, as the alert rule spec's `format: duration` properties take it
 * (`PT1M`, `PT5H`, `P1DT1M`), whole seconds.
 */
export function isoDuration(ms: number): string {
  let s = Math.round(ms / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const time = `${h ? `${h}H` : ""}${m ? `${m}M` : ""}${s ? `${s}S` : ""}`;
  return `P${d ? `${d}D` : ""}${time ? `T${time}` : d ? "" : "T0S"}`;
}
