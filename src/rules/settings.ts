/**
 * shmhunt's own settings: the `[shmhunt]` table of a rule file. Its schema, its defaults, and the step that
 * turns the checked table into typed `ShmhuntSettings`. Every key is documented in docs/rules.md.
 */
import path from "node:path";
import { Codes } from "../diagnostics/index.js";
import { TARGETS } from "../targets/index.js";
import { durationCheck, parseDuration } from "./durations.js";
import {
  arrayOf,
  type Field,
  isTable,
  mapOf,
  matching,
  oneOfValues,
  opt,
  req,
  type SchemaIssue,
  type StringCheck,
  str,
  table,
} from "./schema.js";
import type { PathSegment } from "./toml-document.js";
import type {
  AnalyticsSettings,
  DeployKind,
  EntityMapping,
  EntityType,
  ExclusionItem,
  Exclusions,
  SampleGate,
  SampleGateMode,
  ShmhuntSettings,
  Target,
} from "./types.js";

/** The name of shmhunt's table in a rule file. */
export const SETTINGS_TABLE = "shmhunt";

/** ECS-style field names: dotted words (`process.executable`, `file.Ext.header_bytes`, `auditd.data.a0`). */
const ECS_FIELD = /^[A-Za-z_@][A-Za-z0-9_@]*(\.[A-Za-z0-9_@]+)*$/;
const ecsField = str(matching(ECS_FIELD, "an ECS field name such as process.name"));
const ecsFields = arrayOf(ecsField, true);

/**
 * Sentinel watchlist aliases: a letter, then letters, digits or underscores, ending in a letter or digit, 3 to 64
 * characters (learn.microsoft.com/azure/sentinel/watchlists, "Limitations of watchlists": "the watchlist name and
 * alias must each be between 3 and 64 characters. The first and last characters must be alphanumeric"). The alias
 * is also the watchlist's display name (src/sentinel/desired.ts).
 */
const WATCHLIST_ALIAS = /^[A-Za-z][A-Za-z0-9_]{1,62}[A-Za-z0-9]$/;

/** Sentinel's entity identifiers for the entity types shmhunt maps. */
export const ENTITY_IDENTIFIERS: Readonly<Record<EntityType, readonly string[]>> = {
  Host: [
    "HostName",
    "DnsDomain",
    "NTDomain",
    "FullName",
    "NetBiosName",
    "AzureID",
    "OMSAgentID",
    "OSFamily",
    "OSVersion",
  ],
  Account: [
    "Name",
    "FullName",
    "NTDomain",
    "DnsDomain",
    "UPNSuffix",
    "Sid",
    "AadTenantId",
    "AadUserId",
    "PUID",
    "DisplayName",
    "ObjectGuid",
  ],
  File: ["Name", "Directory"],
  FileHash: ["Value", "Algorithm"],
  Process: ["ProcessId", "CommandLine", "ElevationToken", "CreationTimeUtc"],
  IP: ["Address"],
};
const ENTITY_TYPES = Object.keys(ENTITY_IDENTIFIERS) as EntityType[];
const HASH_ALGORITHMS = ["MD5", "SHA1", "SHA256"] as const;

const entityTypeKey: StringCheck = (key) =>
  (ENTITY_TYPES as string[]).includes(key)
    ? undefined
    : {
        message: `unknown entity type '${key}' (expected one of ${ENTITY_TYPES.join(", ")})`,
        code: Codes.RuleUnknownKey,
      };

const exclusionItem = table({
  scenario: req(str(), "which benign scenario the item covers; a column of the watchlist"),
  field: req(ecsField, "the ECS field compared"),
  operator: opt(str(oneOfValues(["==", ":"])), '"==" case-sensitive equality; ":" (default) EQL ":" semantics'),
  values: req(arrayOf(str(), true), "any of these values excludes the hit"),
  comment: opt(str()),
});

/** A revision label: lower-case letters, digits and dashes, joined to the rule_id in the rule's deploy identity. */
const REVISION = /^[a-z0-9][a-z0-9-]{0,15}$/;

export const settingsFields: Record<string, Field> = {
  revision: opt(str(matching(REVISION, "a short label of lower-case letters, digits and dashes, such as upstream"))),
  targets: opt(arrayOf(str(oneOfValues(TARGETS)), true, true)),
  deploy: opt(arrayOf(str(oneOfValues(["hunting_query", "analytics_rule"])), true, true)),
  sample_gate: opt(
    table({
      mode: req(str(oneOfValues(["require", "annotate", "none"]))),
      yara: opt(arrayOf(str(matching(/\.(yar|yara)$/, "a .yar or .yara file name")))),
      path_fields: opt(ecsFields),
      hash_fields: opt(ecsFields),
      pending_timeout: opt(str(durationCheck)),
    }),
  ),
  exclusions: opt(
    table({
      watchlist: req(
        str(
          matching(
            WATCHLIST_ALIAS,
            "a watchlist alias of 3 to 64 characters (a letter, then letters, digits or _, ending in a letter or digit)",
          ),
        ),
      ),
      description: opt(str()),
      items: req(arrayOf(exclusionItem)),
    }),
  ),
  entities: opt(mapOf(mapOf(str()), entityTypeKey)),
  analytics: opt(
    table({
      group_by: opt(arrayOf(str(oneOfValues(ENTITY_TYPES)))),
      grouping_window: opt(str(durationCheck)),
      suppression: opt(str(durationCheck)),
    }),
  ),
};

