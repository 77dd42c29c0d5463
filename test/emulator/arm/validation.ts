/**
 * Property checks shared by the Sentinel resources: required properties, enums, types. Each failure is a 400 with
 * the service's error shape; messages follow the service's ("Invalid data model. [...]").
 */
import { badRequest, fail, isRecord } from "./wire.js";

export function invalid(message: string): never {
  fail(badRequest(`Invalid data model. [${message}]`));
}

export function propertiesOf(body: unknown): Record<string, unknown> {
  if (!isRecord(body)) invalid("The request body must be a JSON object.");
  const properties = body.properties;
  if (properties === undefined) invalid("Required property 'properties' not found in JSON.");
  if (!isRecord(properties)) invalid("Property 'properties' must be an object.");
  return properties;
}

export function requireProps(properties: Record<string, unknown>, names: readonly string[]): void {
  for (const name of names) {
    if (properties[name] === undefined || properties[name] === null) {
      invalid(`Required property '${name}' not found in JSON.`);
    }
  }
}

export function checkString(
  properties: Record<string, unknown>,
  name: string,
  options: { nonEmpty?: boolean } = {},
): void {
  const value = properties[name];
  if (value === undefined || value === null) return;
  if (typeof value !== "string") invalid(`Property '${name}' must be a string.`);
  if (options.nonEmpty && value.trim() === "") invalid(`Property '${name}' must not be empty.`);
}

export function checkBoolean(properties: Record<string, unknown>, name: string): void {
  const value = properties[name];
  if (value !== undefined && value !== null && typeof value !== "boolean") {
    invalid(`Property '${name}' must be a boolean.`);
  }
}

export function checkEnum(
  properties: Record<string, unknown>,
  name: string,
  allowed: readonly string[],
  where = name,
): void {
  const value = properties[name];
  if (value === undefined || value === null) return;
  if (typeof value !== "string" || !allowed.includes(value)) {
    invalid(`Error converting value '${String(value)}' for '${where}'. Allowed values: ${allowed.join(", ")}.`);
  }
}

export function checkStringArray(properties: Record<string, unknown>, name: string): readonly string[] {
  const value = properties[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    invalid(`Property '${name}' must be an array of strings.`);
  }
  return value as string[];
}

export const Enums = {
  severity: ["High", "Medium", "Low", "Informational"],
  triggerOperator: ["GreaterThan", "LessThan", "Equal", "NotEqual"],
  tactics: [
    "Reconnaissance",
    "ResourceDevelopment",
    "InitialAccess",
    "Execution",
    "Persistence",
    "PrivilegeEscalation",
    "DefenseEvasion",
    "CredentialAccess",
    "Discovery",
    "LateralMovement",
    "Collection",
    "Exfiltration",
    "CommandAndControl",
    "Impact",
    "PreAttack",
    "ImpairProcessControl",
    "InhibitResponseFunction",
  ],
  aggregationKind: ["SingleAlert", "AlertPerResult"],
  entityType: [
    "Account",
    "Host",
    "IP",
    "Malware",
    "File",
    "Process",
    "CloudApplication",
    "DNS",
    "AzureResource",
    "FileHash",
    "RegistryKey",
    "RegistryValue",
    "SecurityGroup",
    "URL",
    "Mailbox",
    "MailCluster",
    "MailMessage",
    "SubmissionMail",
  ],
  matchingMethod: ["AllEntities", "AnyAlert", "Selected"],
  alertDetail: ["DisplayName", "Severity"],
  incidentStatus: ["New", "Active", "Closed"],
  incidentClassification: ["Undetermined", "TruePositive", "BenignPositive", "FalsePositive"],
  incidentClassificationReason: [
    "SuspiciousActivity",
    "SuspiciousButExpected",
    "IncorrectAlertLogic",
    "InaccurateData",
  ],
  ownerType: ["Unknown", "User", "Group"],
  metadataKind: [
    "DataConnector",
    "DataType",
    "Workbook",
    "WorkbookTemplate",
    "Playbook",
    "PlaybookTemplate",
    "AnalyticsRuleTemplate",
    "AnalyticsRule",
    "HuntingQuery",
    "InvestigationQuery",
    "Parser",
    "Watchlist",
    "WatchlistTemplate",
    "Solution",
    "AzureFunction",
    "LogicAppsCustomConnector",
    "AutomationRule",
  ],
  sourceKind: ["LocalWorkspace", "Community", "Solution", "SourceRepository"],
  supportTier: ["Microsoft", "Partner", "Community"],
} as const;
