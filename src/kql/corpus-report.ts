/**
 * Translation over a corpus of Elastic rules (the benchmark and its CI test): every EQL rule × every target,
 * tallied as valid, refused (by reason) or invalid (a Kusto.Language error: a defect).
 */
import { loadRuleFile } from "../rules/loader.js";
import type { Target } from "../rules/types.js";
import { TARGETS } from "../targets/index.js";
import { type Translation, translateRule } from "./translate.js";

interface TargetTally {
  readonly target: Target;
  /** Rules translated to a query Kusto.Language accepts. */
  valid: number;
  /** Of which: non-sequence (event) rules. */
  validEvent: number;
  refused: number;
  invalid: number;
  readonly refusedBy: Map<string, number>;
  readonly invalidRules: { readonly file: string; readonly message: string }[];
}

export interface CorpusReport {
  readonly rules: number;
  readonly eventRules: number;
  readonly sequenceRules: number;
  /** Rule files the loader rejected (not counted in the tallies). */
  readonly unloadable: readonly string[];
  readonly tallies: readonly TargetTally[];
  readonly seconds: number;
}

export async function translateCorpus(files: readonly string[]): Promise<CorpusReport> {
  const started = performance.now();
  const tallies = TARGETS.map(
    (target): TargetTally => ({
      target,
      valid: 0,
      validEvent: 0,
      refused: 0,
      invalid: 0,
      refusedBy: new Map(),
      invalidRules: [],
    }),
  );
  let rules = 0;
  let eventRules = 0;
  const unloadable: string[] = [];
  for (const file of files) {
    const { rule } = await loadRuleFile(file);
    if (!rule) {
      unloadable.push(file);
      continue;
    }
    if (rule.language !== "eql") continue;
    rules++;
    const isEvent = rule.query?.ast?.kind === "event";
    if (isEvent) eventRules++;
    for (const tally of tallies) record(tally, file, isEvent, translateRule(rule, tally.target));
  }
  return {
    rules,
    eventRules,
    sequenceRules: rules - eventRules,
    unloadable,
    tallies,
    seconds: (performance.now() - started) / 1000,
  };
}

function record(tally: TargetTally, file: string, isEvent: boolean, t: Translation): void {
  if (t.refused) {
    tally.refused++;
    tally.refusedBy.set(t.refused.reason, (tally.refusedBy.get(t.refused.reason) ?? 0) + 1);
  } else if (t.diagnostics.length > 0) {
    tally.invalid++;
    tally.invalidRules.push({ file, message: t.diagnostics[0]?.message ?? "" });
  } else {
    tally.valid++;
    if (isEvent) tally.validEvent++;
  }
}

/** The report as the benchmark prints it. */
export function formatReport(report: CorpusReport, top = 12): string {
  const lines = [
    `EQL rules: ${report.rules} (${report.eventRules} event, ${report.sequenceRules} sequence/sample); unloadable files: ${report.unloadable.length}`,
    "",
    "target    valid  (event rules)        refused  invalid",
  ];
  for (const t of report.tallies) {
    const pct = report.eventRules ? ((100 * t.validEvent) / report.eventRules).toFixed(1) : "0";
    lines.push(
      `${t.target.padEnd(9)} ${String(t.valid).padStart(5)}  (${t.validEvent}/${report.eventRules} = ${pct}%)`.padEnd(
        37,
      ) + `${String(t.refused).padStart(7)}  ${String(t.invalid).padStart(7)}`,
    );
  }
  for (const t of report.tallies) {
    lines.push("", `refusals on ${t.target} (by reason):`);
    const sorted = [...t.refusedBy].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    for (const [reason, n] of sorted.slice(0, top)) lines.push(`  ${String(n).padStart(4)}  ${reason}`);
    if (sorted.length > top) {
      const rest = sorted.slice(top).reduce((s, [, n]) => s + n, 0);
      lines.push(`  ${String(rest).padStart(4)}  (${sorted.length - top} other reasons)`);
    }
    for (const inv of t.invalidRules) lines.push(`  INVALID ${inv.file}: ${inv.message}`);
  }
  lines.push("", `time: ${report.seconds.toFixed(2)} s`);
  return lines.join("\n");
}
