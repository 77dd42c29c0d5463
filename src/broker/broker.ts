/**
 * The sample broker: brings the samples that pending (gated) hits wait for. For each sample awaited, once per
 * tick: the store first (by SHA-256, SHA-1, MD5, host + path: src/store/sample-index.ts), then Microsoft Defender
 * for Endpoint's live response: GetFile for the path on the hit's device, the action polled (one call a tick, so
 * an offline device's queued session costs one call a minute), the result downloaded through a fresh link, the
 * file's hashes checked against the hit's, the file stored, indexed and scanned (which settles the hits).
 *
 * Each step is an `acquisition` record (acquisition.ts) written before the call it leads to, so a file is asked
 * for once: a record `queued` with its action id is polled, never asked again; a download that fails (an expired
 * link that outlived its re-creation, a 429 storm past the client's retries) is tried again at the next tick from
 * the same action. Between the API accepting a GetFile and the record of its id, a process may be killed (or the
 * answer lost): the record is marked (`startAttemptedAt`) before runliveresponse is called, and the next start of a
 * record so marked first lists the device's live response actions (api/get-machineactions-collection) and adopts
 * the broker's own (on that device, a GetFile of the same path, the comment the broker sends for the record),
 * running or finished, instead of asking again; so does a start answered `ActiveRequestAlreadyExists` (a record
 * from before the mark). Another requestor's session on the device is waited out as transient, as any.
 *
 * The API's limits (docs/service.md, "Sample broker"): runliveresponse 10 calls a minute and 25 sessions at once
 * per tenant, the read APIs 100 calls a minute and 1,500 an hour, one session per device, a session queued for an
 * offline device up to three days, a GetFile result up to 3 GB. The broker starts at most `maxStartsPerTick`
 * sessions a tick and keeps at most `maxActive` running.
 */
import path from "node:path";
import type { HuntState } from "../hunt/hunt-state.js";
import { type HuntLogger, silentLogger } from "../hunt/run.js";
import type { HitRecord, HuntPlan } from "../hunt/types.js";
import { settledStatuses } from "../hunt/types.js";
import {
  type DefenderApi,
  DefenderApiError,
  DownloadLimitError,
  FINAL_ACTION_STATUSES,
  GETFILE_MAX_BYTES,
  type MachineAction,
} from "../sentinel/defender-types.js";
import type { SampleIndex, SampleNames } from "../store/sample-index.js";
import type { SampleStore } from "../store/sample-store.js";
import { makeTempFolder } from "../store/temp-folder.js";
import {
  ACQUISITION_PARTITION,
  type Acquisition,
  acquisitionKey,
  acquisitionKeysOf,
  advance,
  finalAcquisitionStatuses,
} from "./acquisition.js";
import { DEFAULT_SKIP_POLICY, type SkipPolicy, skipReason } from "./policy.js";
import { sampleNamesOf } from "./sample-names.js";

interface BrokerLimits {
  /** Live response sessions started per tick (runliveresponse allows 10 calls a minute; default 5). */
  readonly maxStartsPerTick: number;
  /** Sessions of the broker running at once (the tenant allows 25, analysts share them; default 10). */
  readonly maxActive: number;
  /** The largest file fetched (default: the GetFile cap, 3 GB; the service passes its sample limit). */
  readonly maxBytes: number;
  /** Transient errors an acquisition survives before it is failed (default 20). */
  readonly maxTransientErrors: number;
}

const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  maxStartsPerTick: 5,
  maxActive: 10,
  maxBytes: GETFILE_MAX_BYTES,
  maxTransientErrors: 20,
};

interface BrokerDeps {
  readonly defender: DefenderApi;
  readonly state: HuntState;
  readonly samples: SampleStore;
  readonly index: SampleIndex;
  /** Stores a downloaded file (hashes known), indexes it by its names, scans it and settles the hits waiting. */
  readonly ingest: (
    file: string,
    names: Required<Pick<SampleNames, "sha256" | "sha1" | "md5">> & SampleNames,
  ) => Promise<void>;
  /**
   * Settles the hits waiting for a stored sample (scanning it when its verdict is unknown); with `locator`, the hits
   * waiting by host and path get the sample first.
   */
  readonly ingestStored: (sha256: string, locator?: string) => Promise<void>;
  readonly clock: () => Date;
  readonly logger?: HuntLogger;
  readonly policy?: SkipPolicy;
  readonly limits?: Partial<BrokerLimits>;
  readonly tmpDir?: string;
}

