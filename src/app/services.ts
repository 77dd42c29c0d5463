/**
 * The services every entry point (fastify routes, Azure Functions, CLI) calls: one implementation, many
 * transports. Translate and deploy come from their own stages and plug in through the interfaces below; the
 * hunt, the samples and the scan are implemented here over the stores and the hunt domain.
 */
import type { Readable } from "node:stream";
import {
  type Acquisition,
  acquisitionsFor,
  type BrokerReport,
  type SampleBroker,
  sampleNamesOf,
} from "../broker/index.js";
import { Codes, type Diagnostic, DiagnosticError } from "../diagnostics/index.js";
import { storedVerdictOf } from "../hunt/from-rule.js";
import type { HeldLease, HuntState, LocalIncident } from "../hunt/hunt-state.js";
import {
  type RescanDeps,
  type RescanReport,
  rescanSamples,
  rulesetOf,
  type SampleRescan,
  settleVerdictChange,
} from "../hunt/rescan.js";
import {
  type HuntDeps,
  type HuntLogger,
  type HuntRunProgress,
  type HuntRunReport,
  recordVerdict,
  runHunts,
  type SweepReport,
  silentLogger,
  waitForSampleLease,
} from "../hunt/run.js";
import { attachSample, isNamedFile, locatorOf } from "../hunt/sample-locator.js";
import { type HitRecord, type HitStatus, type HuntPlan, type StoredVerdict, withKnownFiles } from "../hunt/types.js";
import type { DeployReport, DeployProgress as SentinelDeployProgress } from "../sentinel/deploy.js";
import type { SampleIndex, SampleNames } from "../store/sample-index.js";
import { hasArrivedBlobs, type SampleInfo, type SampleStore, UNREAD, UNREAD_KEY } from "../store/sample-store.js";
import { normaliseSha256, SampleError, SHA256_PATTERN, spoolSample } from "../store/spool.js";
import type { Verdict } from "../yara/verdict.js";
import type { ServiceConfig } from "./config.js";
import { NotAvailableError, NotFoundError } from "./errors.js";

export interface TranslateRequest {
  /** An EQL query, or the text of a rule file (TOML). */
  readonly eql?: string;
  readonly rule?: string;
  readonly target: string;
}

export interface TranslateResponse {
  readonly target: string;
  readonly kql: string;
  readonly notes: readonly string[];
}

/** Provided by the translation stage (src/kql). */
export interface TranslateService {
  translate(request: TranslateRequest): Promise<TranslateResponse>;
}

/**
 * What an apply tells its caller as it goes (the CLI's progress bar), at most once per step: the sentinel layer's
 * callbacks (src/sentinel/deploy.ts), passed on by the deploy service.
 */
export type DeployProgress = SentinelDeployProgress;

/** Provided by the deploy stage (src/sentinel): plan and apply the rules' Sentinel content. */
export interface DeployService {
  plan(options: { readonly prune: boolean }): Promise<DeployReport>;
  apply(options: { readonly prune: boolean }, progress?: DeployProgress): Promise<DeployReport>;
}

/**
 * What a hunt run tells its caller as it goes (the CLI's progress bar of a catch-up): the runs it makes (one per
 * plan, each over its window since the last completed one), each run as it ends, and the rows settled batch by
 * batch (never per row: a hunt settles thousands a second).
 */
export type HuntProgress = HuntRunProgress;

/** What the service needs of the YARA matcher (src/yara's Scanner fits). */
export interface SampleScanner {
  scanFile(file: string): Promise<Verdict>;
  /** Why the rule files are not the rule set in use (a broken file: the last good set stays in use). */
  ruleProblems?(): Promise<readonly Diagnostic[]>;
  /** The rule set in use now (recompiled first when a rule file changed): its identity names the verdicts. */
  rules?(): Promise<{ readonly id: string }>;
  close(): Promise<void>;
}

interface UploadResult {
  readonly sha256: string;
  readonly size: number;
  /** False when the sample was stored already. */
  readonly created: boolean;
  /** The scanner's verdict; absent when no scanner is available. */
  readonly verdict?: Verdict;
  /** Pending hits this sample settled. */
  readonly resolution?: SweepReport;
}

/**
 * What became of a blob written to the samples container (SampleService.arrived, the Event Grid trigger):
 * - `too-large`: over SHMHUNT_MAX_SAMPLE_BYTES, not read; `noted` when the blob's metadata now says so
 *   (shmhunt_unread=too-large, shmhunt_size, shmhunt_limit);
 * - `missing`: the blob is gone (deleted before the event came);
 * - `changed`: the blob was replaced after its size was read, so not read (the replacement's own event reads it);
 * - `refused`: an empty blob (nothing to scan), or a blob named by a SHA-256 its bytes do not have
 *   (SAMPLE_HASH_MISMATCH: set aside, so the sample counts as not stored, its metadata saying so:
 *   shmhunt_unread=hash-mismatch, shmhunt_sha256);
 * - `settled`: stored under its SHA-256 (`created` when this delivery stored it) and scanned, or its verdict by the
 *   rule set in use known already (`known`: nothing scanned, nothing settled again);
 * - `busy`: stored under its SHA-256, and another delivery of it held the sample's lease (scanning it, settling its
 *   hits) for a whole lease's time, renewing it: left to that one.
 */