const DEFAULT_PENDING_TIMEOUT_MS = 24 * 3_600_000;

/**
 * Entities every rule gets unless its `[shmhunt.entities]` says otherwise: a host and an account with the domain that
 * makes them strong identifiers (src/rules/entity-strength.ts) where the target's data has it.
 */
const DEFAULT_ENTITIES: readonly EntityMapping[] = [
  {
    type: "Host",
    identifiers: [
      { identifier: "HostName", field: "host.hostname" },
      { identifier: "DnsDomain", field: "host.domain" },
    ],
  },
  {
    type: "Account",
    identifiers: [
      { identifier: "Name", field: "user.name" },
      { identifier: "NTDomain", field: "user.domain" },
    ],
  },
  {
    type: "Process",
    identifiers: [
      { identifier: "ProcessId", field: "process.pid" },
      { identifier: "CommandLine", field: "process.command_line" },
    ],
  },
];

const DEFAULT_ANALYTICS: AnalyticsSettings = {
  groupBy: ["Host"],
  groupingWindowMs: 5 * 3_600_000,
  suppressionMs: 0,
};

/** The settings of a rule file with no `[shmhunt]` table. */
export function defaultSettings(): ShmhuntSettings {
  return {
    declared: false,
    targets: TARGETS,
    deploy: ["hunting_query"],
    sampleGate: {
      mode: "none",
      yara: [],
      pathFields: ["file.path", "process.executable"],
      hashFields: ["file.hash.sha256", "process.hash.sha256"],
      pendingTimeoutMs: DEFAULT_PENDING_TIMEOUT_MS,
    },
    exclusions: null,
    entities: DEFAULT_ENTITIES,
    analytics: DEFAULT_ANALYTICS,
  };
}

type Table = Record<string, unknown>;
const asTable = (v: unknown): Table => (isTable(v) ? v : {});
const asStrings = (v: unknown): string[] | undefined =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : undefined;
const asString = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/**
 * Builds typed settings from a `[shmhunt]` table that passed the schema check, and checks what the schema
 * cannot: entity identifiers per type, FileHash algorithms, and settings that contradict each other.
 * Issues are reported at their key path (under `shmhunt.`).
 */