export interface BrokerReport {
  /** Samples awaited by pending hits and looked at this tick. */
  examined: number;
  /** Found in the store (by any of their names) and handed to the scanner. */
  found: number;
  requested: number;
  queued: number;
  retrieved: number;
  failed: number;
  skipped: number;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** A report of a tick that did nothing: every counter at 0 (also the names of the counters, src/server/schemas.ts). */
export const emptyBrokerReport = (): BrokerReport => ({
  examined: 0,
  found: 0,
  requested: 0,
  queued: 0,
  retrieved: 0,
  failed: 0,
  skipped: 0,
});

export class SampleBroker {
  private readonly limits: BrokerLimits;
  private readonly logger: HuntLogger;

  constructor(private readonly deps: BrokerDeps) {
    this.limits = { ...DEFAULT_BROKER_LIMITS, ...deps.limits };
    this.logger = deps.logger ?? silentLogger;
  }

  /** One pass over the samples pending hits wait for. */
  async tick(plans: readonly HuntPlan[]): Promise<BrokerReport> {
    const report = emptyBrokerReport();
    const { state } = this.deps;
    const bySample = new Map<string, Array<{ key: string; ruleId: string; target: string }>>();
    for (const { sha256, key, entry } of await state.pending()) {
      const list = bySample.get(sha256) ?? [];
      list.push({ key, ruleId: entry.ruleId, target: entry.target });
      bySample.set(sha256, list);
    }
    const acquisitions = await this.list();
    let active = acquisitions.filter((a) => a.status === "queued").length;
    let starts = 0;
    /** The acquisitions a waiting hit asked for this tick. */
    const wanted = new Set<string>();
    for (const [partition, entries] of bySample) {
      // A partition is the sample's SHA-256, or the locator of a hit that names only host and path.
      const sha256 = SHA256.test(partition) ? partition : undefined;
      if (sha256 && (await state.verdict(sha256))) continue; // the pending sweep settles these
      const waiting = await this.waitingHit(entries, plans);
      if (!waiting) continue;
      report.examined++;
      const names = sampleNamesOf(waiting.hit, waiting.plan);
      const key = acquisitionKey(names);
      if (key) wanted.add(key);
      // A hit that names a hash is given only a sample with that hash: the file now at its host and path may be
      // another one (the index's host + path entry names the latest file seen there).
      const stored = await this.deps.index.find(byHashIfNamed(names), (s) => this.scannable(s));
      let record = key ? await state.store.get<Acquisition>("acquisition", ACQUISITION_PARTITION, key) : undefined;
      if (stored && (sha256 === undefined || stored === sha256)) {
        report.found++;
        if (record?.status === "queued") {
          // Uploaded (or fetched otherwise) while its GetFile waits: that action would hold one of the broker's
          // sessions and its device's one live response session (api/run-live-response, Limitations 2 and 8) until
          // the API times it out; released as one no hit waits for (its result kept if it has one, else cancelled).
          const released = await this.release(record);
          if (released.status !== "queued") active--;
        } else if (record?.status === "requested" && record.startAttemptedAt !== undefined) {
          await this.releaseLost(record);
        } else if (record && !finalAcquisitionStatuses.has(record.status)) {
          // Fetched by a run that stopped before recording it, or uploaded meanwhile.
          await this.save(
            advance(record, "retrieved", this.deps.clock(), { sha256: stored, reason: "found in the store" }),
          );
        }
        await this.deps.ingestStored(stored, sha256 ? undefined : partition);
        continue;
      }
      if (!key || !names.host || !names.path) {
        report.skipped++;
        if (key && !record) await this.create(this.initial(key, names, waiting.hit, "skipped", NO_DEVICE_OR_PATH));
        continue;
      }
      // A skip for want of a device or a path was the earlier hit's: this one names both.
      if (record?.status === "skipped" && record.reason === NO_DEVICE_OR_PATH) {
        await this.deps.state.store.delete("acquisition", ACQUISITION_PARTITION, key);
        record = undefined;
      }
      record ??= await this.request(key, names, waiting.hit);
      if (record.status === "requested") {
        if (starts >= this.limits.maxStartsPerTick || active >= this.limits.maxActive) {
          report.requested++;
          continue;
        }
        starts++;
        record = await this.start(record);
        if (record.status === "queued") active++;
      } else if (record.status === "queued") {
        record = await this.poll(record);
        if (record.status !== "queued") active--;
      }
      report[record.status]++;
    }
    // A queued action no hit waits for any more (its hits settled without it, by their pending_timeout, or by a
    // sample that came otherwise) would hold one of the broker's sessions, and its device's one live response
    // session (api/run-live-response, Limitations 2 and 8), until the API times it out three days later.
    // So would a GetFile an earlier start got accepted without recording it (a marked record, `requested`).
    for (const record of acquisitions) {
      if (wanted.has(record.key)) continue;
      if (record.status === "queued") await this.release(record);
      else if (record.status === "requested" && record.startAttemptedAt !== undefined) await this.releaseLost(record);
    }
    return report;
  }

