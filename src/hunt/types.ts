/** The hunt's domain: rules as the hunt sees them, hits, verdicts and what a run reports. */
import type { RuleSchedule } from "../rules/types.js";
import type { AlertSeverity } from "../sentinel/incidents.js";

export type GateMode = "require" | "annotate" | "none";

/**
 * How a rule's hits are gated on the YARA verdict of their sample.
 * - `require`: alert only when the sample matches one of `yaraRules`; wait (pending) until the sample arrives;
 *   after `pendingTimeoutMs` without a sample the hit is closed as unverified; a clean sample closes it benign.
 * - `annotate`: alert on behaviour; the verdict, when there is one, is carried in the alert.
 * - `none`: alert on behaviour; no sample is looked for.
 */
export interface GatePolicy {
  readonly mode: GateMode;
  /** YARA rule identifiers or rule file names (`shm-creation.yar`) that confirm a hit; empty: any match. */
  readonly yaraRules: readonly string[];
  readonly pendingTimeoutMs: number;
}

export interface HuntRule extends RuleSchedule {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly severity: AlertSeverity;
  readonly tactics: readonly string[];
  readonly techniques: readonly string[];
  readonly gate: GatePolicy;
  readonly grouping: IncidentGrouping;
}

/**
 * How hits become incidents, as the rule's analytics rule groups its alerts (`[shmhunt.analytics]`): hits of the
 * rule on a target with the same values of the `entities` (Sentinel entity types, read from the hit's
 * `Entity_<Type>_<Identifier>` columns) within one grouping window share an incident, each hit its own bookmark.
 * No entities: one incident per hit.
 */
export interface IncidentGrouping {
  readonly entities: readonly string[];
  readonly windowMs: number;
}

/** One rule's query on one target: what the scheduler runs. */
export interface HuntPlan {
  readonly rule: HuntRule;
  readonly target: string;
  readonly query: string;
  /**
   * The result columns holding the sample's SHA-256 on this target, best first (the rule's `hash_fields` mapped
   * to the target's columns); default: the target's `hunt.sampleHash` columns (src/targets).
   */
  readonly sampleHashColumns?: readonly string[];
  /**
   * The result columns naming the sample otherwise (the rule's `path_fields`, and its `hash_fields` as SHA-1 and
   * MD5, mapped to the target's columns): what the sample broker (src/broker) looks the file up and fetches it by.
   */
  readonly sampleNameColumns?: {
    readonly path: readonly string[];
    readonly sha1: readonly string[];
    readonly md5: readonly string[];
  };
  /** The columns that identify an event on this target; default: the target's `hunt.identity` (src/targets). */
  readonly identityColumns?: readonly string[];
}

export interface Window {
  readonly start: Date;
  readonly end: Date;
  /**
   * Set when the window is on ingestion time (window.ts): [start, end] bounds `ingestion_time()`, and rows are kept
   * only when their event time is at or after `eventStart` (and before `end`).
   */
  readonly eventStart?: Date;
}

/** A window as stored (ISO strings). */
export interface StoredWindow {
  readonly start: string;
  readonly end: string;
}

/** The last window of a rule on a target that completed: every row of it was handled. */
export interface Checkpoint {
  readonly end: string;
  readonly completedAt: string;
}

/** A YARA rule that matched a sample. */
export interface VerdictMatch {
  readonly rule: string;
  /**
   * The .yar file the rule came from (its name, `shm-creation.yar`), when known. Read it with matchFile: a verdict
   * stored before the file was known holds YARA's namespace here (`default`), which names no file.
   */
  readonly file?: string;
  readonly tags?: readonly string[];
}

/** The rule file of a match; undefined when unknown, or when `file` holds a namespace (a .yar file's name ends so). */
export function matchFile(match: VerdictMatch): string | undefined {
  return match.file !== undefined && /\.yara?$/i.test(match.file) ? match.file : undefined;
}

/** A sample's verdict as the service stores it (by SHA-256), whatever scanner produced it. */
export interface StoredVerdict {
  readonly sha256: string;
  readonly size: number;
  readonly matches: readonly VerdictMatch[];
  readonly scannedAt: string;
  /**
   * The identity of the YARA rule set that produced it (src/yara CompiledRuleSet.id: SHA-256 of the compiled rule
   * sources). A verdict stored before this was recorded carries it in `detail.ruleset` (rulesetOf reads both).
   */
  readonly ruleset?: string;
  /** The scanner's full report (string offsets, ELF facts…), kept for the evidence. */
  readonly detail?: unknown;
  /**
   * Set when the sample could not be scanned (crash, timeout, killed worker) after every retry: a verdict that
   * confirms nothing and clears nothing, so a gated hit alerts as "scan failed" rather than fading unverified.
   */
  readonly scanFailed?: { readonly reason: string; readonly attempts: number };
}

/**
 * The verdict as shown (GET /samples/{sha256}, and inside hits: GET /hits, `shmhunt hits --json`): a match's `file`
 * only when it names a rule file. A verdict stored before matches had their file holds YARA's namespace there
 * (`default`), in the verdict and in the hits that carry it; it is read as it is and shown without it, never refused.
 */
export function withKnownFiles(verdict: StoredVerdict): StoredVerdict {
  if (verdict.matches.every((m) => m.file === undefined || matchFile(m) !== undefined)) return verdict;
  return {
    ...verdict,
    matches: verdict.matches.map((m) => {
      if (m.file === undefined || matchFile(m) !== undefined) return m;
      const { file: _namespace, ...known } = m;
      return known;
    }),
  };
}

/**
 * - `new`: recorded, not yet decided (a run stopped right after recording it; the next run decides it);
 * - `pending`: waits for its sample; `alerted`; `benign`: its sample is clean; `unverified`: no sample in time,
 *   or no sample hash in the row; `overflow`: over the rule's max_signals in its run.
 */
export const HIT_STATUSES = ["new", "pending", "alerted", "benign", "unverified", "overflow"] as const;
export type HitStatus = (typeof HIT_STATUSES)[number];

export const settledStatuses: ReadonlySet<HitStatus> = new Set(["alerted", "benign", "unverified", "overflow"]);

export interface HitRecord {
  readonly key: string;
  readonly ruleId: string;
  readonly target: string;
  readonly status: HitStatus;
  readonly firstSeen: string;
  readonly updatedAt: string;
  readonly window: StoredWindow;
  readonly eventTime: string;
  readonly sha256?: string;
  /** No hash in the row, but the file's host and path: the hit waits for the sample found there (sample-locator.ts). */
  readonly locator?: string;
  /**
   * With a locator: the other hashes the row names for its file (SHA-1, MD5: Defender often leaves SHA256 empty).
   * Only a sample with these hashes is given to the hit: the file now at its host and path may be another one.
   */
  readonly expects?: NamedHashes;
  readonly row: Readonly<Record<string, unknown>>;
  readonly verdict?: StoredVerdict;
  readonly incidentId?: string;
  /** Why it is in its status, in words (for benign, unverified, overflow). */
  readonly reason?: string;
  /**
   * A hit recorded `new` (to alert): the batch status record that will hold its status once it is settled
   * (HuntState `hitstatus`). Reads give the hit with that status; a settled hit read back has none.
   */
  readonly settledIn?: string;
}

/** The hashes other than SHA-256 a result row names for its file, lower-case. */
export interface NamedHashes {
  readonly sha1?: string;
  readonly md5?: string;
}
