/**
 * What Sentinel checks on a Scheduled analytics rule (2022-09-01-preview): required properties, enums, ISO 8601
 * durations within the service's bounds, MITRE techniques in the `T####` form that fit the rule's tactics, and the
 * query, checked against the workspace's tables. Each failure is the 400 the service sends (arm.errors.json).
 */
import { readFileSync } from "node:fs";
import { TACTICS, TECHNIQUES } from "../../../src/rules/mitre-data.js";
import { parseDuration } from "../iso8601.js";
import type { QueryEngine, QueryProblem } from "../query-engine.js";
import type { WorkspaceState } from "../state.js";
import {
  checkBoolean,
  checkEnum,
  checkString,
  checkStringArray,
  Enums,
  invalid,
  propertiesOf,
  requireProps,
} from "./validation.js";
import { badRequest, fail, isRecord } from "./wire.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Sentinel's tactic name for an ATT&CK tactic id: the ATT&CK name in PascalCase, each word capitalised
 * ("Command and Control" → `CommandAndControl`, as AlertTypes.json's AttackTactic enum spells it).
 */
const TACTIC_NAME_BY_ID: ReadonlyMap<string, string> = new Map(
  Object.entries(TACTICS).map(([id, name]) => [
    id,
    name
      .split(/[^A-Za-z]+/)
      .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
      .join(""),
  ]),
);

const REQUIRED = [
  "displayName",
  "enabled",
  "query",
  "queryFrequency",
  "queryPeriod",
  "severity",
  "suppressionDuration",
  "suppressionEnabled",
  "triggerOperator",
  "triggerThreshold",
] as const;

export function validateScheduledRule(
  body: unknown,
  workspace: WorkspaceState,
  engine: QueryEngine,
): Record<string, unknown> {
  const properties = propertiesOf(body);
  requireProps(properties, REQUIRED);
  checkString(properties, "displayName", { nonEmpty: true });
  checkString(properties, "description");
  checkString(properties, "query", { nonEmpty: true });
  checkBoolean(properties, "enabled");
  checkBoolean(properties, "suppressionEnabled");
  checkEnum(properties, "severity", Enums.severity);
  checkEnum(properties, "triggerOperator", Enums.triggerOperator);
  const threshold = properties.triggerThreshold;
  if (typeof threshold !== "number" || !Number.isInteger(threshold) || threshold < 0 || threshold > 10_000) {
    invalid("Property 'triggerThreshold' must be an integer between 0 and 10000.");
  }
  const frequency = duration(properties, "queryFrequency", 5 * MINUTE, 14 * DAY);
  const period = duration(properties, "queryPeriod", 5 * MINUTE, 14 * DAY);
  duration(properties, "suppressionDuration", 5 * MINUTE, DAY);
  if (frequency !== undefined && period !== undefined && period < frequency) {
    invalid("The query period (lookback) must be greater than or equal to the query frequency.");
  }
  // Sentinel's ARM model validation (Azure-Sentinel .script/tests/detectionTemplateSchemaValidation/ModelValidation,
  // `FrequencyLimitationForLongPeriodQuery`, namespace ...AnalyticsManagement.Contracts.Model.ARM.ModelValidation).
  if (frequency !== undefined && period !== undefined && period >= 2 * DAY && frequency < HOUR) {
    invalid(
      "Invalid Properties for Scheduled alert rule: When 'queryPeriod' greater than or equal to 2 days, the 'queryFrequency' should be greater than or equal to 1 hour.",
    );
  }
  checkMitre(properties);
  checkEventGrouping(properties.eventGroupingSettings);
  checkEntityMappings(properties.entityMappings);
  checkIncidentConfiguration(properties.incidentConfiguration, properties);
  checkAlertDetailsOverride(properties.alertDetailsOverride);
  checkCustomDetails(properties.customDetails);
  checkQuery(String(properties.query), workspace, engine);
  return properties;
}

function duration(properties: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const value = properties[name];
  if (value === undefined || value === null) return undefined;
  const ms = typeof value === "string" ? parseDuration(value) : undefined;
  if (ms === undefined) invalid(`Property '${name}' value '${String(value)}' is not a valid ISO 8601 duration.`);
  if (ms < min || ms > max) {
    invalid(`Property '${name}' value '${String(value)}' must be between ${iso(min)} and ${iso(max)}.`);
  }
  return ms;
}

function iso(ms: number): string {
  if (ms % DAY === 0) return `P${ms / DAY}D`;
  if (ms % HOUR === 0) return `PT${ms / HOUR}H`;
  return `PT${ms / MINUTE}M`;
}

function checkMitre(properties: Record<string, unknown>): void {
  const tactics = checkStringArray(properties, "tactics");
  for (const tactic of tactics) {
    if (!(Enums.tactics as readonly string[]).includes(tactic)) {
      invalid(`Error converting value '${tactic}' for 'tactics'. Allowed values: ${Enums.tactics.join(", ")}.`);
    }
  }
  const techniques = checkStringArray(properties, "techniques");
  for (const technique of techniques) {
    if (!/^T\d{4}$/.test(technique)) {
      fail(badRequest(`The technique '${technique}' is invalid. The expected format is 'T####'`));
    }
    const facts = TECHNIQUES.get(technique);
    if (!facts) continue; // not in the project's ATT&CK table: its fit cannot be checked here (see docs/emulator.md)
    const fits = facts.tactics.some((id) => tactics.includes(TACTIC_NAME_BY_ID.get(id) ?? ""));
    if (!fits) {
      fail(
        badRequest(
          `Invalid data model. No valid tactic corresponding to the technique ${technique} was provided in the tactics field.`,
        ),
      );
    }
  }
}

function checkEventGrouping(value: unknown): void {
  if (value === undefined || value === null) return;
  if (!isRecord(value)) invalid("Property 'eventGroupingSettings' must be an object.");
  checkEnum(value, "aggregationKind", Enums.aggregationKind, "eventGroupingSettings.aggregationKind");
}

/**
 * The identifiers of each entity type: learn.microsoft.com/azure/sentinel/entities-reference, "Entity types and
 * identifiers", transcribed once in test/specs/fixtures/entities-reference.json (`identifiers`; the spec's
 * `FieldMapping.identifier` is a free string). Compared without regard to case: Microsoft's own
 * CreateScheduledAlertRule.json example spells Account's FullName "Fullname".
 */
export const ENTITY_IDENTIFIERS: Readonly<Record<string, readonly string[]>> = (
  JSON.parse(readFileSync(new URL("../../specs/fixtures/entities-reference.json", import.meta.url), "utf8")) as {
    identifiers: Record<string, string[]>;
  }
).identifiers;

function checkEntityMappings(value: unknown): void {
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) invalid("Property 'entityMappings' must be an array.");
  // learn.microsoft.com/azure/sentinel/map-data-fields-to-entities: up to ten entity mappings per rule ("Notes on
  // the new version") and up to three identifiers per entity ("You can define up to three identifiers for a given
  // entity"); the OpenAPI spec sets no maxItems on either array
  if (value.length > 10) invalid("At most 10 entity mappings are allowed.");
  value.forEach((mapping, i) => {
    const where = `entityMappings[${i}]`;
    if (!isRecord(mapping)) invalid(`Property '${where}' must be an object.`);
    if (mapping.entityType === undefined) invalid(`Required property '${where}.entityType' not found in JSON.`);
    checkEnum(mapping, "entityType", Enums.entityType, `${where}.entityType`);
    const fields = mapping.fieldMappings;
    if (!Array.isArray(fields) || fields.length === 0)
      invalid(`Property '${where}.fieldMappings' must be a non-empty array.`);
    if (fields.length > 3) invalid(`At most 3 field mappings are allowed per entity (${where}).`);
    const known = ENTITY_IDENTIFIERS[String(mapping.entityType)] ?? [];
    fields.forEach((field, j) => {
      if (!isRecord(field) || typeof field.identifier !== "string" || typeof field.columnName !== "string") {
        invalid(`Property '${where}.fieldMappings[${j}]' needs string 'identifier' and 'columnName'.`);
      }
      const identifier = field.identifier;
      if (!known.some((k) => k.toLowerCase() === identifier.toLowerCase())) {
        invalid(
          `The identifier '${identifier}' is not an identifier of entity type ${String(mapping.entityType)} (${where}.fieldMappings[${j}]); it has ${known.join(", ")}.`,
        );
      }
    });
  });
}

