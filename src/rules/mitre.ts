/**
 * Checks a rule's `[[rule.threat]]` entries against ATT&CK: ids well formed (the schema), tactics known,
 * each technique belonging to the tactic it is filed under, sub-techniques under their parent, names right.
 */
import { Codes } from "../diagnostics/index.js";
import { SUBTECHNIQUES, TACTICS, TECHNIQUES } from "./mitre-data.js";
import { isTable } from "./schema.js";
import type { PathSegment } from "./toml-document.js";
import type { AttackRef, TechniqueRef, ThreatMapping } from "./types.js";

interface ThreatIssue {
  readonly path: readonly PathSegment[];
  readonly code: string;
  readonly severity: "error" | "warning";
  readonly message: string;
  readonly hint?: string;
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const ref = (v: unknown): AttackRef => {
  const t = isTable(v) ? v : {};
  return { id: str(t.id), name: str(t.name) };
};

/** The typed threat mappings of `rule.threat` (already schema-checked). */
export function threatMappings(raw: unknown): ThreatMapping[] {
  return list(raw).map((entry) => {
    const t = isTable(entry) ? entry : {};
    const techniques: TechniqueRef[] = list(t.technique).map((tech) => {
      const tt = isTable(tech) ? tech : {};
      return { ...ref(tt), subtechniques: list(tt.subtechnique).map(ref) };
    });
    return { framework: str(t.framework), tactic: ref(t.tactic), techniques };
  });
}

/** Every problem with the threat mappings, each at its key path under `rule.threat`. */
export function checkThreat(threat: readonly ThreatMapping[]): ThreatIssue[] {
  const issues: ThreatIssue[] = [];
  threat.forEach((entry, i) => {
    const base: PathSegment[] = ["rule", "threat", i];
    const tacticName = TACTICS[entry.tactic.id];
    if (/^TA\d{4}$/.test(entry.tactic.id)) {
      if (tacticName === undefined) {
        issues.push({
          path: [...base, "tactic", "id"],
          code: Codes.RuleThreatMismatch,
          severity: "error",
          message: `${entry.tactic.id} is not an ATT&CK Enterprise tactic`,
        });
      } else if (entry.tactic.name !== tacticName) {
        issues.push({
          path: [...base, "tactic", "name"],
          code: Codes.RuleThreatMismatch,
          severity: "error",
          message: `tactic ${entry.tactic.id} is "${tacticName}", not "${entry.tactic.name}"`,
        });
      }
    }
    entry.techniques.forEach((technique, j) => {
      const at: PathSegment[] = [...base, "technique", j];
      if (!/^T\d{4}$/.test(technique.id)) return; // the schema reported the form
      const facts = TECHNIQUES.get(technique.id);
      if (!facts) {
        issues.push({
          path: [...at, "id"],
          code: Codes.RuleThreatMismatch,
          severity: "warning",
          message: `technique ${technique.id} is not in shmhunt's ATT&CK table; its fit with ${entry.tactic.id} is not checked`,
          hint: "add it to src/rules/mitre-data.ts",
        });
      } else {
        if (tacticName !== undefined && !facts.tactics.includes(entry.tactic.id)) {
          const names = facts.tactics.map((id) => `${id} ${TACTICS[id] ?? ""}`.trim()).join(", ");
          issues.push({
            path: [...at, "id"],
            code: Codes.RuleThreatMismatch,
            severity: "error",
            message: `technique ${technique.id} (${facts.name}) does not belong to tactic ${entry.tactic.id} (${tacticName})`,
            hint: `${technique.id} belongs to ${names}`,
          });
        }
        if (technique.name !== facts.name) {
          issues.push({
            path: [...at, "name"],
            code: Codes.RuleThreatMismatch,
            severity: "warning",
            message: `technique ${technique.id} is named "${facts.name}" in ATT&CK, not "${technique.name}"`,
          });
        }
      }
      technique.subtechniques.forEach((sub, k) => {
        const subAt: PathSegment[] = [...at, "subtechnique", k];
        if (!/^T\d{4}\.\d{3}$/.test(sub.id)) return;
        if (!sub.id.startsWith(`${technique.id}.`)) {
          issues.push({
            path: [...subAt, "id"],
            code: Codes.RuleThreatMismatch,
            severity: "error",
            message: `sub-technique ${sub.id} is not a sub-technique of ${technique.id}`,
          });
          return;
        }
        const name = SUBTECHNIQUES.get(sub.id);
        if (name === undefined) {
          issues.push({
            path: [...subAt, "id"],
            code: Codes.RuleThreatMismatch,
            severity: "warning",
            message: `sub-technique ${sub.id} is not in shmhunt's ATT&CK table; its name is not checked`,
          });
        } else if (sub.name !== name) {
          issues.push({
            path: [...subAt, "name"],
            code: Codes.RuleThreatMismatch,
            severity: "warning",
            message: `sub-technique ${sub.id} is named "${name}" in ATT&CK, not "${sub.name}"`,
          });
        }
      });
    });
  });
  return issues;
}
