/**
 * What Microsoft Sentinel would refuse, checked before any request (`shmhunt validate`, `shmhunt deploy --plan` and
 * `--apply`), so an apply never stops halfway on a 400. Each finding names the rule file, the line and the key.
 *
 * The limits, each from Microsoft's documentation (the OpenAPI specs state none of them: no maxLength, maxItems or
 * duration bounds on these properties):
 * - query 1 to 10,000 characters, no `search *` / `union *` (learn.microsoft.com/azure/sentinel/
 *   scheduled-rules-overview, "Set rule logic": "The query length should be between 1 and 10,000 characters and
 *   can't contain `search *` or `union *`"); the translated query of each target is measured;
 * - `queryFrequency` and `queryPeriod` 5 minutes to 14 days, the period at least the frequency (same page, "Query
 *   scheduling");
 * - a `queryPeriod` of 2 days or more runs at most hourly (`queryFrequency` at least 1 hour): Microsoft's Scheduled
 *   rule model, github.com/Azure/Azure-Sentinel .script/tests/detectionTemplateSchemaValidation/Models/
 *   ScheduledTemplateInternalModel.cs, `[FrequencyLimitationForLongPeriodQuery]`: "Invalid Properties for Scheduled
 *   alert rule: When 'queryPeriod' greater than or equal to 2 days, the 'queryFrequency' should be greater than or
 *   equal to 1 hour.";
 * - suppression 5 minutes to 24 hours (same page, "Alert threshold / suppression");
 * - incident grouping lookback 5 minutes to 7 days (learn.microsoft.com/azure/sentinel/create-analytics-rules,
 *   "Alert grouping": "Limit the group to alerts created within the selected time frame");
 * - at most 150 alerts per run when one alert is raised per result (scheduled-rules-overview, "Event grouping":
 *   with "Trigger an alert for each event", results past 150 go into one summary alert), so `max_signals` above
 *   150 cannot be honoured by the analytics rule;
 * - at most 10 entity mappings, each of at most 3 identifiers (learn.microsoft.com/azure/sentinel/
 *   map-data-fields-to-entities: "You can define up to three identifiers for a given entity"; ten mappings per
 *   rule, "Notes on the new version").
 * - entities mapped with one of the strong identifier sets of Microsoft's entity reference wherever the target's data
 *   holds one (learn.microsoft.com/azure/sentinel/entities-reference; src/rules/entity-strength.ts): a Host mapped by
 *   HostName alone, an Account by Name alone, is refused when the target maps the domain beside it. This holds for
 *   every rule, hunting query or analytics rule: the hunt's incidents carry the same entities.
 * - each entity of an analytics rule mapped with one of the identifier sets Sentinel requires of its type (a Host by
 *   HostName, FullName, NetBiosName, AzureID or OMSAgentID, not DnsDomain alone), as Microsoft's analytics-rule
 *   validation in the Azure-Sentinel repository requires (src/rules/entity-strength.ts `REQUIRED_IDENTIFIERS`).
 * - the analytics rule's displayName at most 256 characters and its description at most 5,000: Microsoft's
 *   analytics-rule model, github.com/Azure/Azure-Sentinel .script/tests/detectionTemplateSchemaValidation/Models/
 *   AnalyticsTemplateInternalModelBase.cs (`[StringLength(256)]` on `name`, `[StringLength(5000)]` on `description`);
 *   the deployed name (rule name and target, src/rules/display-name.ts) is measured per target.
 * Tactic/technique pairs are checked where the rule is loaded (src/rules/mitre.ts, RULE205).
 */
import { readFileSync } from "node:fs";
import { Codes, type Diagnostic } from "../diagnostics/index.js";
import {
  hasRequiredIdentifiers,
  isStrongIdentifierSet,
  REQUIRED_IDENTIFIERS,
  strongCompletions,
} from "../rules/entity-strength.js";
import { parseTomlDocument, type TomlPath } from "../rules/toml-document.js";
import type { EntityMapping, EntityType, LoadedRule, Target } from "../rules/types.js";
import { placeholderWorkspace } from "./content-types.js";
import { buildDesiredContent, type TranslationLike } from "./desired.js";
import type { Json } from "./plan.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The service's bounds, one definition (the emulator's hand-written checks state the same, from the same pages). */
const SENTINEL_LIMITS = {
  queryLength: { min: 1, max: 10_000 },
  queryFrequencyMs: { min: 5 * MINUTE, max: 14 * DAY },
  queryPeriodMs: { min: 5 * MINUTE, max: 14 * DAY },
  /** From this queryPeriod on, queryFrequency must be at least `minFrequencyMs`. */
  longPeriod: { fromPeriodMs: 2 * DAY, minFrequencyMs: HOUR },
  suppressionMs: { min: 5 * MINUTE, max: 24 * HOUR },
  groupingLookbackMs: { min: 5 * MINUTE, max: 7 * DAY },
  displayNameLength: 256,
  descriptionLength: 5000,
  alertsPerRun: 150,
  entityMappings: 10,
  identifiersPerEntity: 3,
} as const;

