/**
 * The exclusion watchlists of a rule set, as rows: the one builder of what deploy writes as watchlist items, the
 * Bicep and ARM renderings declare, and the local workspace serves to `_GetWatchlist`. One watchlist per alias
 * (rules may share one; their rows are merged, each row once), one row per excluded value.
 */
import type { LoadedRule } from "./types.js";

/** The columns of an exclusion watchlist, in order; `Value` is its search key. */
export const EXCLUSION_COLUMNS = ["Scenario", "Field", "Operator", "Value", "Comment"] as const;
export const EXCLUSION_SEARCH_KEY = "Value";

export type ExclusionRow = { readonly [column in (typeof EXCLUSION_COLUMNS)[number]]: string };

interface ExclusionWatchlist {
  /** The alias as the first rule (by id) that names it spells it. */
  readonly alias: string;
  readonly description: string;
  readonly rows: readonly ExclusionRow[];
}

/** By lower-cased alias, rules in id order. */
export function exclusionWatchlists(rules: readonly LoadedRule[]): Map<string, ExclusionWatchlist> {
  const out = new Map<string, { alias: string; description: string; rows: ExclusionRow[]; seen: Set<string> }>();
  for (const rule of [...rules].sort((a, b) => a.id.localeCompare(b.id))) {
    const exclusions = rule.settings.exclusions;
    if (!exclusions) continue;
    const key = exclusions.watchlist.toLowerCase();
    let list = out.get(key);
    if (!list) {
      list = { alias: exclusions.watchlist, description: exclusions.description, rows: [], seen: new Set() };
      out.set(key, list);
    }
    for (const item of exclusions.items) {
      for (const value of item.values) {
        const row: ExclusionRow = {
          Scenario: item.scenario,
          Field: item.field,
          Operator: item.operator,
          Value: value,
          Comment: item.comment ?? "",
        };
        const identity = JSON.stringify([row.Scenario, row.Field, row.Operator, row.Value]);
        if (list.seen.has(identity)) continue;
        list.seen.add(identity);
        list.rows.push(row);
      }
    }
  }
  return new Map([...out].map(([key, { alias, description, rows }]) => [key, { alias, description, rows }]));
}
