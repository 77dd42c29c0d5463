/**
 * How the resources of the content model depend on each other, for the renderings that declare order (ARM
 * `dependsOn`, Bicep `dependsOn`) and for the slice of one rule on one target (an ARM template of its own):
 * a query reads the workspace functions and watchlists it names (Sentinel checks an analytics rule's query when
 * it is created, so they must exist first); metadata belongs to its owner; items to their watchlist.
 */
import { contentIds } from "./ids.js";
import type { DesiredResource } from "./plan.js";

/** Names (function aliases, watchlist aliases) a query reads, as whole words. */
function readsFrom(query: string, names: readonly string[]): string[] {
  return names.filter((n) => new RegExp(`(^|[^A-Za-z0-9_])${escapeRegExp(n)}([^A-Za-z0-9_]|$)`).test(query));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The functions and watchlists among `all` that a resource's query reads (in the order of `all`). */
export function queryDependencies(resource: DesiredResource, all: readonly DesiredResource[]): DesiredResource[] {
  const query = resource.properties.query;
  if (typeof query !== "string") return [];
  const ownAlias = resource.properties.functionAlias;
  const functions = all.filter(
    (d) => d.kind === "workspaceFunction" && typeof d.properties.functionAlias === "string" && d !== resource,
  );
  const readFunctions = new Set(
    readsFrom(
      query,
      functions.map((f) => f.properties.functionAlias as string).filter((a) => a !== ownAlias),
    ),
  );
  const readWatchlists = new Set(
    readsFrom(
      query,
      all.filter((d) => d.kind === "watchlist").map((d) => d.name),
    ),
  );
  return [
    ...functions.filter((f) => readFunctions.has(f.properties.functionAlias as string)),
    ...all.filter((d) => d.kind === "watchlist" && readWatchlists.has(d.name)),
  ];
}

/**
 * One rule's content on one target: its hunting query and analytics rule, the functions and watchlists (with
 * their items) their queries read, and the metadata of each. Order as in `all`.
 */
export function contentOfRule(all: readonly DesiredResource[], ruleId: string, target: string): DesiredResource[] {
  const own = all.filter(
    (d) =>
      (d.kind === "savedSearch" && d.name === contentIds.huntingQuery(ruleId, target)) ||
      (d.kind === "alertRule" && d.name === contentIds.alertRule(ruleId, target)),
  );
  const read = own.flatMap((d) => queryDependencies(d, all));
  const chosen = new Set([...own, ...read]);
  const watchlists = new Set([...chosen].filter((d) => d.kind === "watchlist").map((d) => d.name));
  return all.filter(
    (d) =>
      chosen.has(d) ||
      (d.kind === "watchlistItem" && watchlists.has(d.parent ?? "")) ||
      (d.kind === "metadata" && [...chosen].some((c) => c.kind === d.owner?.kind && c.name === d.owner?.name)),
  );
}