export type ArrivalResult =
  | {
      readonly kind: "too-large";
      readonly name: string;
      readonly size: number;
      readonly limit: number;
      readonly noted: boolean;
    }
  | { readonly kind: "missing"; readonly name: string }
  | { readonly kind: "changed"; readonly name: string }
  | { readonly kind: "refused"; readonly name: string; readonly code: string; readonly message: string }
  | ({ readonly kind: "settled"; readonly name: string; readonly known: boolean } & UploadResult)
  | { readonly kind: "busy"; readonly name: string; readonly sha256: string; readonly created: boolean };

export interface SampleReport {
  readonly sha256: string;
  readonly stored: boolean;
  readonly size?: number;
  readonly verdict?: StoredVerdict;
}

export interface Services {
  readonly config: ServiceConfig;
  /** The services' time (the hunts', the samples', the broker's): `new Date()` unless composed with another. */
  readonly clock: () => Date;
  readonly state: HuntState;
  readonly sampleStore: SampleStore;
  readonly hunt: HuntService;
  readonly samples: SampleService;
  readonly translate?: TranslateService;
  readonly deploy?: DeployService;
  /** The sample broker, when enabled (SHMHUNT_SAMPLE_BROKER). */
  readonly broker?: SampleBroker;
  /** Names of the backends in use, for /health. */
  readonly backends: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

/** A hit as `GET /hits` shows it: with the acquisition of its sample, when the broker asked for it. */
export type HitView = HitRecord & { readonly acquisition?: Acquisition };

/** A hunt run's report, with the sample broker's tick and the rescan's batch when they ran. */
type HuntTickReport = HuntRunReport & { broker?: BrokerReport; rescan?: RescanReport };

/** Samples scanned again per rescan run when no limit is given and SHMHUNT_RESCAN_BATCH is 0 (off on the timer). */
const DEFAULT_RESCAN_BATCH = 100;

/** Free lease records removed at most per hunt run (HuntService.removeFreeLeases). */
const FREE_LEASES_PER_RUN = 1_000;

/** Runs hunts, one at a time in this process (a run asked for while one is going waits for it). */
export class HuntService {
  private queue: Promise<unknown> = Promise.resolve();
  private running = false;
  /** Whether this process's runs have removed every free lease record they found (removeFreeLeases). */
  private leasesSwept = false;
  private broker: SampleBroker | undefined;
  private rescanner: { readonly source: () => Promise<Omit<RescanDeps, "hunt">>; readonly batch: number } | undefined;

  constructor(
    private readonly deps: Omit<HuntDeps, "queries"> & { readonly queries: HuntDeps["queries"] | undefined },
    private readonly planSource: () => Promise<readonly HuntPlan[]>,
  ) {}

  plans(): Promise<readonly HuntPlan[]> {
    return this.planSource();
  }

  /** The broker's tick follows each run (it is built after this service: it stores through the samples). */
  attachBroker(broker: SampleBroker): void {
    this.broker = broker;
  }

  /**
   * The rescan of stored samples when the YARA rules change (src/hunt/rescan.ts): it scans through the samples
   * service; `batch` samples at most per hunt run (0: not on the hunt's runs, only when asked).
   */
  attachRescan(source: () => Promise<Omit<RescanDeps, "hunt">>, batch: number): void {
    this.rescanner = { source, batch };
  }