/**
 * AlertRules.json (2025-12-01), `GroupingConfiguration`: "When method is Selected at least one of groupByEntities,
 * groupByAlertDetails, groupByCustomDetails must be provided and not empty"; groupByEntities: "Only entities
 * defined in the current alert rule may be used"; groupByCustomDetails: "Only keys defined in the current alert
 * rule may be used".
 */
function checkIncidentConfiguration(value: unknown, rule: Record<string, unknown>): void {
  if (value === undefined || value === null) return;
  if (!isRecord(value)) invalid("Property 'incidentConfiguration' must be an object.");
  requireProps(value, ["createIncident"]);
  checkBoolean(value, "createIncident");
  const grouping = value.groupingConfiguration;
  if (grouping === undefined || grouping === null) return;
  if (!isRecord(grouping)) invalid("Property 'incidentConfiguration.groupingConfiguration' must be an object.");
  requireProps(grouping, ["enabled", "reopenClosedIncident", "lookbackDuration", "matchingMethod"]);
  checkBoolean(grouping, "enabled");
  checkBoolean(grouping, "reopenClosedIncident");
  duration(grouping, "lookbackDuration", 5 * MINUTE, 7 * DAY);
  checkEnum(grouping, "matchingMethod", Enums.matchingMethod, "groupingConfiguration.matchingMethod");
  for (const entity of checkStringArray(grouping, "groupByEntities")) {
    if (!(Enums.entityType as readonly string[]).includes(entity))
      invalid(`Error converting value '${entity}' for 'groupByEntities'.`);
  }
  const alertDetails = checkStringArray(grouping, "groupByAlertDetails");
  for (const detail of alertDetails) {
    if (!(Enums.alertDetail as readonly string[]).includes(detail))
      invalid(`Error converting value '${detail}' for 'groupByAlertDetails'.`);
  }
  const entities = checkStringArray(grouping, "groupByEntities");
  const customDetails = checkStringArray(grouping, "groupByCustomDetails");
  if (grouping.matchingMethod === "Selected" && entities.length + alertDetails.length + customDetails.length === 0)
    invalid(
      "When method is Selected at least one of groupByEntities, groupByAlertDetails, groupByCustomDetails must be provided and not empty.",
    );
  const mapped = new Set(
    (Array.isArray(rule.entityMappings) ? rule.entityMappings : []).map((m) =>
      isRecord(m) ? m.entityType : undefined,
    ),
  );
  for (const entity of entities)
    if (!mapped.has(entity)) invalid(`groupByEntities: '${entity}' is not an entity defined in the alert rule.`);
  const keys = isRecord(rule.customDetails) ? Object.keys(rule.customDetails) : [];
  for (const detail of customDetails)
    if (!keys.includes(detail)) invalid(`groupByCustomDetails: '${detail}' is not a key defined in the alert rule.`);
}

