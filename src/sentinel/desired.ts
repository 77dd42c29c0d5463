/**
 * The desired Sentinel content of a rule set: the one model of what shmhunt puts in a workspace, as resources
 * with their kind, deterministic name, parent and the SDK-model properties shmhunt owns (see plan.ts). Every
 * rendering starts from it: the SDK requests of `shmhunt deploy` (render-sdk.ts), the ARM templates and
 * hunting-query YAML of `npm run kql:generate` (render-arm.ts, render-yaml.ts) and infra/content/content.bicep
 * (render-bicep.ts); test/sentinel/renderings.test.ts checks that the four agree for every rule.
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
 * Durations are the rule's own, as ISO 8601 (a 1-minute suppression is `PT1M`): the model does not move a value
 * into a range the service accepts; refusing one outside it is the rule check's job.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { kqlTimespan } from "../kql/index.js";
import { ruleDisplayName } from "../rules/display-name.js";
import { EXCLUSION_SEARCH_KEY, type ExclusionRow, exclusionWatchlists } from "../rules/exclusions.js";
import type { EntityType, LoadedRule, Target } from "../rules/types.js";
import { REGISTRY } from "../targets/index.js";
import { contentResourceId, type WorkspaceRef } from "./content-types.js";
import { contentIds, uuidv5 } from "./ids.js";
import { keepsIngestionTime } from "./ingestion-time.js";
import { managedBy, metadataSource } from "./markers.js";
import type { DesiredResource, Json, ResourceKind } from "./plan.js";
import {
  isoDuration,
  sentinelSeverity,
  sentinelTactics,
  sentinelTechniques,
  techniquesWithSubtechniques,
} from "./vocabulary.js";

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
  /** The targets of a rule to build content for (default: all it declares). */
  readonly targetsOf?: (rule: LoadedRule) => readonly Target[];
}

/** Sentinel's metadata kinds for each content kind shmhunt deploys. */
const metadataKindOf: Partial<Record<ResourceKind, string>> = {
  savedSearch: "HuntingQuery",
  alertRule: "AnalyticsRule",
  watchlist: "Watchlist",
  workspaceFunction: "Parser",
};

/** Category of the workspace functions shmhunt deploys. */
const FUNCTION_CATEGORY = "shmhunt parsers";
const functionSearchName = (alias: string) => `shmhunt-function-${alias.toLowerCase()}`;

/**
 * A watchlist item's id: the v5 UUID of its content. An item is shmhunt's exactly when its id is the v5 UUID of
 * its own (alias, scenario, field, operator, value): items an analyst adds get random ids and are never pruned.
 */
export function exclusionItemId(
  alias: string,
  item: Pick<ExclusionRow, "Scenario" | "Field" | "Operator" | "Value">,
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

  for (const list of exclusionWatchlists(rules).values()) {
    withMetadata(watchlist(list.alias, list.description));
    for (const row of list.rows) out.push(watchlistItem(list.alias, row));
  }

  for (const rule of [...rules].sort((a, b) => a.id.localeCompare(b.id))) {
    for (const target of options.targetsOf?.(rule) ?? rule.settings.targets) {
      const t = options.translate(rule, target);
      if (t.kql === undefined) {
        throw new Error(
          `rule ${rule.id} (${rule.file}) does not translate for ${target}: ${t.refused?.message ?? "no query"}`,
        );
      }
      if (rule.settings.deploy.includes("hunting_query")) withMetadata(huntingQuery(rule, target, t));
      if (rule.settings.deploy.includes("analytics_rule")) withMetadata(analyticsRule(rule, target, t));
    }
  }
  return out;
}

function huntingQuery(rule: LoadedRule, target: Target, t: TranslationLike): DesiredResource {
  return {
    kind: "savedSearch",
    name: contentIds.huntingQuery(rule.id, target),
    properties: {
      category: "Hunting Queries",
      displayName: ruleDisplayName(rule, target),
      query: t.kql ?? "",
      version: 2,
      tags: [
        { name: "description", value: rule.description },
        { name: "tactics", value: sentinelTactics(rule).join(",") },
        // A saved search's tag keeps sub-techniques (`T1059,T1059.004`); the analytics rule cannot (vocabulary.ts).
        { name: "techniques", value: techniquesWithSubtechniques(rule).join(",") },
        { name: managedBy.name, value: managedBy.value },
      ],
    },
    hunting: {
      id: contentIds.huntingQueryYaml(rule.id, target),
      requiredDataConnectors: REGISTRY[target].dataConnectors.map((c) => ({
        connectorId: c.connectorId,
        dataTypes: [...c.dataTypes],
      })),
      entityMappings: entityMappings(t),
    },
  };
}

const GROUPABLE: readonly EntityType[] = ["Host", "Account", "File", "FileHash", "Process", "IP"];