  /**
   * Runs the due plans (all of them with `force`, one rule's with `ruleId`), then the pending sweep, then the
   * sample broker's tick (when enabled), then a batch of the rescan (when the rules changed; a failure of it is
   * logged and leaves the hunt's report as it is). With `deadline`, no plan is started after it (runHunts: those
   * left are `deferred` to the next tick); huntDeadline gives it for a host that ends the invocation at a timeout.
   */
  run(
    options: { force?: boolean; ruleId?: string; deadline?: Date } = {},
    progress?: HuntProgress,
  ): Promise<HuntTickReport> {
    const next = this.queue.then(async () => {
      const queries = this.deps.queries;
      if (!queries) {
        throw new NotAvailableError(
          "no query backend: set SHMHUNT_WORKSPACE_ID for Log Analytics, or SHMHUNT_WORKSPACE_DIR for the local workspace engine",
        );
      }
      this.running = true;
      try {
        const plans = await this.planSource();
        if (options.ruleId !== undefined && !plans.some((p) => p.rule.id === options.ruleId)) {
          const hunted = [...new Set(plans.map((p) => p.rule.id))].join(", ") || "none";
          throw new NotFoundError(`no hunt of rule ${options.ruleId}: the rules hunted are ${hunted}`);
        }
        const report: HuntTickReport = await runHunts(plans, { ...this.deps, queries }, options, progress);
        if (!this.leasesSwept) this.leasesSwept = await this.removeFreeLeases();
        if (this.broker) report.broker = await this.broker.tick(plans);
        if (this.rescanner && this.rescanner.batch > 0) {
          try {
            report.rescan = await this.rescanNow(plans, this.rescanner.batch);
          } catch (error) {
            (this.deps.logger ?? silentLogger).error(
              { error: error instanceof Error ? error.message : String(error) },
              "rescan of the stored samples failed; the next run goes on from where it stopped",
            );
          }
        }
        return report;
      } finally {
        this.running = false;
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Removes the lease records that are free by what they say (HuntState.removeFreeLeases): the released ones earlier
   * versions left behind (one per sample ever settled, none of which is taken again unless its sample comes again),
   * and those of holders killed before they gave them up. Done by the first runs of a process, up to
   * FREE_LEASES_PER_RUN each, until one finds no more than that (this version leaves no released record, so the
   * later runs of the process do not read the leases again). True when done; a failure is logged and tried again on
   * the next run.
   */
  private async removeFreeLeases(): Promise<boolean> {
    try {
      const found = await this.deps.state.removeFreeLeases(this.deps.clock(), FREE_LEASES_PER_RUN);
      if (found > 0)
        (this.deps.logger ?? silentLogger).info(
          { found, removed: Math.min(found, FREE_LEASES_PER_RUN) },
          "lease records given up or expired removed",
        );
      return found <= FREE_LEASES_PER_RUN;
    } catch (error) {
      (this.deps.logger ?? silentLogger).warn(
        { error: error instanceof Error ? error.message : String(error) },
        "free lease records not removed; the next run tries again",
      );
      return false;
    }
  }

  /**
   * Scans stored samples again with the rules in use now, settling the hits their verdicts decided (at most `limit`
   * samples; default SHMHUNT_RESCAN_BATCH). Queued with the hunt runs of this process.
   */
  rescan(options: { limit?: number } = {}): Promise<RescanReport> {
    const next = this.queue.then(async () => {
      this.running = true;
      try {
        return await this.rescanNow(await this.planSource(), options.limit);
      } finally {
        this.running = false;
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async rescanNow(plans: readonly HuntPlan[], limit: number | undefined): Promise<RescanReport> {
    if (!this.rescanner) throw new NotAvailableError("no YARA scanner is configured: nothing to rescan with");
    const scan = await this.rescanner.source();
    return rescanSamples(
      plans,
      { ...scan, hunt: this.settleDeps() },
      { limit: limit ?? (this.rescanner.batch || DEFAULT_RESCAN_BATCH) },
    );
  }

  /** The hunt's dependencies for settling hits outside a run (no query is made). */
  private settleDeps(): HuntDeps {
    const queries = this.deps.queries ?? { run: async () => ({ ok: false as const, error: "unused", attempts: [] }) };
    return { ...this.deps, queries };
  }

  /** A scheduler tick: skipped (undefined) while a run is still going. */
  async tick(): Promise<HuntTickReport | undefined> {
    if (this.running) return undefined;
    return this.run();
  }

  /** Waits for the run in progress, if any (graceful shutdown). */
  async idle(): Promise<void> {
    await this.queue;
  }

  /**
   * Settles the hits waiting for this sample with its verdict. A verdict of other rules than the one stored (the
   * rules changed, and the sample came again before the rescan reached it) first settles the hits the old one
   * decided, as the rescan would (src/hunt/rescan.ts).
   */
  async recordVerdict(verdict: StoredVerdict, held?: HeldLease): Promise<SweepReport> {
    const deps = this.settleDeps();
    const plans = await this.planSource();
    const previous = verdict.scanFailed ? undefined : await this.deps.state.verdict(verdict.sha256);
    if (previous && rulesetOf(verdict) !== undefined && rulesetOf(previous) !== rulesetOf(verdict))
      await settleVerdictChange(plans, deps, previous, verdict);
    return recordVerdict(verdict, plans, deps, held);
  }

  /**
   * Runs `work` holding the sample's lease (src/hunt/run.ts, SAMPLE_LEASE), renewed while it runs, given up after:
   * the scan of an arrived or uploaded sample and the settling of its hits, so that a second delivery of its arrival
   * waits for the first and finds its verdict. Undefined when another holder kept the lease for a whole lease's time
   * (alive, renewing it, doing the work), or for `maxWaitMs` when shorter; `left` says in the log what the caller
   * does then.
   */
  async holdingSample<T>(
    sha256: string,
    left: string,
    work: (held: HeldLease) => Promise<T>,
    maxWaitMs?: number,
  ): Promise<T | undefined> {
    const held = await waitForSampleLease(this.settleDeps(), sha256, left, maxWaitMs);
    if (!held) return undefined;
    try {
      return await held.during(() => work(held));
    } finally {
      await held.release();
    }
  }

  /**
   * Hits, each with the acquisition of its sample when one was recorded (broker on now or earlier). `select` picks
   * which of the filtered hits to answer (a page of them) before their acquisitions are read.
   */
  async hits(
    filter: { ruleId?: string; status?: HitStatus } = {},
    select: (hits: HitRecord[]) => HitRecord[] = (all) => all,
  ): Promise<HitView[]> {
    const hits = select(
      (await this.deps.state.hits(filter.ruleId)).filter((h) => !filter.status || h.status === filter.status),
    );
    if (hits.length === 0) return hits;
    const plans = await this.planSource();
    const planOf = (hit: HitRecord) => plans.find((p) => p.rule.id === hit.ruleId && p.target === hit.target);
    const acquisitions = await acquisitionsFor(
      this.deps.state.store,
      hits,
      (hit) => sampleNamesOf(hit, planOf(hit)),
      (hit) => hit.locator !== undefined,
    );
    return hits.map((hit, i) => {
      const acquisition = acquisitions[i];
      const shown = hit.verdict ? { ...hit, verdict: withKnownFiles(hit.verdict) } : hit;
      return acquisition ? { ...shown, acquisition } : shown;
    });
  }

  incidents(): Promise<LocalIncident[]> {
    return this.deps.state.incidents();
  }
}

/** Receives samples (streamed, size-limited, hash-checked), stores them by SHA-256, scans them, settles hits. */
export class SampleService {
  constructor(
    private readonly store: SampleStore,
    private readonly state: HuntState,
    private readonly hunt: HuntService,
    private readonly scanner: (() => Promise<SampleScanner>) | undefined,
    private readonly options: {
      readonly maxBytes: number;
      readonly clock: () => Date;
      readonly tmpDir?: string;
      /** Scans of a sample that fail (crash, timeout, killed worker) are retried this many times… */
      readonly scanRetries?: number;
      /** …after this long, doubled each time (ms). */
      readonly scanRetryBackoffMs?: number;
      readonly logger?: HuntLogger;
    },
    private readonly index?: SampleIndex,
  ) {}

  /** Samples whose scan failed, waiting for their next attempt (rebuilt from the pending hits after a restart). */
  private readonly failedScans = new Map<string, { attempts: number; nextAt: number; reason: string }>();

  /**
   * Scans again, when due, the samples whose scan failed, and the stored samples that hits wait for but that have
   * no verdict (a scan lost to a crash or a restart). After the last retry, the sample gets a "scan failed" verdict,
   * which its gated hits alert with. Called on every scheduler tick. Returns how many scans were attempted.
   *
   * With `deadline` (the clock's time: a Functions timer tick's, src/app/hunt-deadline.ts), no retry starts after it
   * and none waits past it for a sample's lease: the samples not reached are left to the next tick, as they are, so
   * that retries never take the tick's time from its hunts and the host's timeout.
   */
  async retryScans(options: { readonly deadline?: Date } = {}): Promise<number> {
    if (!this.scanner) return 0;
    const now = this.options.clock().getTime();
    const deadline = options.deadline?.getTime();
    for (const { sha256 } of await this.state.pending()) {
      if (this.failedScans.has(sha256) || (await this.state.verdict(sha256))) continue;
      // A sample over the limit (a blob written to the container directly) is not read: nothing to retry.
      const info = await this.store.info(sha256);
      if (info && info.size <= this.options.maxBytes)
        this.failedScans.set(sha256, { attempts: 0, nextAt: now, reason: "not scanned" });
    }
    let attempted = 0;
    for (const [sha256, failure] of [...this.failedScans]) {
      if (failure.nextAt > now) continue;
      const left = deadline === undefined ? undefined : deadline - this.options.clock().getTime();
      if (left !== undefined && left <= 0) break;
      attempted++;
      // Holding the sample's lease (scanUnlessKnown): a settling of it under way (an upload, an arrival, the broker)
      // is waited for, and the verdict of the rules in use it stored ends the retries, nothing scanned again.
      const outcome = await this.scanUnlessKnown(
        sha256,
        "its scan is retried on a later tick",
        (held) => this.scanStoredWithin(sha256, held),
        left === undefined ? {} : { maxWaitMs: left },
      );
      // Another holder kept the lease (it is scanning the sample): the next tick looks again.
      if (outcome === undefined) continue;
      // Known, or no longer stored, over the limit, or replaced meanwhile: the next tick looks at it afresh.
      if (outcome.known || outcome.scanned === undefined) this.failedScans.delete(sha256);
    }
    return attempted;
  }

  get canScan(): boolean {
    return this.scanner !== undefined;
  }

  /** What the rescan (src/hunt/rescan.ts) scans with: the scanner's rule set, and a stored sample scanned again. */
  async rescanSource(): Promise<Omit<RescanDeps, "hunt">> {
    const scanner = await this.requireScanner();
    const rules = scanner.rules?.bind(scanner);
    if (!rules) throw new NotAvailableError("the YARA scanner does not say which rule set it uses");
    return { ruleset: async () => (await rules()).id, rescan: (sha256) => this.rescanStored(scanner, sha256) };
  }

  /** A stored sample scanned again; its verdict is not stored here (the rescan stores it after the hits). */
  private async rescanStored(scanner: SampleScanner, sha256: string): Promise<SampleRescan> {
    const info = await this.store.info(sha256);
    if (!info) return { kind: "missing" };
    const limit = this.options.maxBytes;
    if (info.size > limit)
      return {
        kind: "failed",
        reason: `the stored sample is ${info.size} bytes, over the sample limit (${limit}): not read`,
      };
    const done = await this.store.withFile(info, async (file): Promise<SampleRescan> => {
      const verdict = withoutPath(await scanner.scanFile(file));
      const stored = storedVerdictOf(verdict, this.options.clock());
      if (isMismatch(sha256, verdict)) {
        await this.setAsideIfMismatch(info, verdict);
        return { kind: "failed", reason: `the stored bytes hash to ${verdict.sha256}, not to the sample's name` };
      }
      if (!stored || stored.sha256 !== sha256)
        return { kind: "failed", reason: verdict.error?.message ?? `the scan gave ${verdict.verdict}` };
      await this.store.annotate(sha256, {
        verdict: verdict.verdict,
        rules: stored.matches.map((m) => m.rule).join(" "),
        scannedat: stored.scannedAt,
        ruleset: verdict.ruleset,
      });
      return { kind: "scanned", verdict: stored };
    });
    return done ?? { kind: "failed", reason: "the stored sample was replaced or deleted while it was read" };
  }

  /**
   * Stores an uploaded sample, indexed by its SHA-1 and MD5 and, when the sender says where it came from, by host
   * and path (so a hit that names only a path finds it), then scans it.
   */
  async upload(
    stream: Readable,
    options: { sha256?: string; host?: string; path?: string } = {},
  ): Promise<UploadResult> {
    const spooled = await spoolSample(stream, {
      maxBytes: this.options.maxBytes,
      ...(options.sha256 ? { claimedSha256: options.sha256 } : {}),
      ...(this.options.tmpDir ? { tmpDir: this.options.tmpDir } : {}),
    });
    try {
      // Nothing to store: an empty body is a sender's mistake (a file not read), not a sample of the host's.
      if (spooled.size === 0)
        throw new SampleError("SAMPLE_EMPTY", "the sample is empty (0 bytes): send the file's bytes as the body");
      const { sha256, sha1, md5 } = spooled;
      const origin = options.host && options.path ? { host: options.host, path: options.path } : {};
      const stored = await this.storeAndScan(spooled.path, { sha256, sha1, md5, ...origin }, "the upload");
      return { sha256, size: spooled.size, ...stored };
    } finally {
      await spooled.cleanup();
    }
  }

  /** A file whose hashes are known already (the broker's download): stored, indexed, scanned. */
  async ingestFile(file: string, names: SampleNames & { readonly sha256: string }): Promise<UploadResult> {
    const stored = await this.storeAndScan(file, names, "the broker's download");
    return { sha256: names.sha256, size: (await this.store.info(names.sha256))?.size ?? 0, ...stored };
  }

  /**
   * Stores and indexes a sample's file, then scans it and settles its hits, holding the sample's lease: the
   * BlobCreated event of the blob stored (Blob storage), the broker's settling of the sample and its scan retries wait
   * for this scan and find its verdict. Kept waiting a lease's time by another holder: done without it (`what` is
   * stored and scanned without it, says the log).
   */
  private async storeAndScan(
    file: string,
    names: SampleNames & { readonly sha256: string },
    what: string,
  ): Promise<Omit<UploadResult, "sha256" | "size">> {
    const store = async (held?: HeldLease) => {
      const created = await this.storeIndexed(file, names);
      return { created, ...(await this.scanAndRecord(names.sha256, file, held)) };
    };
    if (!this.scanner) return store();
    return (await this.hunt.holdingSample(names.sha256, `${what} is stored and scanned without it`, store)) ?? store();
  }

  /** Stores and indexes a sample; hits waiting for the file at its host and path get its SHA-256 (then the scan settles them). */
  private async storeIndexed(file: string, names: SampleNames & { readonly sha256: string }): Promise<boolean> {
    const created = await this.store.putFile(names.sha256, file, names);
    await this.index?.add(names.sha256, names, this.options.clock());
    if (names.host && names.path)
      await attachSample(this.state, locatorOf(names.host, names.path), names.sha256, (expects) =>
        isNamedFile(expects, names),
      );
    return created;
  }

  /**
   * A stored sample a waiting hit was found to need (the broker's index lookup): hits waiting at `locator` get it,
   * then, holding the sample's lease (scanUnlessKnown), its verdict of the rules in use settles them, or, when it has
   * none (none at all, or one of other rules), it is scanned (unless over the sample limit: not read) and the new
   * verdict settles them. A settling of the sample under way (an upload, an arrival) is waited for and its verdict
   * found, not scanned again.
   */
  async settleWith(sha256: string, locator?: string): Promise<void> {
    // A hit naming other hashes gets the sample when the index knows it by them (indexed when it was stored).
    if (locator)
      await attachSample(
        this.state,
        locator,
        sha256,
        async (expects) => (await this.index?.knows(sha256, expects)) ?? false,
      );
    await this.scanUnlessKnown(
      sha256,
      "the broker leaves the sample to it",
      (held) => this.scanStoredWithin(sha256, held),
      { settleKnown: (known, held) => this.hunt.recordVerdict(known, held) },
    );
  }

  /** Scans a stream without storing it. */
  async scan(stream: Readable): Promise<Verdict> {
    const scanner = await this.requireScanner();
    const spooled = await spoolSample(stream, {
      maxBytes: this.options.maxBytes,
      ...(this.options.tmpDir ? { tmpDir: this.options.tmpDir } : {}),
    });
    try {
      return withoutPath(await scanner.scanFile(spooled.path));
    } finally {
      await spooled.cleanup();
    }
  }

  /** The account and container blobs arrive in (the Event Grid trigger's events name them); none without Blob. */
  arrivalContainer(): { readonly accountName: string; readonly containerName: string } | undefined {
    const store = this.store;
    return hasArrivedBlobs(store) ? { accountName: store.accountName, containerName: store.containerName } : undefined;
  }

  /**
   * A blob written to the samples container (a BlobCreated event: its name and the size the event reports), read
   * only if it is within the sample limit. Named by its SHA-256 (lower-case hex, as the store names samples): scanned
   * where it lies unless its verdict is known. Another name: streamed (a ranged download, never more than the limit
   * and one byte) through the spool, stored under its hash and scanned unless its verdict is known (of the rules in
   * use: scanUnlessKnown). Idempotent: a second delivery, even one while the first still runs, stores nothing new,
   * scans nothing known and settles nothing again. Transient failures throw (Event Grid retries).
   */
  async arrived(name: string, reportedSize?: number): Promise<ArrivalResult> {
    const store = this.store;
    if (!hasArrivedBlobs(store)) throw new NotAvailableError("the samples are not kept in Blob storage");
    const limit = this.options.maxBytes;
    const tooLarge = async (size: number): Promise<ArrivalResult> => {
      const noted = await store.noteBlob(name, {
        [UNREAD_KEY]: UNREAD.tooLarge,
        shmhunt_size: String(size),
        shmhunt_limit: String(limit),
      });
      return { kind: "too-large", name, size, limit, noted };
    };
    if (reportedSize !== undefined && reportedSize > limit) return tooLarge(reportedSize);
    if (SHA256_PATTERN.test(name)) {
      // The blob now, not as the event saw it: it may have been replaced since.
      const info = await store.info(name);
      // Not a stored sample: gone, or bytes set aside earlier (they are not the sample the name says).
      if (info === undefined)
        return (await store.blobSize(name)) === undefined ? { kind: "missing", name } : mismatched(name);
      if (info.size > limit) return tooLarge(info.size);
      const outcome = await this.scanUnlessKnown(name, ARRIVAL_LEFT, (held) => this.scanStored(info, held));
      if (outcome === undefined) return { kind: "busy", name, sha256: name, created: false };
      if (outcome.known) return { kind: "settled", name, known: true, sha256: name, size: info.size, created: false };
      const result = outcome.scanned && { sha256: name, size: info.size, created: false, ...outcome.scanned };
      if (result && isMismatch(name, result.verdict)) return mismatched(name, result.verdict?.sha256);
      if (result) return { kind: "settled", name, known: false, ...result };
      // Not read: gone, or replaced after its size was read (its own BlobCreated event follows).
      return (await store.info(name)) ? { kind: "changed", name } : { kind: "missing", name };
    }
    const stream = await store.openBlob(name, limit + 1);
    if (!stream) return { kind: "missing", name };
    try {
      return await this.ingestArrived(name, stream);
    } catch (error) {
      if (error instanceof SampleError && error.code === "SAMPLE_TOO_LARGE")
        return tooLarge((await store.blobSize(name)) ?? limit + 1);
      if (error instanceof SampleError && error.code === "SAMPLE_EMPTY")
        return { kind: "refused", name, code: error.code, message: error.message };
      throw error;
    } finally {
      stream.destroy();
    }
  }

  /** A blob's bytes: spooled (size-capped, hashed), stored under their SHA-256, scanned unless the verdict is known. */
  private async ingestArrived(name: string, stream: Readable): Promise<ArrivalResult> {
    const spooled = await spoolSample(stream, {
      maxBytes: this.options.maxBytes,
      ...(this.options.tmpDir ? { tmpDir: this.options.tmpDir } : {}),
    });
    try {
      if (spooled.size === 0) throw new SampleError("SAMPLE_EMPTY", "the blob is empty (0 bytes)");
      const { sha256, sha1, md5, size } = spooled;
      const created = await this.storeIndexed(spooled.path, { sha256, sha1, md5 });
      const outcome = await this.scanUnlessKnown(sha256, ARRIVAL_LEFT, (held) =>
        this.scanAndRecord(sha256, spooled.path, held),
      );
      if (outcome === undefined) return { kind: "busy", name, sha256, created };
      const scanned = outcome.known ? {} : outcome.scanned;
      return { kind: "settled", name, sha256, size, created, known: outcome.known, ...scanned };
    } finally {
      await spooled.cleanup();
    }
  }

  /**
   * The stored sample scanned as it is now, holding its lease (`held`): undefined when the store does not hold it,
   * holds it over the sample limit (a blob written to the container directly: not read), or it was replaced while
   * read.
   */
  private async scanStoredWithin(
    sha256: string,
    held: HeldLease,
  ): Promise<Pick<UploadResult, "verdict" | "resolution"> | undefined> {
    const info = await this.store.info(sha256);
    if (!info || info.size > this.options.maxBytes) return undefined;
    return this.scanStored(info, held);
  }

  /**
   * Under the sample's lease, held across the scan and the settling of its hits (HuntService.holdingSample): known
   * when the sample has a verdict of the rule set in use (nothing scanned, nothing settled again), else what `scan`
   * gave. A second delivery of an arrival (Event Grid delivers at least once, and again when an answer is slow)
   * waits for the first and finds its verdict: one scan, the hits settled once. A verdict of other rules is scanned
   * again, as an upload would be (the rules changed and the rescan has not reached the sample yet). Undefined when
   * another holder kept the lease for a whole lease's time (`left` says in the log what the caller does then).
   * `settleKnown`, when given, is done with a verdict found known, still holding the lease (the broker's settling:
   * hits just given the sample by its host and path wait for it); `maxWaitMs` shortens the wait for the lease (a
   * caller with a deadline). The one place that decides a verdict known: every scan of a stored sample that settles
   * its hits (arrival, the broker, the scan retries) goes through it.
   */
  private scanUnlessKnown<T>(
    sha256: string,
    left: string,
    scan: (held: HeldLease) => Promise<T>,
    options: {
      readonly settleKnown?: (verdict: StoredVerdict, held: HeldLease) => Promise<unknown>;
      readonly maxWaitMs?: number;
    } = {},
  ): Promise<{ readonly known: true } | { readonly known: false; readonly scanned: T } | undefined> {
    return this.hunt.holdingSample(
      sha256,
      left,
      async (held) => {
        const stored = await this.state.verdict(sha256);
        if (stored && (await this.ofRulesInUse(stored))) {
          await options.settleKnown?.(stored, held);
          return { known: true as const };
        }
        return { known: false as const, scanned: await scan(held) };
      },
      options.maxWaitMs,
    );
  }

  /**
   * Is the stored verdict of the rule set the scanner uses now? Yes when that cannot be told (no scanner, one that
   * does not say, or one that cannot start: nothing could scan it again now); no for a verdict naming no rule set.
   */
  private async ofRulesInUse(verdict: StoredVerdict): Promise<boolean> {
    if (!this.scanner) return true;
    let inUse: string;
    try {
      const scanner = await this.scanner();
      if (!scanner.rules) return true;
      inUse = (await scanner.rules()).id;
    } catch {
      return true;
    }
    return rulesetOf(verdict) === inUse;
  }

  /**
   * Scans the stored version `info` describes (read no further than its size); undefined if gone or replaced. Bytes
   * that do not hash to the sample's name (the scanner's SHA-256) give no verdict and are set aside, so the sample
   * counts as not stored and the broker fetches the real file (which then takes their place).
   */
  private async scanStored(
    info: SampleInfo,
    held?: HeldLease,
  ): Promise<Pick<UploadResult, "verdict" | "resolution"> | undefined> {
    const scanned = await this.store.withFile(info, (file) => this.scanAndRecord(info.sha256, file, held));
    await this.setAsideIfMismatch(info, scanned?.verdict);
    return scanned;
  }

  private async setAsideIfMismatch(info: SampleInfo, verdict: Verdict | undefined): Promise<void> {
    if (!isMismatch(info.sha256, verdict) || !verdict?.sha256) return;
    const setAside = await this.store.setAside(info, verdict.sha256);
    this.failedScans.delete(info.sha256);
    (this.options.logger ?? silentLogger).warn(
      { sha256: info.sha256, actualSha256: verdict.sha256, setAside },
      "a stored sample's bytes do not hash to its name: not the sample, set aside",
    );
  }

  /**
   * What is wrong with the YARA rules now (for /health): a broken file next to a good set in use, or a rule folder
   * that never compiled (then scans fail). Empty when all is well or no scanner is configured.
   */
  async ruleProblems(): Promise<readonly Diagnostic[]> {
    if (!this.scanner) return [];
    try {
      const scanner = await this.scanner();
      return scanner.ruleProblems ? await scanner.ruleProblems() : [];
    } catch (error) {
      if (error instanceof DiagnosticError) return error.diagnostics;
      const message = error instanceof Error ? error.message : String(error);
      return [{ code: Codes.YaraCompile, severity: "error", message: `the YARA scanner is not available: ${message}` }];
    }
  }

  async report(sha256: string): Promise<SampleReport> {
    const sha = normaliseSha256(sha256);
    const [info, verdict]: [SampleInfo | undefined, StoredVerdict | undefined] = await Promise.all([
      this.store.info(sha),
      this.state.verdict(sha),
    ]);
    return {
      sha256: sha,
      stored: info !== undefined,
      ...(info ? { size: info.size } : {}),
      ...(verdict ? { verdict: withKnownFiles(verdict) } : {}),
    };
  }

  /** Scans a sample's file and records its verdict, settling its hits (under the sample's lease when `held`). */
  private async scanAndRecord(
    sha256: string,
    file: string,
    held?: HeldLease,
  ): Promise<Pick<UploadResult, "verdict" | "resolution">> {
    if (!this.scanner) return {};
    const scanner = await this.scanner();
    // The file scanned is a temporary copy or the store's own: its path is nobody's business.
    const verdict = withoutPath(await scanner.scanFile(file));
    if (verdict.verdict === "error") return { verdict, ...(await this.scanFailed(sha256, verdict, held)) };
    this.failedScans.delete(sha256);
    const stored = storedVerdictOf(verdict, this.options.clock());
    if (!stored || stored.sha256 !== sha256) return { verdict };
    await this.store.annotate(sha256, {
      verdict: verdict.verdict,
      rules: stored.matches.map((m) => m.rule).join(" "),
      scannedat: stored.scannedAt,
      ruleset: verdict.ruleset,
    });
    const resolution = await this.hunt.recordVerdict(stored, held);
    return { verdict, resolution };
  }

  /**
   * A scan that failed: the error verdict is kept with the sample, and the scan retried with backoff; after the
   * last retry the sample's verdict is "scan failed" and the hits waiting for it alert (never fade unverified).
   */
  private async scanFailed(
    sha256: string,
    verdict: Verdict,
    held?: HeldLease,
  ): Promise<Pick<UploadResult, "resolution">> {
    const now = this.options.clock();
    const reason = verdict.error?.message ?? "the scan failed";
    const attempts = (this.failedScans.get(sha256)?.attempts ?? 0) + 1;
    await this.store.annotate(sha256, {
      verdict: "error",
      error: reason.slice(0, 200),
      attempts: String(attempts),
      scannedat: now.toISOString(),
    });
    const retries = this.options.scanRetries ?? 3;
    if (attempts <= retries) {
      const backoff = (this.options.scanRetryBackoffMs ?? 60_000) * 2 ** (attempts - 1);
      this.failedScans.set(sha256, { attempts, nextAt: now.getTime() + backoff, reason });
      return {};
    }
    this.failedScans.delete(sha256);
    const resolution = await this.hunt.recordVerdict(
      {
        sha256,
        size: verdict.size,
        matches: [],
        scannedAt: now.toISOString(),
        ruleset: verdict.ruleset,
        detail: verdict,
        scanFailed: { reason, attempts },
      },
      held,
    );
    return { resolution };
  }

  private async requireScanner(): Promise<SampleScanner> {
    if (!this.scanner) throw new NotAvailableError("no YARA scanner is configured");
    return this.scanner();
  }
}

/** What an arrival does when another holder keeps its sample's lease a whole lease's time (logged). */
const ARRIVAL_LEFT = "this arrival leaves the sample to it";

/** Did the scanner read bytes whose SHA-256 is not the sample's name? (A verdict without one says nothing.) */
function isMismatch(sha256: string, verdict: Verdict | undefined): boolean {
  return typeof verdict?.sha256 === "string" && verdict.sha256 !== sha256;
}

/** The arrival of a hash-named blob whose bytes have another SHA-256 (`actual`, when this delivery read them). */
function mismatched(name: string, actual?: string | null): ArrivalResult {
  const message = actual
    ? `the blob's bytes have sha256 ${actual}, not its name: set aside, not a stored sample`
    : "the blob's bytes were found not to hash to its name: set aside, not a stored sample";
  return { kind: "refused", name, code: "SAMPLE_HASH_MISMATCH", message };
}

/** A verdict without the scanned file's path (a temporary file of this service, not the sender's name). */
function withoutPath(verdict: Verdict): Verdict {
  const { path: _path, ...rest } = verdict;
  return rest;
}