const SEARCH_OR_UNION_STAR = /\b(search|union)\b(\s+\w+\s*=\s*\w+)*\s+\*/i;

const human = (ms: number) =>
  ms % DAY === 0 && ms > DAY
    ? `${ms / DAY}d`
    : ms % HOUR === 0
      ? `${ms / HOUR}h`
      : ms % MINUTE === 0
        ? `${ms / MINUTE}m`
        : `${ms / 1000}s`;

/**
 * The service limits of a rule's analytics rules, one per target it deploys. `translate` is the translator
 * (src/kql); a target that does not translate is left to the translation check.
 */
export function serviceLimitsCheck(
  rule: LoadedRule,
  translate: (rule: LoadedRule, target: Target) => TranslationLike,
): Diagnostic[] {
  let locate: (path: TomlPath) => Diagnostic["span"] = () => undefined;
  try {
    const parsed = parseTomlDocument(rule.file, readFileSync(rule.file, "utf8"));
    if (parsed.document) {
      const doc = parsed.document;
      locate = (path) => doc.locate(path).key;
    }
  } catch {
    // The file is gone or unreadable: the findings still name the file and key.
  }
  const out: Diagnostic[] = [];
  const push = (
    path: TomlPath,
    message: string,
    hint = "Microsoft Sentinel refuses this analytics rule (see src/sentinel/service-limits.ts for the documented limit)",
  ) => {
    const span = locate(path);
    out.push({
      code: Codes.RuleServiceLimit,
      severity: "error",
      message,
      file: rule.file,
      ...(span ? { span } : {}),
      field: path.join("."),
      hint,
    });
  };

  for (const target of rule.settings.targets) {
    for (const weak of weakEntities(rule, target, translate)) {
      push(
        ["shmhunt", "entities", weak.type],
        `the ${weak.type} entity maps only ${weak.mapped.join(" + ")} on ${target}, which Microsoft's entity reference calls weak; the ${target} data has ${weak.completions.map((c) => `${c.identifier} (${c.field})`).join(", ")}, which makes it strong: add ${weak.completions.map((c) => `${c.identifier} = "${c.field}"`).join(", ")} to [shmhunt.entities] ${weak.type}`,
        "Sentinel merges and correlates entities by their strong identifiers (learn.microsoft.com/azure/sentinel/entities-reference)",
      );
    }
  }
  if (!rule.settings.deploy.includes("analytics_rule")) return out;

  const range = (path: TomlPath, what: string, ms: number, bound: { min: number; max: number }) => {
    if (ms < bound.min || ms > bound.max) {
      push(path, `${what} is ${human(ms)}; Sentinel takes ${human(bound.min)} to ${human(bound.max)}`);
    }
  };

  range(
    ["rule", "interval"],
    "the analytics rule's queryFrequency (rule.interval)",
    rule.intervalMs,
    SENTINEL_LIMITS.queryFrequencyMs,
  );
  range(
    ["rule", "from"],
    "the analytics rule's queryPeriod (rule.from)",
    rule.lookbackMs,
    SENTINEL_LIMITS.queryPeriodMs,
  );
  if (rule.lookbackMs < rule.intervalMs) {
    push(
      ["rule", "from"],
      `the lookback (${human(rule.lookbackMs)}) is shorter than the interval (${human(rule.intervalMs)}): Sentinel needs queryPeriod ≥ queryFrequency, and rows between runs would be missed`,
    );
  }
  const { fromPeriodMs, minFrequencyMs } = SENTINEL_LIMITS.longPeriod;
  if (rule.lookbackMs >= fromPeriodMs && rule.intervalMs < minFrequencyMs) {
    push(
      ["rule", "interval"],
      `the lookback is ${human(rule.lookbackMs)} and the interval ${human(rule.intervalMs)}: with a queryPeriod of ${human(fromPeriodMs)} or more, Sentinel needs a queryFrequency of at least ${human(minFrequencyMs)}`,
    );
  }
  const analytics = rule.settings.analytics;
  if (analytics.suppressionMs > 0) {
    range(
      ["shmhunt", "analytics", "suppression"],
      "the suppression",
      analytics.suppressionMs,
      SENTINEL_LIMITS.suppressionMs,
    );
  }
  range(
    ["shmhunt", "analytics", "grouping_window"],
    "the incident grouping window",
    analytics.groupingWindowMs,
    SENTINEL_LIMITS.groupingLookbackMs,
  );
  if (rule.maxSignals > SENTINEL_LIMITS.alertsPerRun) {
    push(
      ["rule", "max_signals"],
      `max_signals is ${rule.maxSignals}; a Sentinel rule that raises one alert per result raises at most ${SENTINEL_LIMITS.alertsPerRun} per run`,
    );
  }

  for (const target of rule.settings.targets) {
    const t = translate(rule, target);
    if (t.kql === undefined) continue;
    const [resource] = buildDesiredContent([rule], {
      workspace: placeholderWorkspace,
      translate: () => t,
      targetsOf: () => [target],
    }).filter((r) => r.kind === "alertRule");
    if (!resource) continue;
    const displayName = String(resource.properties.displayName ?? "");
    if (displayName.length > SENTINEL_LIMITS.displayNameLength) {
      push(
        ["rule", "name"],
        `the ${target} analytics rule's name is ${displayName.length} characters; Sentinel takes at most ${SENTINEL_LIMITS.displayNameLength} ("${displayName.slice(0, 40)}…")`,
      );
    }
    const description = String(resource.properties.description ?? "");
    if (description.length > SENTINEL_LIMITS.descriptionLength && !out.some((d) => d.field === "rule.description")) {
      push(
        ["rule", "description"],
        `the description is ${description.length} characters; Sentinel takes at most ${SENTINEL_LIMITS.descriptionLength}`,
      );
    }
    const query = String(resource.properties.query ?? "");
    const { min, max } = SENTINEL_LIMITS.queryLength;
    if (query.length < min || query.length > max) {
      push(["rule", "query"], `the ${target} query is ${query.length} characters; Sentinel takes ${min} to ${max}`);
    }
    const star = SEARCH_OR_UNION_STAR.exec(query);
    if (star)
      push(["rule", "query"], `the ${target} query contains '${star[1]?.toLowerCase()} *', which Sentinel refuses`);
    const mappings = (resource.properties.entityMappings ?? []) as readonly { [key: string]: Json }[];
    if (mappings.length > SENTINEL_LIMITS.entityMappings) {
      push(
        ["rule", "query"],
        `the ${target} query maps ${mappings.length} entities; Sentinel takes at most ${SENTINEL_LIMITS.entityMappings}`,
      );
    }
    for (const m of mappings) {
      const type = m.entityType as EntityType;
      const identifiers = ((m.fieldMappings ?? []) as readonly { [key: string]: Json }[]).map((f) =>
        String(f.identifier),
      );
      if (REQUIRED_IDENTIFIERS[type] && !hasRequiredIdentifiers(type, identifiers)) {
        push(
          ["shmhunt", "entities", type],
          `the ${target} query maps ${type} by ${identifiers.join(" + ")} only; Sentinel requires one of ${REQUIRED_IDENTIFIERS[type].map((set) => set.join(" + ")).join(", ")}`,
        );
      }
      const fields = (m.fieldMappings ?? []) as readonly Json[];
      if (fields.length > SENTINEL_LIMITS.identifiersPerEntity) {
        push(
          ["rule", "query"],
          `the ${target} query maps ${fields.length} identifiers of ${String(m.entityType)}; Sentinel takes at most ${SENTINEL_LIMITS.identifiersPerEntity} per entity`,
        );
      }
    }
  }
  return out;
}

