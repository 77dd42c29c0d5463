/**
 * `shmhunt validate`: every file check of src/rules (rule TOML, YARA, KQL) plus the check that each rule translates
 * for every target it declares (src/kql's rule check), which sits above the rules layer and is composed here.
 * The translator loads on the first rule checked, so commands that never validate do not load it.
 */
import type { RuleCheck, ValidationReport } from "../rules/validate.js";
import { validateAll } from "../rules/validate.js";

/** Every target in the rule's `[shmhunt] targets` translates, and Kusto.Language accepts the result. */
const translationRuleCheck: RuleCheck = async (rule) => (await import("../kql/rule-check.js")).translationCheck(rule);

/**
 * What Microsoft Sentinel would refuse of a rule's analytics rules (query length, schedule, suppression, grouping,
 * alerts per run, entity mappings: src/sentinel/service-limits.ts), with the rule file, line and key.
 */
let limitsCheck: ReturnType<typeof import("../sentinel/deploy.js")["serviceLimitsRuleCheck"]> | undefined;
const serviceLimitsRuleCheck: RuleCheck = async (rule) => {
  limitsCheck ??= import("../sentinel/deploy.js").then((m) => m.serviceLimitsRuleCheck());
  return (await limitsCheck)(rule);
};

/** Validates rule content (files and folders) with every file check, the translation check and the service limits. */
export function validateContent(paths: readonly string[]): Promise<ValidationReport> {
  return validateAll(paths, { ruleChecks: [translationRuleCheck, serviceLimitsRuleCheck] });
}
