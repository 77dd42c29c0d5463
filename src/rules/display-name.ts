import type { LoadedRule } from "./types.js";

/**
 * The name a rule's deployed content shows on a target: Elastic's rule name, the target, and the revision label
 * when the file is another revision of a shipped rule_id (two revisions must not look alike in Sentinel).
 */
export function ruleDisplayName(rule: Pick<LoadedRule, "name" | "settings">, target: string): string {
  const revision = rule.settings.revision;
  return revision !== undefined ? `${rule.name} (${target}, ${revision})` : `${rule.name} (${target})`;
}
