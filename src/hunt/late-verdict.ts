/**
 * A verdict that arrives after its hit's incident was raised (gate `annotate`: the alert does not wait for the
 * sample) reaches the analyst on the incident: a comment with the verdict and the matching strings, and the
 * `verdict:*` and `yara:*` labels added (the writer merges them into the incident as it finds it, so an analyst's
 * changes stay). The hit then keeps the verdict, so each verdict is noted once.
 */
import type { IncidentNote } from "../sentinel/incidents.js";
import type { HuntDeps } from "./run.js";
import type { HitRecord, HuntPlan, StoredVerdict } from "./types.js";

/** The matching strings of a verdict's scanner report (src/yara/verdict.ts), when it kept them. */
function stringsOf(verdict: StoredVerdict): string[] {
  const rules = (verdict.detail as { matches?: unknown } | undefined)?.matches;
  if (!Array.isArray(rules)) return [];
  return rules.flatMap((r: { rule?: string; strings?: { identifier: string; offset: number; dataHex: string }[] }) =>
    (r.strings ?? []).map((s) => `${r.rule}: ${s.identifier} at offset ${s.offset} (${s.dataHex})`),
  );
}

export function verdictLabel(verdict: StoredVerdict): "match" | "clean" {
  return verdict.matches.length > 0 ? "match" : "clean";
}

/** The verdict in words: `MATCH (rules)` or `no rule matched`. */
export function verdictWords(verdict: StoredVerdict): string {
  return verdictLabel(verdict) === "match"
    ? `MATCH (${verdict.matches.map((m) => m.rule).join(", ")})`
    : "no rule matched";
}

/**
 * The comment and labels for a verdict that came after the incident. `headline`, when given, replaces the first
 * line (why the verdict came late: a rescan with changed rules says so, rescan.ts).
 */
export function lateVerdictNote(
  hit: HitRecord,
  verdict: StoredVerdict,
  previous?: StoredVerdict,
  headline?: string,
): IncidentNote {
  const label = verdictLabel(verdict);
  const strings = stringsOf(verdict);
  const lines = [
    headline ??
      `shmhunt: the YARA verdict on sample ${verdict.sha256} (${verdict.size} bytes, scanned ${verdict.scannedAt}) arrived after this incident was raised: ${verdictWords(verdict)}.`,
    ...(previous
      ? [
          `It replaces the earlier verdict: ${verdictLabel(previous)} (${previous.matches.map((m) => m.rule).join(", ") || "no rule"}, scanned ${previous.scannedAt}).`,
        ]
      : []),
    ...(strings.length > 0 ? ["Matching strings:", ...strings.slice(0, 20).map((s) => `- ${s}`)] : []),
    `Hit ${hit.key} of rule ${hit.ruleId} on ${hit.target}.`,
  ];
  return {
    noteKey: `${hit.key}/${verdict.sha256}/${verdict.scannedAt}`,
    comment: lines.join("\n").slice(0, 30_000),
    labels: [`verdict:${label}`, ...verdict.matches.map((m) => `yara:${m.rule}`)],
  };
}

/**
 * Notes `verdict` on the incidents of the alerted hits of its sample whose rule's gate is `annotate` and that do
 * not carry this verdict yet. Returns how many incidents were noted.
 */
export async function noteLateVerdict(
  verdict: StoredVerdict,
  plans: readonly HuntPlan[],
  deps: Pick<HuntDeps, "state" | "alerts" | "logger">,
): Promise<number> {
  const annotate = deps.alerts.annotate?.bind(deps.alerts);
  if (!annotate) return 0;
  const annotated = new Set(plans.filter((p) => p.rule.gate.mode === "annotate").map((p) => p.rule.id));
  if (annotated.size === 0) return 0;
  let noted = 0;
  for (const ruleId of annotated) {
    for (const hit of await deps.state.hits(ruleId)) {
      if (hit.status !== "alerted" || hit.sha256 !== verdict.sha256 || !hit.incidentId) continue;
      if (hit.verdict && hit.verdict.scannedAt === verdict.scannedAt) continue;
      if (hit.verdict && verdictLabel(hit.verdict) === verdictLabel(verdict) && sameRules(hit.verdict, verdict)) {
        await deps.state.write([deps.state.putHitOp({ ...hit, verdict })]);
        continue;
      }
      await annotate(hit.incidentId, lateVerdictNote(hit, verdict, hit.verdict));
      await deps.state.write([deps.state.putHitOp({ ...hit, verdict })]);
      noted++;
    }
  }
  return noted;
}

function sameRules(a: StoredVerdict, b: StoredVerdict): boolean {
  const names = (v: StoredVerdict) =>
    v.matches
      .map((m) => m.rule)
      .sort()
      .join(" ");
  return names(a) === names(b);
}
