/**
 * The keys of Elastic's detection-rules TOML format that shmhunt accepts, with their types. Learnt from the
 * whole Elastic Linux corpus (every key it uses) and from the detection-rules rule schema (keys other rule
 * types use). Keys whose inner structure shmhunt never reads are typed `any` so valid Elastic rules load.
 */
import { Codes } from "../diagnostics/index.js";
import { durationCheck, fromCheck } from "./durations.js";
import {
  any,
  arrayOf,
  bool,
  type Field,
  int,
  matching,
  oneOf,
  oneOfValues,
  opt,
  req,
  type Schema,
  type StringCheck,
  str,
  table,
} from "./schema.js";

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

const SEVERITIES = ["low", "medium", "high", "critical"] as const;
const RULE_TYPES = [
  "eql",
  "query",
  "saved_query",
  "esql",
  "threshold",
  "new_terms",
  "machine_learning",
  "threat_match",
] as const;
const LANGUAGES = ["eql", "kuery", "lucene", "esql"] as const;

const strings = arrayOf(str());

const attackRef = (idPattern: RegExp, expected: string): Schema =>
  table({
    id: req(str(matching(idPattern, expected, Codes.RuleThreatMismatch))),
    name: req(str()),
    reference: opt(str()),
  });

const subtechnique = attackRef(/^T\d{4}\.\d{3}$/, "a sub-technique id like T1059.004");
const techniqueId: StringCheck = (value) => {
  if (/^T\d{4}$/.test(value)) return undefined;
  const sub = /^T\d{4}\.\d{3}$/.test(value)
    ? ` (${value} is a sub-technique: list it under [[rule.threat.technique.subtechnique]] of ${value.slice(0, 5)})`
    : "";
  return {
    message: `must be a technique id like T1059, not ${JSON.stringify(value)}${sub}`,
    code: Codes.RuleThreatMismatch,
  };
};
const technique = table({
  id: req(str(techniqueId)),
  name: req(str()),
  reference: opt(str()),
  subtechnique: opt(arrayOf(subtechnique)),
});
const threat = table({
  framework: req(str(oneOfValues(["MITRE ATT&CK"]))),
  tactic: req(attackRef(/^TA\d{4}$/, "a tactic id like TA0002")),
  technique: opt(arrayOf(technique)),
});

const fieldValue = table({ field: req(str()), value: req(any) });

const ruleFields: Record<string, Field> = {
  // Identity and description
  rule_id: req(str(matching(UUID, "a UUID such as 3f3f9fe2-d095-11ec-95dc-f661ea17fbce", Codes.RuleBadUuid))),
  name: req(str()),
  description: req(str()),
  author: req(arrayOf(str(), true)),
  license: opt(str()),
  version: opt(int(1)),
  references: opt(strings),
  tags: opt(strings),
  false_positives: opt(strings),
  note: opt(str()),
  setup: opt(str()),
  // What and how it matches
  type: req(str(oneOfValues(RULE_TYPES))),
  language: opt(str(oneOfValues(LANGUAGES))),
  query: opt(str()),
  index: opt(strings),
  data_view_id: opt(str()),
  filters: opt(arrayOf(any)),
  event_category_override: opt(str()),
  tiebreaker_field: opt(str()),
  timestamp_field: opt(str()),
  timestamp_override: opt(str()),
  timestamp_override_fallback_disabled: opt(bool),
  new_terms: opt(
    table({
      field: req(str()),
      value: req(strings),
      history_window_start: req(arrayOf(fieldValue)),
    }),
  ),
  threshold: opt(
    table({
      field: req(oneOf(str(), strings)),
      value: req(int(1)),
      cardinality: opt(arrayOf(fieldValue)),
    }),
  ),
  machine_learning_job_id: opt(oneOf(str(), strings)),
  anomaly_threshold: opt(int(0, 100)),
  threat_index: opt(strings),
  threat_query: opt(str()),
  threat_language: opt(str()),
  threat_mapping: opt(arrayOf(any)),
  threat_filters: opt(arrayOf(any)),
  threat_indicator_path: opt(str()),
  concurrent_searches: opt(int(1)),
  items_per_search: opt(int(1)),
  alert_suppression: opt(any),
  // Scoring and schedule
  severity: req(str(oneOfValues(SEVERITIES))),
  risk_score: req(int(0, 100)),
  severity_mapping: opt(arrayOf(any)),
  risk_score_mapping: opt(arrayOf(any)),
  interval: opt(str(durationCheck)),
  from: opt(str(fromCheck)),
  to: opt(str(oneOfValues(["now"]))),
  max_signals: opt(int(1)),
  throttle: opt(str()),
  enabled: opt(bool),
  // Presentation and plumbing
  threat: opt(arrayOf(threat)),
  building_block_type: opt(str(oneOfValues(["default"]))),
  rule_name_override: opt(str()),
  timeline_id: opt(str()),
  timeline_title: opt(str()),
  investigation_fields: opt(any),
  related_integrations: opt(arrayOf(any)),
  required_fields: opt(arrayOf(any)),
  exceptions_list: opt(arrayOf(any)),
  actions: opt(arrayOf(any)),
  meta: opt(any),
  output_index: opt(str()),
  namespace: opt(str()),
};

const metadataFields: Record<string, Field> = {
  creation_date: req(str(matching(/^\d{4}\/\d{2}\/\d{2}$/, "a date as YYYY/MM/DD"))),
  updated_date: req(str(matching(/^\d{4}\/\d{2}\/\d{2}$/, "a date as YYYY/MM/DD"))),
  deprecation_date: opt(str(matching(/^\d{4}\/\d{2}\/\d{2}$/, "a date as YYYY/MM/DD"))),
  maturity: req(str(oneOfValues(["production", "development", "deprecated"]))),
  integration: opt(oneOf(str(), strings)),
  min_stack_version: opt(str()),
  min_stack_comments: opt(str()),
  comments: opt(str()),
  bypass_bbr_timing: opt(bool),
  query_schema_validation: opt(bool),
};

/** The top of a rule file, without shmhunt's own table (added by the loader from settings-schema.ts). */
export const elasticFileFields: Record<string, Field> = {
  metadata: req(table(metadataFields)),
  rule: req(table(ruleFields)),
  transform: opt(any),
};
