/**
 * The desired Sentinel content of a rule set: what `shmhunt deploy` puts in the workspace, as resources with
 * their kind, deterministic name, parent and the SDK-model properties shmhunt owns (see plan.ts).
 *
 * Per rule and target (`[shmhunt] targets`):
 * - `hunting_query` → a saved search in category "Hunting Queries" (tags description / tactics / techniques and
 *   the managedBy marker), and its metadata (kind HuntingQuery);
 * - `analytics_rule` → a Scheduled analytics rule (frequency = interval, period = lookback, trigger "more than
 *   0 results", one alert per result, entity mappings, grouping and suppression from `[shmhunt.analytics]`) and
 *   its metadata (kind AnalyticsRule).
 * Per exclusion watchlist alias: the watchlist, one item per excluded value, and its metadata (kind Watchlist).
 * Per `kql/functions/<Name>.kql`: a saved search with function alias `<Name>`, and its metadata (kind Parser).
 *
 * Bodies shared with the ARM templates of src/kql/outputs.ts come from the same helpers (tactics, techniques,
 * durations, severity), so `kql:generate` and deploy describe the same content.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { isoDuration, sentinelTactics, sentinelTechniques } from "../kql/outputs.js";
import { ruleDisplayName } from "../rules/display-name.js";
import type { EntityType, LoadedRule, Severity, Target } from "../rules/types.js";
import { contentResourceId, type WorkspaceRef } from "./content-types.js";
import { contentIds, uuidv5 } from "./ids.js";
import { managedBy, metadataSource } from "./markers.js";
import type { DesiredResource, Json, ResourceKind } from "./plan.js";

/** What the builder needs of a rule's translation (src/kql `Translation`). */
export interface TranslationLike {
  readonly kql?: string;
  readonly refused?: { readonly message: string };
  readonly entityColumns: readonly { readonly type: string; readonly identifier: string; readonly column: string }[];
}

export interface DesiredOptions {
  /** The workspace (metadata `parentId` holds the ARM id of the content it describes). */
  readonly workspace: WorkspaceRef;
  /** The translation of a rule for a target (src/kql `translateRule`). */
  readonly translate: (rule: LoadedRule, target: Target) => TranslationLike;
  /** Workspace functions to deploy: `<Name>.kql` files (default: none). */
  readonly functionsDir?: string;
}

/** Sentinel's metadata kinds for each content kind shmhunt deploys. */
export const metadataKindOf: Partial<Record<ResourceKind, string>> = {
  savedSearch: "HuntingQuery",
  alertRule: "AnalyticsRule",
  watchlist: "Watchlist",
  workspaceFunction: "Parser",
};

/** Category of the workspace functions shmhunt deploys. */
export const FUNCTION_CATEGORY = "shmhunt parsers";
/** The columns of an exclusion watchlist (as src/rules validate declares them for `_GetWatchlist`). */
export const EXCLUSION_COLUMNS = ["Scenario", "Field", "Operator", "Value", "Comment"] as const;
export const EXCLUSION_SEARCH_KEY = "Value";

/** Sentinel has four alert severities; `critical` is High (the risk score keeps the difference). */
export function sentinelSeverity(severity: Severity): "High" | "Medium" | "Low" {
  return severity === "critical" || severity === "high" ? "High" : severity === "medium" ? "Medium" : "Low";
}

/** Shared with the ARM templates of `kql:generate` (src/kql/outputs.ts): one definition of each. */
export { isoDuration, sentinelTactics, sentinelTechniques };

export const functionSearchName = (alias: string) => `shmhunt-function-${alias.toLowerCase()}`;

/**
 * A watchlist item's id: the v5 UUID of its content. An item is shmhunt's exactly when its id is the v5 UUID of
 * its own (alias, scenario, field, operator, value): items an analyst adds get random ids and are never pruned.
 */
export function exclusionItemId(
  alias: string,
  item: { readonly Scenario: string; readonly Field: string; readonly Operator: string; readonly Value: string },
): string {
  return uuidv5(`watchlistItem/${alias.toLowerCase()}/${item.Scenario}/${item.Field}/${item.Operator}/${item.Value}`);
}

export function isManagedWatchlistItem(alias: string, name: string, itemsKeyValue: unknown): boolean {
  if (itemsKeyValue === null || typeof itemsKeyValue !== "object") return false;
  const v = itemsKeyValue as Record<string, unknown>;
  const s = (key: string) => (typeof v[key] === "string" ? (v[key] as string) : "");
  const id = exclusionItemId(alias, {
    Scenario: s("Scenario"),
    Field: s("Field"),
    Operator: s("Operator"),
    Value: s("Value"),
  });
  return id.toLowerCase() === name.toLowerCase();
}