  /** Every acquisition recorded. */
  async list(): Promise<Acquisition[]> {
    return (await this.deps.state.store.list<Acquisition>("acquisition", ACQUISITION_PARTITION)).map((r) => r.value);
  }

  /** The acquisition of a hit's sample, if any. */
  async forHit(hit: HitRecord, plan: HuntPlan | undefined): Promise<Acquisition | undefined> {
    for (const key of acquisitionKeysOf(sampleNamesOf(hit, plan), hit.locator !== undefined)) {
      const found = await this.deps.state.store.get<Acquisition>("acquisition", ACQUISITION_PARTITION, key);
      if (found) return found;
    }
    return undefined;
  }

  /** The first hit of these that still waits and whose plan is loaded. */
  /**
   * Whether the store holds a sample the service can scan: there, and within the sample limit. A larger blob under
   * a sample's name is never read (the service stores no sample over its limit, and never scans one), so it cannot
   * settle the hit: the file is fetched from the device instead.
   */
  private async scannable(sha256: string): Promise<boolean> {
    const info = await this.deps.samples.info(sha256);
    return info !== undefined && info.size <= this.limits.maxBytes;
  }

  /**
   * The hit a sample's acquisition is for: the first that still waits and names its device and its file's path (a
   * GetFile needs both), else the first that still waits.
   */
  private async waitingHit(
    entries: ReadonlyArray<{ key: string; ruleId: string; target: string }>,
    plans: readonly HuntPlan[],
  ): Promise<{ hit: HitRecord; plan: HuntPlan | undefined } | undefined> {
    let first: { hit: HitRecord; plan: HuntPlan | undefined } | undefined;
    for (const entry of entries) {
      const hit = await this.deps.state.hit(entry.ruleId, entry.key);
      if (!hit || settledStatuses.has(hit.status)) continue;
      const found = { hit, plan: plans.find((p) => p.rule.id === entry.ruleId && p.target === entry.target) };
      const names = sampleNamesOf(found.hit, found.plan);
      if (names.host && names.path) return found;
      first ??= found;
    }
    return first;
  }

  private initial(
    key: string,
    names: SampleNames,
    hit: HitRecord,
    status: Acquisition["status"],
    reason?: string,
  ): Acquisition {
    const at = this.deps.clock().toISOString();
    return {
      key,
      status,
      ...(reason ? { reason } : {}),
      names,
      hitKey: hit.key,
      ruleId: hit.ruleId,
      transientErrors: 0,
      requestedAt: at,
      updatedAt: at,
      history: [{ at, status, ...(reason ? { reason } : {}) }],
    };
  }

