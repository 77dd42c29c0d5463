/**
 * What the rule loader hands to the rest of shmhunt (translator, deploy, hunt). A LoadedRule is plain,
 * immutable data: every default is already applied, every duration is in milliseconds, every path is
 * resolved. Consumers never read the TOML themselves.
 */
import type { Span } from "../diagnostics/index.js";
import type { Query } from "../eql/ast.js";
import type { Target } from "../targets/index.js";

export type Severity = "low" | "medium" | "high" | "critical";

/** Elastic rule types. Only `eql` rules are translated; the others load so tools can list and refuse them. */
export type RuleType =
  | "eql"
  | "query"
  | "saved_query"
  | "esql"
  | "threshold"
  | "new_terms"
  | "machine_learning"
  | "threat_match";

/** The query language; `none` for machine-learning rules, which have no query. */
export type RuleLanguage = "eql" | "kuery" | "lucene" | "esql" | "none";

/** A KQL target shmhunt translates to: one entry of the registry in src/targets. */
export type { Target };

export interface AttackRef {
  /** `TA0002`, `T1059`, `T1059.004`. */
  readonly id: string;
  readonly name: string;
}

export interface TechniqueRef extends AttackRef {
  readonly subtechniques: readonly AttackRef[];
}

/** One `[[rule.threat]]` entry: a tactic and the techniques under it (possibly none). */
export interface ThreatMapping {
  readonly framework: string;
  readonly tactic: AttackRef;
  readonly techniques: readonly TechniqueRef[];
}

interface RuleQuery {
  /** The query exactly as written in the file (after TOML string decoding). */
  readonly text: string;
  readonly language: RuleLanguage;
  /** Where the query's content starts and ends in the rule file. */
  readonly span: Span;
  /** The parsed EQL, for `eql` rules whose query parsed; null otherwise. */
  readonly ast: Query | null;
}

/**
 * How a hit is gated on the YARA verdict of the file sample behind it.
 * - `require`: alert only when the sample matches; a hit waits (pending) for its sample, and is reported as
 *   unverified after `pendingTimeoutMs`; a clean sample closes the hit as benign.
 * - `annotate`: alert on behaviour; the verdict is attached when a sample is (or becomes) available.
 * - `none`: no sample is looked for.
 */
export type SampleGateMode = "require" | "annotate" | "none";

interface YaraRef {
  /** As written in the rule file: `shm-creation.yar`. */
  readonly name: string;
  /** Resolved against the rule file's directory. */
  readonly path: string;
}

export interface SampleGate {
  readonly mode: SampleGateMode;
  /** The YARA files to check samples against; empty means every `*.yar` beside the rule. */
  readonly yara: readonly YaraRef[];
  /** ECS fields naming the sample's path on the host, first non-empty wins (`file.path`, `process.executable`). */
  readonly pathFields: readonly string[];
  /** ECS fields carrying the sample's SHA-256, first non-empty wins. */
  readonly hashFields: readonly string[];
  readonly pendingTimeoutMs: number;
}

/**
 * One exclusion: a hit is dropped when `field` matches any of `values`. `==` compares case-sensitively;
 * `:` is EQL's `:` (case-insensitive, `*` and `?` wildcards). Items are data: deploy writes them to the
 * Sentinel watchlist `Exclusions.watchlist`, one row per value, and the translated queries read that watchlist.
 */
export interface ExclusionItem {
  readonly scenario: string;
  readonly field: string;
  readonly operator: "==" | ":";
  readonly values: readonly string[];
  readonly comment?: string;
}

export interface Exclusions {
  /** The Sentinel watchlist alias the exclusions deploy as (and the queries read). */
  readonly watchlist: string;
  readonly description: string;
  readonly items: readonly ExclusionItem[];
}

/** Sentinel entity types shmhunt maps, with the identifiers each accepts. */
export type EntityType = "Host" | "Account" | "File" | "FileHash" | "Process" | "IP";