/** The content of a rule set: all resources, in plan order (the planner sorts again). */
export function buildDesiredContent(rules: readonly LoadedRule[], options: DesiredOptions): DesiredResource[] {
  const out: DesiredResource[] = [];
  const withMetadata = (resource: DesiredResource) => {
    out.push(resource);
    const metadataKind = metadataKindOf[resource.kind];
    if (metadataKind) out.push(metadataFor(options.workspace, resource, metadataKind));
  };

  for (const fn of workspaceFunctionFiles(options.functionsDir)) withMetadata(workspaceFunction(fn.alias, fn.body));

  for (const watchlist of exclusionWatchlists(rules).values()) {
    withMetadata(watchlist.resource);
    for (const item of watchlist.items) out.push(item);
  }

  for (const rule of [...rules].sort((a, b) => a.id.localeCompare(b.id))) {
    for (const target of rule.settings.targets) {
      const t = options.translate(rule, target);
      if (t.kql === undefined) {
        throw new Error(
          `rule ${rule.id} (${rule.file}) does not translate for ${target}: ${t.refused?.message ?? "no query"}`,
        );
      }
      if (rule.settings.deploy.includes("hunting_query")) withMetadata(huntingQuery(rule, target, t.kql));
      if (rule.settings.deploy.includes("analytics_rule")) withMetadata(analyticsRule(rule, target, t));
    }
  }
  return out;
}

function huntingQuery(rule: LoadedRule, target: Target, query: string): DesiredResource {
  // The hunting query's tag keeps sub-techniques (`T1059,T1059.004`); the analytics rule cannot (see above).
  const techniques = [
    ...new Set(rule.threat.flatMap((th) => th.techniques.flatMap((x) => [x.id, ...x.subtechniques.map((s) => s.id)]))),
  ];
  return {
    kind: "savedSearch",
    name: contentIds.huntingQuery(rule.id, target),
    properties: {
      category: "Hunting Queries",
      displayName: ruleDisplayName(rule, target),
      query,
      version: 2,
      tags: [
        { name: "description", value: rule.description },
        { name: "tactics", value: sentinelTactics(rule).join(",") },
        { name: "techniques", value: techniques.join(",") },
        { name: managedBy.name, value: managedBy.value },
      ],
    },
  };
}

const GROUPABLE: readonly EntityType[] = ["Host", "Account", "File", "FileHash", "Process", "IP"];

/** Entity mappings from the translator's `Entity_<Type>_<Identifier>` columns (at most 10 entities, 3 fields each). */
function entityMappings(rule: LoadedRule, t: TranslationLike): { mappings: Json[]; extend: string[] } {
  const byType = new Map<string, { identifier: string; columnName: string }[]>();
  for (const e of t.entityColumns) {
    const list = byType.get(e.type) ?? [];
    list.push({ identifier: e.identifier, columnName: e.column });
    byType.set(e.type, list);
  }
  // FileHash needs its Algorithm as a column too: the rule names it, the query gains a constant column.
  const extend: string[] = [];
  const hash = rule.settings.entities.find((e) => e.type === "FileHash");
  const hashFields = byType.get("FileHash");
  if (hash?.algorithm && hashFields && !hashFields.some((f) => f.identifier === "Algorithm")) {
    extend.push(`| extend Entity_FileHash_Algorithm = "${hash.algorithm}"`);
    hashFields.unshift({ identifier: "Algorithm", columnName: "Entity_FileHash_Algorithm" });
  }
  const mappings = [...byType]
    .slice(0, 10)
    .map(([entityType, fieldMappings]) => ({ entityType, fieldMappings: fieldMappings.slice(0, 3) }));
  return { mappings, extend };
}