  /** The record of a file asked for the first time: skipped by the policy, or requested. */
  private async request(key: string, names: SampleNames, hit: HitRecord): Promise<Acquisition> {
    const reason = await this.policyReason(names);
    const record = this.initial(key, names, hit, reason ? "skipped" : "requested", reason);
    if (await this.create(record)) return record;
    return (await this.deps.state.store.get<Acquisition>("acquisition", ACQUISITION_PARTITION, key)) ?? record;
  }

  private async policyReason(names: SampleNames): Promise<string | undefined> {
    const hash = names.sha256 ?? names.sha1;
    if (!hash) return undefined;
    try {
      const [file, stats] = await Promise.all([this.deps.defender.fileInfo(hash), this.deps.defender.fileStats(hash)]);
      return skipReason(file, stats, this.deps.policy ?? DEFAULT_SKIP_POLICY);
    } catch (error) {
      // The policy is a saving, not a gate: when the Files API cannot answer, the file is fetched.
      this.logger.warn({ hash, error: messageOf(error) }, "file profile not available; the file is fetched");
      return undefined;
    }
  }

  /**
   * Starts the GetFile session on the hit's device, or adopts the one an earlier start got accepted without recording
   * it. The record is marked (`startAttemptedAt`) before runliveresponse is called; a start of a marked record looks
   * among the device's actions first (ownAction), and so does one answered `ActiveRequestAlreadyExists` that has not.
   */
  private async start(record: Acquisition): Promise<Acquisition> {
    const { host } = record.names;
    const now = this.deps.clock();
    let latest = record;
    try {
      // The mark is written with the device's id: its action is looked for there, by id (the device may have been
      // renamed since), before the device is looked up by name.
      const marked = record.startAttemptedAt !== undefined ? record.machineId : undefined;
      const lost = marked ? await this.ownAction(record, marked) : undefined;
      if (lost) return await this.adopt(record, lost, now);
      const machine = await this.deps.defender.findMachineByName(host as string);
      if (!machine) return this.save(advance(record, "failed", now, { reason: `no Defender device named ${host}` }));
      latest = await this.save(
        advance(record, "requested", now, { machineId: machine.id, startAttemptedAt: now.toISOString() }),
      );
      return await this.runGetFile(latest, machine.id, marked !== undefined, now);
    } catch (error) {
      return this.save(this.afterError(latest, error, now));
    }
  }

  /**
   * runliveresponse for a marked record. Answered that the device has a session already, the session may be ours (a
   * start this record did not record, before records were marked): adopted then, unless this start looked already.
   */
  private async runGetFile(record: Acquisition, machineId: string, looked: boolean, now: Date): Promise<Acquisition> {
    let action: MachineAction;
    try {
      action = await this.deps.defender.runGetFile(machineId, record.names.path as string, requestorComment(record));
    } catch (error) {
      const ours = !looked && deviceBusy(error) ? await this.ownAction(record, machineId) : undefined;
      if (!ours) throw error;
      return this.adopt(record, ours, now);
    }
    return this.save(advance(record, "queued", now, { actionId: action.id, actionStatus: action.status }));
  }

  /**
   * The broker's GetFile for `record` among the device's live response actions, newest first: one the API accepted
   * for an earlier start whose answer was not recorded. (api/run-live-response: "Live response actions initiated
   * from the Device page aren't available in the `machineactions` API"; the broker's are started through the API.)
   */
  private async ownAction(record: Acquisition, machineId: string): Promise<MachineAction | undefined> {
    const actions = await this.deps.defender.liveResponseActions(machineId);
    return actions.find((action) => isOwnAction(action, record, machineId));
  }

  /**
   * An action of ours the record missed, recorded `queued` whatever its status: the next tick polls it as any queued
   * action, so a Succeeded one is downloaded and a Failed, TimeOut or Cancelled one fails the acquisition with the
   * action's reason, as it would have had the record been written (asking again would repeat a failed GetFile, or
   * queue another three days for a device away that long, or undo a cancellation).
   */
  private async adopt(record: Acquisition, action: MachineAction, now: Date): Promise<Acquisition> {
    this.logger.info(
      { acquisition: record.key, actionId: action.id, actionStatus: action.status },
      "adopted a machine action an earlier start did not record",
    );
    return this.save(
      advance(record, "queued", now, {
        machineId: action.machineId,
        actionId: action.id,
        actionStatus: action.status,
        reason: `adopted machine action ${action.id}, accepted for an earlier start that was not recorded`,
      }),
    );
  }