/**
 * learn.microsoft.com/azure/sentinel/surface-custom-details-in-alerts, "Service limits": "You can define up to 20
 * custom details in a single analytics rule"; the spec sets no maxProperties on `customDetails`.
 */
function checkCustomDetails(value: unknown): void {
  if (value === undefined || value === null) return;
  if (!isRecord(value)) invalid("Property 'customDetails' must be an object.");
  const count = Object.keys(value).length;
  if (count > 20) invalid(`At most 20 custom details are allowed in an analytics rule (it has ${count}).`);
}

function checkAlertDetailsOverride(value: unknown): void {
  if (value === undefined || value === null) return;
  if (!isRecord(value)) invalid("Property 'alertDetailsOverride' must be an object.");
  for (const key of [
    "alertDisplayNameFormat",
    "alertDescriptionFormat",
    "alertTacticsColumnName",
    "alertSeverityColumnName",
  ]) {
    checkString(value, key);
  }
}

/**
 * Limits Microsoft documents for a scheduled rule's query (learn.microsoft.com/azure/sentinel/create-analytics-rules,
 * "Set rule logic": the query is 1 to 10,000 characters long and cannot contain `search *` or `union *`); the
 * OpenAPI spec states neither.
 */
export const QUERY_MAX_LENGTH = 10_000;
const SEARCH_OR_UNION_STAR = /\b(search|union)\b(\s+\w+\s*=\s*\w+)*\s+\*/i;

/** The rule's query must be valid KQL over this workspace's tables; the 400 mirrors the service's wording. */
function checkQuery(query: string, workspace: WorkspaceState, engine: QueryEngine): void {
  if (query.length < 1 || query.length > QUERY_MAX_LENGTH) {
    invalid(`The query must be between 1 and ${QUERY_MAX_LENGTH} characters long (it has ${query.length}).`);
  }
  const star = SEARCH_OR_UNION_STAR.exec(query);
  if (star) invalid(`The query cannot contain '${star[1]?.toLowerCase()} *'.`);
  const problem = engine.check(query, workspace)[0];
  if (!problem) return;
  fail(badRequest(queryErrorMessage(problem)));
}

export function queryErrorMessage(problem: QueryProblem): string {
  if (problem.kind === "unknownTable") {
    return `Failed to run the analytics rule query. One of the tables does not exist. (${problem.message})`;
  }
  const inner =
    problem.kind === "syntax"
      ? { code: "SyntaxError", message: "A recognition error occurred in the query." }
      : { code: "SemanticError", message: "A semantic error occurred." };
  const detail = {
    error: {
      message: "The request had some invalid properties",
      code: "BadArgumentError",
      innererror: { ...inner, innererror: { code: problem.code, message: problem.message } },
    },
  };
  const category = problem.kind === "syntax" ? "SyntaxError" : "FailedToResolveScalarExpression";
  return `${category}; Message: ${JSON.stringify(detail)}`;
}
