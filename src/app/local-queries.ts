/**
 * Hunts without Log Analytics: the hunt's queries run in the local workspace engine (src/workspace) over the
 * tables in a directory, with the window applied as the Logs API applies its timespan (on TimeGenerated), and
 * the rules' exclusion lists served as the watchlists the queries read (`_GetWatchlist`), with the rows and columns
 * deploy writes. The engine (and Kusto.Language with it) is loaded on the first run.
 */
import { EXCLUSION_SEARCH_KEY, exclusionWatchlists as exclusionRows } from "../rules/exclusions.js";
import type { LoadedRule } from "../rules/types.js";
import type { QueryOutcome, QueryRunner, QueryWindow } from "../sentinel/logs-query.js";

interface WatchlistData {
  readonly searchKey: string;
  readonly items: readonly Readonly<Record<string, string>>[];
}

/** The exclusion watchlists of a rule set, by alias: the rows deploy writes (src/rules/exclusions.ts). */
export function exclusionWatchlists(rules: readonly LoadedRule[]): Record<string, WatchlistData> {
  const out: Record<string, WatchlistData> = {};
  for (const list of exclusionRows(rules).values()) {
    out[list.alias] = { searchKey: EXCLUSION_SEARCH_KEY, items: list.rows };
  }
  return out;
}

export class LocalWorkspaceQueryRunner implements QueryRunner {
  constructor(
    private readonly dir: string,
    private readonly watchlists: () => Promise<Record<string, WatchlistData>>,
  ) {}

  async run(query: string, window: QueryWindow): Promise<QueryOutcome> {
    try {
      const { openWorkspace, toRecords } = await import("../workspace/index.js");
      // Opened per run, so table files added since the last run are seen.
      const workspace = await openWorkspace(this.dir, { watchlists: await this.watchlists() });
      const result = await workspace.query(query, { timespan: window, now: window.end });
      return { ok: true, rows: toRecords(result), attempts: [{ attempt: 1, outcome: "success" }] };
    } catch (error) {
      const message = error instanceof Error ? error.message.split("\n")[0]! : String(error);
      return { ok: false, error: message, attempts: [{ attempt: 1, outcome: "error", message }] };
    }
  }
}