  /** One look at the action; downloads its result once it succeeded. */
  private async poll(record: Acquisition): Promise<Acquisition> {
    const now = this.deps.clock();
    try {
      const action = await this.deps.defender.getAction(record.actionId as string);
      if (!FINAL_ACTION_STATUSES.includes(action.status)) {
        return action.status === record.actionStatus
          ? record
          : this.save(advance(record, "queued", now, { actionStatus: action.status }));
      }
      if (action.status !== "Succeeded") {
        const errors = (action.commands ?? []).flatMap((c) => c.errors);
        const reason = `machine action ${action.status}${errors.length > 0 ? `: ${errors.join("; ")}` : ""}`;
        return this.save(advance(record, "failed", now, { actionStatus: action.status, reason }));
      }
      return await this.download(record);
    } catch (error) {
      return this.save(this.afterError(record, error, now));
    }
  }

  /**
   * A queued acquisition no hit waits for: its action looked at once more (a result it has is kept, as any), else
   * cancelled (api/cancel-machine-action: "an already launched machine action that isn't yet in final state").
   */
  private async release(record: Acquisition): Promise<Acquisition> {
    const polled = await this.poll(record);
    if (polled.status !== "queued" || polled.transientErrors > record.transientErrors) return polled;
    const now = this.deps.clock();
    try {
      await this.deps.defender.cancelAction(
        record.actionId as string,
        `shmhunt: no hit waits for this sample any more (hit ${record.hitKey} of rule ${record.ruleId})`,
      );
      return this.save(
        advance(polled, "failed", now, {
          actionStatus: "Cancelled",
          reason: "no hit waits for the file any more: its machine action was cancelled",
        }),
      );
    } catch (error) {
      return this.save(this.afterError(polled, error, now));
    }
  }

  /**
   * A marked record no hit waits for any more: the GetFile an earlier start may have got accepted unrecorded is
   * looked for once; found, it is adopted and released as a queued one is (its result kept if it has one, else
   * cancelled); not found, the mark is dropped, so the device is not listed again for it.
   */
  private async releaseLost(record: Acquisition): Promise<Acquisition> {
    const now = this.deps.clock();
    try {
      const lost = record.machineId ? await this.ownAction(record, record.machineId) : undefined;
      if (lost) return await this.release(await this.adopt(record, lost, now));
      const { startAttemptedAt: _looked, ...unmarked } = record;
      return await this.save({ ...unmarked, updatedAt: now.toISOString() });
    } catch (error) {
      return this.save(this.afterError(record, error, now));
    }
  }

  /** Downloads the GetFile result, checks its hashes against the hit's, stores and scans it. */
  private async download(record: Acquisition): Promise<Acquisition> {
    // Owner-named, so that a start after a kill removes it (temp-folder.ts).
    const dir = await makeTempFolder("broker", this.deps.tmpDir);
    try {
      const file = path.join(dir.path, "sample");
      const got = await this.deps.defender.downloadResult(record.actionId as string, 0, file, {
        maxBytes: this.limits.maxBytes,
      });
      const names = record.names;
      const mismatch =
        (names.sha256 && names.sha256 !== got.sha256 && `sha256 ${got.sha256}, the hit names ${names.sha256}`) ||
        (names.sha1 && names.sha1 !== got.sha1 && `sha1 ${got.sha1}, the hit names ${names.sha1}`) ||
        (names.md5 && names.md5 !== got.md5 && `md5 ${got.md5}, the hit names ${names.md5}`);
      // The file is kept either way; only a matching one is indexed by its device and path, which gives it to the
      // hits waiting there (a hit named by SHA-1 or MD5 alone waits by host and path): another file must not settle
      // them.
      await this.deps.ingest(file, {
        sha256: got.sha256,
        sha1: got.sha1,
        md5: got.md5,
        ...(names.host && !mismatch ? { host: names.host } : {}),
        ...(names.path && !mismatch ? { path: names.path } : {}),
      });
      const now = this.deps.clock();
      if (mismatch)
        return this.save(
          advance(record, "failed", now, {
            sha256: got.sha256,
            bytes: got.bytes,
            actionStatus: "Succeeded",
            reason: `the file at ${names.path} has changed: it has ${mismatch}`,
          }),
        );
      return this.save(
        advance(record, "retrieved", now, { sha256: got.sha256, bytes: got.bytes, actionStatus: "Succeeded" }),
      );
    } finally {
      await dir.remove();
    }
  }

