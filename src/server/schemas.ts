/**
 * JSON schemas of the HTTP API's answers (the OpenAPI document's components). The request schemas, shared with
 * the Functions app, live in src/app/requests.ts. Counters take their names from the reports that fill them.
 */
import { emptyBrokerReport } from "../broker/index.js";
import { emptyCounts } from "../hunt/run.js";

/** An object of integer counters with these names. */
const integers = (names: readonly string[]) => Object.fromEntries(names.map((k) => [k, { type: "integer" }]));

export const errorSchema = {
  type: "object",
  properties: {
    error: { type: "string" },
    message: { type: "string" },
    code: { type: "string" },
    diagnostics: { type: "array", items: { type: "object", additionalProperties: true } },
  },
  required: ["error", "message"],
} as const;

const anyObject = { type: "object", additionalProperties: true } as const;

export const verdictSchema = {
  type: "object",
  description: "A YARA-X verdict (src/yara Verdict)",
  additionalProperties: true,
  properties: {
    verdict: { type: "string", enum: ["match", "no-match", "error", "skipped"] },
    sha256: { type: ["string", "null"] },
    size: { type: "integer" },
    matches: { type: "array", items: anyObject },
  },
} as const;

/** A rule that matched, as stored (src/hunt/types.ts VerdictMatch). */
const storedMatchSchema = {
  type: "object",
  additionalProperties: true,
  properties: {
    rule: { type: "string" },
    file: {
      type: "string",
      description:
        "the .yar file that declares the rule (its name); absent when unknown, as in verdicts stored before it was recorded",
    },
    tags: { type: "array", items: { type: "string" } },
  },
} as const;

const storedVerdictSchema = {
  type: "object",
  additionalProperties: true,
  properties: {
    sha256: { type: "string" },
    size: { type: "integer" },
    matches: { type: "array", items: storedMatchSchema },
    scannedAt: { type: "string" },
  },
} as const;

const countsSchema = { type: "object", properties: integers(Object.keys(emptyCounts())) } as const;

const windowSchema = { type: "object", properties: { start: { type: "string" }, end: { type: "string" } } } as const;

const sweepSchema = {
  type: "object",
  properties: {
    examined: { type: "integer" },
    alerted: { type: "integer" },
    benign: { type: "integer" },
    unverified: { type: "integer" },
    stillPending: { type: "integer" },
    incidents: { type: "array", items: { type: "string" } },
  },
} as const;

export const rescanReportSchema = {
  type: "object",
  description: "A batch of the rescan of stored samples with the rules in use now (docs/service.md)",
  properties: {
    status: { type: "string", enum: ["up-to-date", "in-progress", "completed", "busy"] },
    ruleset: { type: "string" },
    pass: { type: "integer" },
    ...integers(["examined", "rescanned", "changed", "missing", "failed", "alerted", "noted", "benign"]),
    incidents: { type: "array", items: { type: "string" } },
    failures: {
      type: "array",
      items: { type: "object", properties: { sha256: { type: "string" }, reason: { type: "string" } } },
    },
  },
} as const;

export const huntReportSchema = {
  type: "object",
  properties: {
    startedAt: { type: "string" },
    runs: {
      type: "array",
      items: {
        type: "object",
        properties: {
          ruleId: { type: "string" },
          target: { type: "string" },
          status: { type: "string", enum: ["completed", "failed", "not-due", "busy", "deferred"] },
          window: windowSchema,
          gap: windowSchema,
          counts: countsSchema,
          incidents: { type: "array", items: { type: "string" } },
          error: { type: "string" },
          attempts: { type: "integer" },
        },
      },
    },
    sweep: sweepSchema,
    /** The sample broker's tick after the run (when SHMHUNT_SAMPLE_BROKER is on): samples by acquisition step. */
    broker: { type: "object", properties: integers(Object.keys(emptyBrokerReport())) },
    /** The rescan's batch after the run (when the YARA rules changed). */
    rescan: rescanReportSchema,
  },
} as const;

export const uploadSchema = {
  type: "object",
  properties: {
    sha256: { type: "string" },
    size: { type: "integer" },
    created: { type: "boolean" },
    verdict: verdictSchema,
    resolution: sweepSchema,
  },
} as const;

export const sampleReportSchema = {
  type: "object",
  properties: {
    sha256: { type: "string" },
    stored: { type: "boolean" },
    size: { type: "integer" },
    verdict: storedVerdictSchema,
  },
} as const;

export const incidentSchema = anyObject;
export const hitSchema = anyObject;
export { anyObject };