function analyticsRule(rule: LoadedRule, target: Target, t: TranslationLike): DesiredResource {
  const analytics = rule.settings.analytics;
  const { mappings, extend } = entityMappings(rule, t);
  const mapped = new Set(mappings.map((m) => (m as { entityType: string }).entityType));
  const groupBy = analytics.groupBy.filter((g) => GROUPABLE.includes(g) && mapped.has(g));
  const grouping = groupBy.length > 0;
  return {
    kind: "alertRule",
    name: contentIds.alertRule(rule.id, target),
    properties: {
      kind: "Scheduled",
      displayName: ruleDisplayName(rule, target),
      description: rule.description,
      severity: sentinelSeverity(rule.severity),
      enabled: true,
      query: [t.kql ?? "", ...extend].join("\n"),
      queryFrequency: isoDuration(rule.intervalMs),
      queryPeriod: isoDuration(Math.max(rule.lookbackMs, rule.intervalMs)),
      triggerOperator: "GreaterThan",
      triggerThreshold: 0,
      // Suppression: the service requires a duration even when off (5 min to 24 h).
      suppressionDuration: isoDuration(Math.min(Math.max(analytics.suppressionMs || 3_600_000, 300_000), 86_400_000)),
      suppressionEnabled: analytics.suppressionMs > 0,
      tactics: sentinelTactics(rule),
      techniques: sentinelTechniques(rule),
      // One alert per result row; Sentinel has no per-run alert cap: max_signals is enforced by the hunt service.
      eventGroupingSettings: { aggregationKind: "AlertPerResult" },
      entityMappings: mappings,
      incidentConfiguration: {
        createIncident: true,
        groupingConfiguration: {
          enabled: grouping,
          reopenClosedIncident: false,
          lookbackDuration: isoDuration(Math.min(Math.max(analytics.groupingWindowMs, 300_000), 7 * 86_400_000)),
          matchingMethod: grouping ? "Selected" : "AllEntities",
          groupByEntities: groupBy,
          groupByAlertDetails: [],
          groupByCustomDetails: [],
        },
      },
    },
  };
}

interface WatchlistContent {
  readonly resource: DesiredResource;
  readonly items: DesiredResource[];
}

/** One watchlist per alias (rules may share one; their items are merged, each value once). */
function exclusionWatchlists(rules: readonly LoadedRule[]): Map<string, WatchlistContent> {
  const out = new Map<string, WatchlistContent>();
  for (const rule of [...rules].sort((a, b) => a.id.localeCompare(b.id))) {
    const exclusions = rule.settings.exclusions;
    if (!exclusions) continue;
    const alias = exclusions.watchlist;
    let content = out.get(alias.toLowerCase());
    if (!content) {
      content = {
        resource: {
          kind: "watchlist",
          name: alias,
          properties: {
            displayName: alias,
            watchlistAlias: alias,
            description: exclusions.description,
            provider: "shmhunt",
            source: "shmhunt rule exclusions",
            itemsSearchKey: EXCLUSION_SEARCH_KEY,
            labels: ["shmhunt"],
          },
        },
        items: [],
      };
      out.set(alias.toLowerCase(), content);
    }
    for (const item of exclusions.items) {
      for (const value of item.values) {
        const row = {
          Scenario: item.scenario,
          Field: item.field,
          Operator: item.operator,
          Value: value,
          Comment: item.comment ?? "",
        };
        const name = exclusionItemId(alias, row);
        if (content.items.some((i) => i.name === name)) continue;
        content.items.push({
          kind: "watchlistItem",
          name,
          parent: content.resource.name,
          properties: { itemsKeyValue: row },
        });
      }
    }
  }
  return out;
}

function workspaceFunctionFiles(dir: string | undefined): { alias: string; body: string }[] {
  if (!dir) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".kql"))
    .sort()
    .map((f) => ({ alias: f.slice(0, -".kql".length), body: readFileSync(path.join(dir, f), "utf8") }));
}

function workspaceFunction(alias: string, body: string): DesiredResource {
  return {
    kind: "workspaceFunction",
    name: functionSearchName(alias),
    properties: {
      category: FUNCTION_CATEGORY,
      displayName: `${alias}: shmhunt parser function`,
      functionAlias: alias,
      query: body,
      version: 2,
      tags: [{ name: managedBy.name, value: managedBy.value }],
    },
  };
}

function metadataFor(workspace: WorkspaceRef, resource: DesiredResource, metadataKind: string): DesiredResource {
  return {
    kind: "metadata",
    name: contentIds.metadata(metadataKind, resource.name),
    owner: { kind: resource.kind, name: resource.name },
    properties: {
      parentId: contentResourceId(workspace, resource.kind, resource.name),
      contentId: resource.name,
      kind: metadataKind,
      version: "1.0.0",
      source: { ...metadataSource },
      author: { name: "shmhunt" },
      support: { tier: "Community" },
    },
  };
}

/**
 * How a desired resource is written as an ARM resource body: alert rules carry their `kind` beside
 * `properties`; every other kind is `properties` only.
 */
export function armBody(resource: DesiredResource): { kind?: string; properties: { readonly [key: string]: Json } } {
  if (resource.kind === "alertRule") {
    const { kind, ...properties } = resource.properties;
    return { kind: String(kind), properties };
  }
  return { properties: resource.properties };
}