/**
 * Entity mappings from the translator's `Entity_<Type>_<Identifier>` columns, in the order the query computes them.
 * Nothing is cut: Sentinel takes at most 10 entities of 3 identifiers each, and a rule over that is refused before
 * any request (service-limits.ts), not deployed with some of its entities silently dropped.
 */
function entityMappings(t: TranslationLike): Json[] {
  const byType = new Map<string, { identifier: string; columnName: string }[]>();
  for (const e of t.entityColumns) {
    const list = byType.get(e.type) ?? [];
    list.push({ identifier: e.identifier, columnName: e.column });
    byType.set(e.type, list);
  }
  return [...byType].map(([entityType, fieldMappings]) => ({ entityType, fieldMappings }));
}

/** The entity types a rule's alerts are grouped by: those of `group_by` its query maps. */
function groupByEntities(rule: LoadedRule, t: TranslationLike): EntityType[] {
  const mapped = new Set(t.entityColumns.map((e) => e.type));
  return rule.settings.analytics.groupBy.filter((g) => GROUPABLE.includes(g) && mapped.has(g));
}

function analyticsRule(rule: LoadedRule, target: Target, t: TranslationLike): DesiredResource {
  const analytics = rule.settings.analytics;
  const groupBy = groupByEntities(rule, t);
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
      query: analyticsRuleQuery(t.kql ?? "", rule.intervalMs),
      queryFrequency: isoDuration(rule.intervalMs),
      queryPeriod: isoDuration(Math.max(rule.lookbackMs, rule.intervalMs)),
      triggerOperator: "GreaterThan",
      triggerThreshold: 0,
      // The service requires a suppression duration even when suppression is off: 1 h then.
      suppressionDuration: isoDuration(analytics.suppressionMs || 3_600_000),
      suppressionEnabled: analytics.suppressionMs > 0,
      tactics: sentinelTactics(rule),
      techniques: sentinelTechniques(rule),
      // One alert per result row: Sentinel raises at most 150 per run, so a rule's max_signals above 150 is refused
      // (service-limits.ts); the hunt service enforces max_signals itself.
      eventGroupingSettings: { aggregationKind: "AlertPerResult" },
      entityMappings: entityMappings(t),
      incidentConfiguration: {
        createIncident: true,
        groupingConfiguration: {
          enabled: grouping,
          reopenClosedIncident: false,
          lookbackDuration: isoDuration(analytics.groupingWindowMs),
          matchingMethod: grouping ? "Selected" : "AllEntities",
          groupByEntities: groupBy,
          groupByAlertDetails: [],
          groupByCustomDetails: [],
        },
      },
    },
  };
}

/**
 * The analytics rule's query: the translation, then only rows that ARRIVED since the previous run.
 *
 * The rule looks back `queryPeriod` (the rule's lookback, 9 minutes) every `queryFrequency` (its interval, 5 minutes),
 * so the periods overlap and an event in the overlap would alert twice; Sentinel does not deduplicate alerts. Elastic
 * deduplicates by a deterministic alert id per event; Sentinel's documented way is the one used here
 * (learn.microsoft.com/azure/sentinel/ingestion-delay, "Handle ingestion delay in scheduled analytics rules": look
 * back the frequency plus the delay on TimeGenerated, and keep `ingestion_time() > ago(<frequency>)`): each row is
 * taken by the one run after it arrived, however late, as long as its event time is within the lookback. Only where
 * the query's rows keep their table's ingestion time (ingestion-time.ts); elsewhere the overlap can alert twice.
 */
export function analyticsRuleQuery(kql: string, intervalMs: number): string {
  // A query whose rows no longer carry their ingestion time (ASIM parsers, the auditd function) is left as it is.
  if (!keepsIngestionTime(kql)) return kql;
  return `${kql.trimEnd()}\n| where ingestion_time() > ago(${intervalTimespan(intervalMs)})`;
}

/** A KQL timespan literal of whole seconds: `5m`, `1h`, `90s`. */
function intervalTimespan(ms: number): string {
  const s = Math.round(ms / 1000);
  return s % 3600 === 0 ? kqlTimespan(s / 3600, "h") : s % 60 === 0 ? kqlTimespan(s / 60, "m") : kqlTimespan(s, "s");
}

function watchlist(alias: string, description: string): DesiredResource {
  return {
    kind: "watchlist",
    name: alias,
    properties: {
      displayName: alias,
      watchlistAlias: alias,
      description,
      provider: "shmhunt",
      source: "shmhunt rule exclusions",
      itemsSearchKey: EXCLUSION_SEARCH_KEY,
      labels: ["shmhunt"],
    },
  };
}

function watchlistItem(alias: string, row: ExclusionRow): DesiredResource {
  return {
    kind: "watchlistItem",
    name: exclusionItemId(alias, row),
    parent: alias,
    properties: { itemsKeyValue: { ...row } },
  };
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