/**
 * The rule's entities that map only weak identifiers on a target whose data has the identifiers that make them strong:
 * the completions (src/rules/entity-strength.ts) the target's query computes when the rule declares them.
 */
function weakEntities(
  rule: LoadedRule,
  target: Target,
  translate: (rule: LoadedRule, target: Target) => TranslationLike,
): { type: string; mapped: string[]; completions: { identifier: string; field: string }[] }[] {
  const t = translate(rule, target);
  if (t.kql === undefined) return [];
  const out: { type: string; mapped: string[]; completions: { identifier: string; field: string }[] }[] = [];
  for (const entity of rule.settings.entities) {
    const mapped = t.entityColumns.filter((c) => c.type === entity.type).map((c) => c.identifier);
    if (mapped.length === 0 || isStrongIdentifierSet(entity.type, mapped)) continue;
    const candidates = strongCompletions(entity.type, entity.identifiers);
    if (candidates.length === 0) continue;
    const completed: EntityMapping = { ...entity, identifiers: [...entity.identifiers, ...candidates] };
    const trial = translate(
      {
        ...rule,
        settings: {
          ...rule.settings,
          entities: rule.settings.entities.map((e) => (e === entity ? completed : e)),
        },
      },
      target,
    );
    const now = trial.entityColumns.filter((c) => c.type === entity.type).map((c) => c.identifier);
    if (!isStrongIdentifierSet(entity.type, now)) continue;
    out.push({ type: entity.type, mapped, completions: candidates.filter((c) => now.includes(c.identifier)) });
  }
  return out;
}