/** One Sentinel entity of an alert: each identifier (`HostName`) is taken from an ECS field (`host.name`). */
export interface EntityMapping {
  readonly type: EntityType;
  readonly identifiers: readonly { readonly identifier: string; readonly field: string }[];
  /** FileHash only: the hash algorithm (`SHA256`), from `Algorithm` or from the field's name. */
  readonly algorithm?: "MD5" | "SHA1" | "SHA256";
}

/** What `shmhunt deploy` creates for a rule. */
export type DeployKind = "hunting_query" | "analytics_rule";

export interface AnalyticsSettings {
  /** Entity types whose matching alerts are grouped into one incident. Empty: one incident per alert. */
  readonly groupBy: readonly EntityType[];
  readonly groupingWindowMs: number;
  /** Suppress the analytics rule for this long after it fires; 0: no suppression. */
  readonly suppressionMs: number;
}

/** shmhunt's own settings, from the rule's `[shmhunt]` table (every key defaulted when absent). */
export interface ShmhuntSettings {
  /** True when the file has a `[shmhunt]` table; false for a plain Elastic rule (all defaults). */
  readonly declared: boolean;
  /**
   * `revision`: set when this file is another Elastic revision of a rule_id that a second file also ships (the
   * seed's version 103 and the later upstream revision). It makes the rule's identity `<rule_id>-<revision>`.
   */
  readonly revision?: string;
  readonly targets: readonly Target[];
  readonly deploy: readonly DeployKind[];
  readonly sampleGate: SampleGate;
  readonly exclusions: Exclusions | null;
  readonly entities: readonly EntityMapping[];
  readonly analytics: AnalyticsSettings;
}

/** How a rule runs: one owner for the fields the hunt takes as they are (src/hunt's HuntRule). */
export interface RuleSchedule {
  /** 0–100. */
  readonly riskScore: number;
  /** How often the rule runs (`rule.interval`, default 5m). */
  readonly intervalMs: number;
  /**
   * How far back each run looks (`rule.from = "now-9m"` → 9 minutes; default now-6m); longer than the interval, so
   * windows overlap.
   */
  readonly lookbackMs: number;
  /** At most this many alerts per run (`rule.max_signals`, default 100); the hunt records the rest as overflow. */
  readonly maxSignals: number;
}

export interface LoadedRule extends RuleSchedule {
  /**
   * The rule's identity across files, deploys, checkpoints and alerts: `rule.rule_id` (a UUID), or
   * `<rule_id>-<revision>` when the file's `[shmhunt] revision` is set, so that two Elastic revisions of one
   * rule_id deploy side by side under distinct deterministic names.
   */
  readonly id: string;
  /** `rule.rule_id` as Elastic publishes it (equal to `id` unless the file sets a revision). */
  readonly elasticRuleId: string;
  /** `rule.version`, Elastic's revision number of the rule, when the file gives it. */
  readonly version?: number;
  readonly name: string;
  /** `rule.description`, without the surrounding whitespace of TOML's multi-line strings. */
  readonly description: string;
  readonly type: RuleType;
  readonly language: RuleLanguage;
  readonly severity: Severity;
  readonly threat: readonly ThreatMapping[];
  readonly references: readonly string[];
  readonly tags: readonly string[];
  /** `rule.false_positives`, each with its common indentation removed. */
  readonly falsePositives: readonly string[];
  /** Elastic index patterns the rule was written for (informational). */
  readonly index: readonly string[];
  /** `rule.building_block_type` is set: the rule feeds other rules rather than alerting. */
  readonly buildingBlock: boolean;
  /** Investigation guide (markdown), when present. */
  readonly note?: string;
  /** Null only for machine-learning rules. */
  readonly query: RuleQuery | null;
  readonly settings: ShmhuntSettings;
  /** The rule file, as given to the loader. */
  readonly file: string;
}
