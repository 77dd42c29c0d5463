/**
 * The translator's rule check for `shmhunt validate` (a `RuleCheck` of src/rules/validate.ts): every target the
 * rule declares in `[shmhunt] targets` must translate (a refusal is an error naming the field or construct,
 * KQL300/KQL301) to a query Kusto.Language accepts (KQL310). Approximations are reported as info (KQL302).
 */
import { Codes, type Diagnostic } from "../diagnostics/index.js";
import type { LoadedRule } from "../rules/types.js";
import { translateRule } from "./translate.js";

export function translationCheck(rule: LoadedRule): Diagnostic[] {
  if (rule.language !== "eql" || !rule.query?.ast) return [];
  const out: Diagnostic[] = [];
  const where = { file: rule.file, span: rule.query.span };
  for (const target of rule.settings.targets) {
    const t = translateRule(rule, target);
    if (t.refused) {
      out.push({
        code: t.refused.kind === "field" ? Codes.KqlRefusedField : Codes.KqlRefusedConstruct,
        severity: "error",
        message: `cannot translate for ${target}: ${t.refused.message}`,
        ...where,
      });
    }
    for (const d of t.diagnostics) {
      out.push({ ...d, message: `translator defect, invalid KQL for ${target}: ${d.message}`, file: rule.file });
    }
    for (const a of t.approximations) {
      out.push({ code: Codes.KqlApproximation, severity: "info", message: `${target}: ${a}`, ...where });
    }
  }
  return out;
}