export function buildSettings(
  raw: unknown,
  ruleFile: string,
): { settings: ShmhuntSettings; issues: (SchemaIssue & { severity: "error" | "warning" })[] } {
  const defaults = defaultSettings();
  if (raw === undefined) return { settings: defaults, issues: [] };
  const issues: (SchemaIssue & { severity: "error" | "warning" })[] = [];
  const at = (...p: PathSegment[]) => [SETTINGS_TABLE, ...p];
  const t = asTable(raw);

  const gateRaw = t.sample_gate === undefined ? undefined : asTable(t.sample_gate);
  const dir = path.dirname(ruleFile);
  const sampleGate: SampleGate = gateRaw
    ? {
        mode: (asString(gateRaw.mode) as SampleGateMode | undefined) ?? "none",
        yara: (asStrings(gateRaw.yara) ?? []).map((name) => ({ name, path: path.resolve(dir, name) })),
        pathFields: asStrings(gateRaw.path_fields) ?? defaults.sampleGate.pathFields,
        hashFields: asStrings(gateRaw.hash_fields) ?? defaults.sampleGate.hashFields,
        pendingTimeoutMs:
          parseDuration(asString(gateRaw.pending_timeout) ?? "") ?? defaults.sampleGate.pendingTimeoutMs,
      }
    : defaults.sampleGate;

  let exclusions: Exclusions | null = null;
  if (t.exclusions !== undefined) {
    const ex = asTable(t.exclusions);
    const items: ExclusionItem[] = (Array.isArray(ex.items) ? ex.items : []).map((item) => {
      const it = asTable(item);
      const comment = asString(it.comment);
      return {
        scenario: asString(it.scenario) ?? "",
        field: asString(it.field) ?? "",
        operator: asString(it.operator) === "==" ? "==" : ":",
        values: asStrings(it.values) ?? [],
        ...(comment !== undefined ? { comment } : {}),
      };
    });
    exclusions = { watchlist: asString(ex.watchlist) ?? "", description: asString(ex.description) ?? "", items };
  }

  let entities = defaults.entities;
  if (t.entities !== undefined) {
    const mapped = Object.entries(asTable(t.entities)).filter(([type]) => Object.hasOwn(ENTITY_IDENTIFIERS, type));
    entities = mapped.map(([type, identifiers]) => {
      const entityType = type as EntityType;
      const known = ENTITY_IDENTIFIERS[entityType];
      const mapping: { identifier: string; field: string }[] = [];
      let algorithm: EntityMapping["algorithm"];
      for (const [identifier, value] of Object.entries(asTable(identifiers))) {
        const field = asString(value) ?? "";
        if (!known.includes(identifier)) {
          issues.push({
            path: at("entities", type, identifier),
            code: Codes.RuleUnknownKey,
            message: `unknown ${type} identifier '${identifier}' (expected one of ${known.join(", ")})`,
            severity: "error",
          });
        } else if (entityType === "FileHash" && identifier === "Algorithm") {
          if ((HASH_ALGORITHMS as readonly string[]).includes(field)) algorithm = field as EntityMapping["algorithm"];
          else
            issues.push({
              path: at("entities", type, identifier),
              code: Codes.RuleBadValue,
              message: `must be one of ${HASH_ALGORITHMS.join(", ")}, not ${JSON.stringify(field)}`,
              severity: "error",
            });
        } else if (!ECS_FIELD.test(field)) {
          issues.push({
            path: at("entities", type, identifier),
            code: Codes.RuleBadValue,
            message: `must be an ECS field name such as host.name, not ${JSON.stringify(field)}`,
            severity: "error",
          });
        } else mapping.push({ identifier, field });
      }
      if (entityType === "FileHash") {
        const value = mapping.find((m) => m.identifier === "Value");
        const suffix = value?.field.split(".").pop()?.toUpperCase();
        algorithm ??= (HASH_ALGORITHMS as readonly string[]).includes(suffix ?? "")
          ? (suffix as EntityMapping["algorithm"])
          : undefined;
        if (!value || !algorithm) {
          issues.push({
            path: at("entities", type),
            code: Codes.RuleMissingField,
            message: !value
              ? "FileHash needs 'Value' (the ECS field holding the hash)"
              : "FileHash needs 'Algorithm' (MD5, SHA1 or SHA256) when its field's name does not end in one",
            severity: "error",
          });
        }
      }
      return algorithm
        ? { type: entityType, identifiers: mapping, algorithm }
        : { type: entityType, identifiers: mapping };
    });
  }

  const analyticsRaw = asTable(t.analytics);
  const analytics: AnalyticsSettings = {
    groupBy:
      (asStrings(analyticsRaw.group_by) as EntityType[] | undefined) ??
      DEFAULT_ANALYTICS.groupBy.filter((type) => entities.some((e) => e.type === type)),
    groupingWindowMs: parseDuration(asString(analyticsRaw.grouping_window) ?? "") ?? DEFAULT_ANALYTICS.groupingWindowMs,
    suppressionMs: parseDuration(asString(analyticsRaw.suppression) ?? "") ?? 0,
  };

  const revision = asString(t.revision);
  const settings: ShmhuntSettings = {
    declared: true,
    ...(revision !== undefined ? { revision } : {}),
    targets: (asStrings(t.targets) as Target[] | undefined) ?? defaults.targets,
    deploy: (asStrings(t.deploy) as DeployKind[] | undefined) ?? defaults.deploy,
    sampleGate,
    exclusions,
    entities,
    analytics,
  };

  // Contradictions the schema cannot see.
  if (sampleGate.mode === "require" && settings.deploy.includes("analytics_rule")) {
    issues.push({
      path: at("deploy"),
      code: Codes.RuleBadValue,
      message:
        'a Sentinel analytics rule alerts without the YARA gate, but sample_gate.mode is "require": deploy only "hunting_query" so shmhunt raises the gated alerts',
      severity: "warning",
    });
  }
  for (const group of analytics.groupBy) {
    if (!entities.some((e) => e.type === group)) {
      issues.push({
        path: at("analytics", "group_by"),
        code: Codes.RuleBadValue,
        message: `groups by ${group}, which the rule does not map (see [shmhunt.entities])`,
        severity: "error",
      });
    }
  }
  if (exclusions) {
    exclusions.items.forEach((item, i) => {
      if (item.operator === "==" && item.values.some((v) => /[*?]/.test(v))) {
        issues.push({
          path: at("exclusions", "items", i, "values"),
          code: Codes.RuleBadValue,
          message: 'has * or ? with operator "==", which compares literally; use ":" for wildcards',
          severity: "warning",
        });
      }
    });
  }
  return { settings, issues };
}