  /** A transient error keeps the record where it is (tried again next tick, up to the limit); others fail it. */
  private afterError(record: Acquisition, error: unknown, now: Date): Acquisition {
    const message = messageOf(error);
    // api/common-errors: a 4xx is the client's ("Forbidden (403) ... insufficient permission", "DisabledFeature (403)
    // Tenant feature isn't enabled"): not asked again. A 403 of the download link is Azure Storage's
    // AuthenticationFailed (the link expired, past the client's re-creations): the next tick asks for a fresh one.
    // A file over the size limit is as large at the next tick (live-response: "getfile limit: 3 GB").
    const transient =
      error instanceof DefenderApiError
        ? error.status === 429 ||
          (error.status === 403 && error.code === "AuthenticationFailed") ||
          error.status >= 500 ||
          deviceBusy(error)
        : !(error instanceof DownloadLimitError);
    const transientErrors = record.transientErrors + (transient ? 1 : 0);
    this.logger.warn({ acquisition: record.key, error: message, transient }, "sample acquisition step failed");
    if (transient && transientErrors < this.limits.maxTransientErrors)
      return { ...record, transientErrors, lastError: message, updatedAt: now.toISOString() };
    return advance(record, "failed", now, { transientErrors, lastError: message, reason: message });
  }

  private async create(record: Acquisition): Promise<boolean> {
    return this.deps.state.store.create("acquisition", ACQUISITION_PARTITION, record.key, record);
  }

  private async save(record: Acquisition): Promise<Acquisition> {
    await this.deps.state.store.put("acquisition", ACQUISITION_PARTITION, record.key, record);
    return record;
  }
}

/** Why a sample is not fetched when the hit it was asked for names no device or no path (the hit's want, not the file's). */
const NO_DEVICE_OR_PATH = "the hit names no device or no path";

/**
 * The comment of the broker's GetFile for a record (runliveresponse's `Comment`): by it a later tick knows the
 * action as its own (api/machineaction: requestorComment, "Comment that was written when issuing the action").
 */
function requestorComment(record: Pick<Acquisition, "hitKey" | "ruleId">): string {
  return `shmhunt: sample for hit ${record.hitKey} of rule ${record.ruleId}`;
}

/**
 * Whether a machine action is the broker's GetFile for `record`: on its device, a LiveResponse with the record's
 * comment, and a GetFile of its path among its commands (api/machineaction: type, requestorComment, commands).
 */
function isOwnAction(action: MachineAction, record: Acquisition, machineId: string): boolean {
  const getsThePath = (action.commands ?? []).some(
    ({ command }) =>
      command.type === "GetFile" && command.params.some((p) => p.key === "Path" && p.value === record.names.path),
  );
  return (
    action.machineId === machineId &&
    action.type === "LiveResponse" &&
    action.requestorComment === requestorComment(record) &&
    getsThePath
  );
}

/**
 * api/run-live-response, Limitations 8: "Multiple live response sessions can't be executed on the same machine (if
 * live response action is already running, subsequent requests are responded to with HTTP 400 -
 * ActiveRequestAlreadyExists)."
 */
function deviceBusy(error: unknown): boolean {
  return error instanceof DefenderApiError && error.code === "ActiveRequestAlreadyExists";
}

/** The hashes of `names` when it has any (a sample is then looked up by them only), else `names` (host + path). */
function byHashIfNamed(names: SampleNames): SampleNames {
  const { host: _host, path: _path, ...hashes } = names;
  return hashes.sha256 || hashes.sha1 || hashes.md5 ? hashes : names;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
