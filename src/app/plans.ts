/**
 * Where the hunt's plans come from: the rule files (schedule, gate, severity) and the generated, checked-in KQL
 * `kql/<rule file name>/<target>.kql` for each target the rule and the service both hunt on. Reading the
 * generated files keeps the translator (and Kusto.Language) out of the hunt's process.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { formatDiagnostic } from "../diagnostics/index.js";
import { huntRuleOf } from "../hunt/from-rule.js";
import type { HuntLogger } from "../hunt/run.js";
import type { HuntPlan, HuntRule } from "../hunt/types.js";
import { isTarget, REGISTRY } from "../targets/index.js";
import { yaraRuleNames } from "../yara/rule-names.js";

export async function kqlFilePlans(
  rulesDir: string,
  kqlDir: string,
  targets: readonly string[],
  logger?: HuntLogger,
): Promise<HuntPlan[]> {
  const { loadRules } = await import("../rules/loader.js");
  const { rules, diagnostics } = await loadRules(rulesDir);
  for (const d of diagnostics.filter((x) => x.severity === "error")) {
    // The folder itself unreadable (`serve` started where there is no ./rules): no rule at all is hunted.
    const what = d.file === rulesDir ? "no rule hunted" : "rule not hunted";
    logger?.warn({ file: d.file, code: d.code }, `${what}: ${formatDiagnostic(d)}`);
  }
  const plans: HuntPlan[] = [];
  for (const rule of rules) {
    if (rule.type !== "eql" || rule.buildingBlock) continue;
    const stem = path.basename(rule.file).replace(/\.toml$/i, "");
    for (const target of rule.settings.targets.filter((t) => targets.includes(t))) {
      const file = path.join(kqlDir, stem, `${target}.kql`);
      const query = await readFile(file, "utf8").catch(() => undefined);
      if (query === undefined) {
        logger?.warn(
          { ruleId: rule.id, target, file },
          "rule not hunted on this target: no generated KQL (npm run kql:generate)",
        );
        continue;
      }
      const gate = rule.settings.sampleGate;
      const hashColumns = sampleHashColumnsFor(gate.hashFields, target);
      plans.push({
        rule: await withYaraRuleNames(huntRuleOf(rule), gate.yara),
        target,
        query,
        ...(hashColumns.length > 0 ? { sampleHashColumns: hashColumns } : {}),
        sampleNameColumns: sampleNameColumnsFor(gate.pathFields, gate.hashFields, target),
      });
    }
  }
  return plans;
}

/**
 * A gate names YARA files (`shm-creation.yar`); verdicts name the rules that matched. Adds the identifiers of the
 * rules each named file declares, so a verdict confirms the gate by rule name.
 */
export async function withYaraRuleNames(
  rule: HuntRule,
  files: readonly { readonly path: string }[],
): Promise<HuntRule> {
  const names = new Set(rule.gate.yaraRules);
  for (const file of files) {
    const source = await readFile(file.path, "utf8").catch(() => "");
    for (const name of yaraRuleNames(source)) names.add(name);
  }
  return { ...rule, gate: { ...rule.gate, yaraRules: [...names] } };
}

/** The part of a target (src/targets/target-types.ts) this module reads. */
interface HashMapping {
  readonly sources: readonly { readonly fields: Readonly<Record<string, { readonly column?: string } | undefined>> }[];
}

/**
 * The target's result columns for the rule's sample hash fields (`file.hash.sha256` → `SHA256` on Defender), in
 * the rule's order. Empty when the mapping names none: the hunt then looks in the usual hash columns.
 */
export function hashColumnsIn(mapping: HashMapping | undefined, hashFields: readonly string[]): string[] {
  const columns: string[] = [];
  for (const field of hashFields) {
    for (const source of mapping?.sources ?? []) {
      const column = source.fields[field]?.column;
      if (column && !columns.includes(column)) columns.push(column);
    }
  }
  return columns;
}

/** The rule's sample hash columns on a target, from the translator's mapping data (plain data, cheap to load). */
function sampleHashColumnsFor(hashFields: readonly string[], target: string): string[] {
  return hashColumnsIn(isTarget(target) ? REGISTRY[target] : undefined, hashFields);
}

/**
 * The rule's other sample columns on a target: its `path_fields`, and its `hash_fields` as SHA-1 and MD5
 * (`file.hash.sha256` → `file.hash.sha1` → `SHA1` on Defender), for the sample broker.
 */
function sampleNameColumnsFor(
  pathFields: readonly string[],
  hashFields: readonly string[],
  target: string,
): { path: string[]; sha1: string[]; md5: string[] } {
  const mapping = isTarget(target) ? REGISTRY[target] : undefined;
  const as = (algorithm: string) => hashFields.map((f) => f.replace(/\.sha256$/, `.${algorithm}`));
  return {
    path: hashColumnsIn(mapping, pathFields),
    sha1: hashColumnsIn(mapping, as("sha1")),
    md5: hashColumnsIn(mapping, as("md5")),
  };
}
