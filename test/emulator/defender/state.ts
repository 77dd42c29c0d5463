/**
 * What the Defender side of the emulator holds: devices (online or not), the files a test puts on them, file
 * profiles with their statistics, machine actions, live response results and their download links, and the call
 * history the documented rate limits are counted on. Time is the emulator's clock, so a test moves it to make a
 * queued action time out or a link expire.
 */
import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import {
  type CommandStatus,
  DOWNLOAD_LINK_LIFETIME_MS,
  GETFILE_MAX_BYTES,
  type HealthStatus,
  type MachineActionStatus,
  OFFLINE_QUEUE_MS,
  type RateLimit,
} from "./limits.js";

export interface MachineInput {
  /** Default: a 40-hex id, as in the docs' examples. */
  readonly id?: string;
  readonly computerDnsName: string;
  /** Whether the device is connected: a live response on an offline device stays Pending (default true). */
  readonly online?: boolean;
  readonly osPlatform?: string;
  /** Default: Active when online, Inactive when not. */
  readonly healthStatus?: HealthStatus;
  readonly lastIpAddress?: string;
  readonly machineTags?: readonly string[];
  readonly rbacGroupId?: number;
}

export interface Machine {
  readonly id: string;
  readonly computerDnsName: string;
  online: boolean;
  healthStatus: HealthStatus;
  readonly osPlatform: string;
  readonly lastIpAddress: string;
  readonly machineTags: readonly string[];
  readonly rbacGroupId: number;
  readonly firstSeen: string;
}

/** A file on a device: its bytes, or a declared size (to pass the getfile cap without the bytes), or a failure. */
export type DeviceFile = { readonly content: Buffer } | { readonly sizeBytes: number } | { readonly failure: string };

export interface FileProfileInput {
  /** The bytes (hashes computed from them) or the hashes themselves. */
  readonly content?: Buffer;
  readonly sha1?: string;
  readonly sha256?: string;
  readonly md5?: string;
  readonly size?: number;
  readonly globalPrevalence?: number;
  readonly globalFirstObserved?: string;
  readonly globalLastObserved?: string;
  readonly fileType?: string;
  readonly isPeFile?: boolean;
  readonly filePublisher?: string | null;
  readonly fileProductName?: string | null;
  readonly signer?: string | null;
  readonly issuer?: string | null;
  readonly signerHash?: string | null;
  readonly isValidCertificate?: boolean | null;
  readonly determinationType?: string | null;
  readonly determinationValue?: string | null;
  readonly organizationPrevalence?: number;
  readonly orgFirstSeen?: string;
  readonly orgLastSeen?: string;
  readonly topFileNames?: readonly string[];
}

export interface LiveResponseCommand {
  readonly type: string;
  readonly params: readonly { readonly key: string; readonly value: string }[];
}

export interface MachineAction {
  readonly id: string;
  readonly machineId: string;
  readonly computerDnsName: string;
  readonly requestor: string;
  readonly requestorComment: string;
  readonly externalId?: string;
  readonly createdAt: number;
  status: MachineActionStatus;
  lastUpdateAt: number;
  readonly commands: {
    readonly command: LiveResponseCommand;
    status: CommandStatus;
    startTime: number | null;
    endTime: number | null;
    errors: string[];
    result?: Buffer;
  }[];
  startedAt?: number;
  cancellation?: { readonly requestor: string; readonly comment: string; readonly at: number };
  /** The timing in force when the action was created (later changes do not reach back). */
  readonly timing: Readonly<LiveResponseTiming>;
}

export interface DownloadLink {
  readonly token: string;
  readonly actionId: string;
  readonly index: number;
  readonly start: Date;
  readonly expiry: Date;
  readonly signature: string;
}

/** How long an online device takes to pick an action up, then to run it (default 0: done at the first poll). */
export interface LiveResponseTiming {
  pickupMs: number;
  runMs: number;
}

const FINAL: readonly MachineActionStatus[] = ["Succeeded", "Failed", "TimeOut", "Cancelled"];

export class DefenderState {
  readonly machines = new Map<string, Machine>();
  readonly actions = new Map<string, MachineAction>();
  readonly links = new Map<string, DownloadLink>();
  readonly timing: LiveResponseTiming = { pickupMs: 0, runMs: 0 };
  /** Who the actions are requested by (the app's name for an application token). */
  requestor = "shmhunt-emulator-app";
  private readonly deviceFiles = new Map<string, Map<string, DeviceFile>>();
  private readonly profiles = new Map<string, Required<Omit<FileProfileInput, "content">>>();
  private readonly calls = new Map<string, number[]>();
  private readonly linkKey = randomBytes(32);

  constructor(private readonly clock: () => Date) {}

  now(): number {
    return this.clock().getTime();
  }

  addMachine(input: MachineInput): Machine {
    const online = input.online ?? true;
    const machine: Machine = {
      id: input.id ?? createHash("sha1").update(input.computerDnsName).update(randomUUID()).digest("hex"),
      computerDnsName: input.computerDnsName,
      online,
      healthStatus: input.healthStatus ?? (online ? "Active" : "Inactive"),
      osPlatform: input.osPlatform ?? "Windows11",
      lastIpAddress: input.lastIpAddress ?? "10.0.0.4",
      machineTags: input.machineTags ?? [],
      rbacGroupId: input.rbacGroupId ?? 0,
      firstSeen: new Date(this.now() - 30 * 24 * 3600_000).toISOString(),
    };
    this.machines.set(machine.id, machine);
    return machine;
  }

  /** Brings a device online or takes it off (its health follows unless `healthStatus` is given). */
  setOnline(machineId: string, online: boolean, healthStatus?: HealthStatus): void {
    const machine = this.machine(machineId);
    machine.online = online;
    machine.healthStatus = healthStatus ?? (online ? "Active" : "Inactive");
  }

  machine(machineId: string): Machine {
    const machine = this.machines.get(machineId);
    if (!machine) throw new Error(`no machine ${machineId} in the emulator`);
    return machine;
  }

  /** Puts a file on a device, for a live response GetFile of exactly that path. */
  putDeviceFile(machineId: string, path: string, file: DeviceFile): void {
    this.machine(machineId);
    const files = this.deviceFiles.get(machineId) ?? new Map<string, DeviceFile>();
    files.set(path, file);
    this.deviceFiles.set(machineId, files);
  }

  deviceFile(machineId: string, path: string): DeviceFile | undefined {
    return this.deviceFiles.get(machineId)?.get(path);
  }

  /** Adds a file profile (Files API) with its statistics; found by its SHA-1 or SHA-256. */
  addFileProfile(input: FileProfileInput): { sha1: string; sha256: string } {
    const hash = (algorithm: string) =>
      input.content ? createHash(algorithm).update(input.content).digest("hex") : "";
    const sha1 = (input.sha1 ?? hash("sha1")).toLowerCase();
    const sha256 = (input.sha256 ?? hash("sha256")).toLowerCase();
    if (!sha1 && !sha256) throw new Error("a file profile needs its content, a sha1 or a sha256");
    const now = new Date(this.now()).toISOString();
    const profile = {
      sha1,
      sha256,
      md5: (input.md5 ?? hash("md5")).toLowerCase(),
      size: input.size ?? input.content?.length ?? 0,
      globalPrevalence: input.globalPrevalence ?? 1,
      globalFirstObserved: input.globalFirstObserved ?? now,
      globalLastObserved: input.globalLastObserved ?? now,
      fileType: input.fileType ?? "",
      isPeFile: input.isPeFile ?? false,
      filePublisher: input.filePublisher ?? null,
      fileProductName: input.fileProductName ?? null,
      signer: input.signer ?? null,
      issuer: input.issuer ?? null,
      signerHash: input.signerHash ?? null,
      isValidCertificate: input.isValidCertificate ?? null,
      determinationType: input.determinationType ?? null,
      determinationValue: input.determinationValue ?? null,
      organizationPrevalence: input.organizationPrevalence ?? 1,
      orgFirstSeen: input.orgFirstSeen ?? now,
      orgLastSeen: input.orgLastSeen ?? now,
      topFileNames: input.topFileNames ?? [],
    };
    if (sha1) this.profiles.set(sha1, profile);
    if (sha256) this.profiles.set(sha256, profile);
    return { sha1, sha256 };
  }

  fileProfile(hash: string): Required<Omit<FileProfileInput, "content">> | undefined {
    return this.profiles.get(hash.toLowerCase());
  }

  createAction(machine: Machine, commands: readonly LiveResponseCommand[], comment: string, externalId?: string) {
    const now = this.now();
    const action: MachineAction = {
      id: randomUUID(),
      machineId: machine.id,
      computerDnsName: machine.computerDnsName,
      requestor: this.requestor,
      requestorComment: comment,
      ...(externalId === undefined ? {} : { externalId }),
      createdAt: now,
      status: "Pending",
      lastUpdateAt: now,
      timing: { ...this.timing },
      commands: commands.map((command) => ({
        command,
        status: "Created" as CommandStatus,
        startTime: null,
        endTime: null,
        errors: [],
      })),
    };
    this.actions.set(action.id, action);
    return action;
  }

  /** Moves an action along by the clock: picked up when its device is online, timed out after the offline queue. */
  advance(action: MachineAction): MachineAction {
    const now = this.now();
    const machine = this.machines.get(action.machineId);
    if (action.status === "Pending") {
      if (machine?.online && now >= action.createdAt + action.timing.pickupMs) {
        action.status = "InProgress";
        action.startedAt = now;
        action.lastUpdateAt = now;
      } else if (now - action.createdAt > OFFLINE_QUEUE_MS) {
        action.status = "TimeOut";
        action.lastUpdateAt = now;
      }
    }
    if (action.status === "InProgress" && now >= (action.startedAt ?? now) + action.timing.runMs) this.run(action, now);
    return action;
  }

  /** api/cancel-machine-action: an action not yet final becomes Cancelled (its commands not run). */
  cancel(action: MachineAction, comment: string): boolean {
    if (!this.isActive(action)) return false;
    const now = this.now();
    action.status = "Cancelled";
    action.cancellation = { requestor: this.requestor, comment, at: now };
    action.lastUpdateAt = now;
    return true;
  }

  isActive(action: MachineAction): boolean {
    return !FINAL.includes(this.advance(action).status);
  }

  /** Live response actions not yet final (tenant-wide, or on one device). */
  activeActions(machineId?: string): MachineAction[] {
    return [...this.actions.values()].filter(
      (a) => (machineId === undefined || a.machineId === machineId) && this.isActive(a),
    );
  }

  /**
   * api/run-live-response, Limitations 7: "when a live response command fails all the subsequent actions won't be
   * executed"; a GetFile fails for a path the test did not put on the device, a failure it set, or a file over the
   * getfile cap.
   */
  private run(action: MachineAction, now: number): void {
    let failed = false;
    for (const entry of action.commands) {
      if (failed) break;
      entry.startTime = now;
      entry.endTime = now;
      const path = entry.command.params.find((p) => p.key === "Path")?.value ?? "";
      const file = this.deviceFile(action.machineId, path);
      if (!file) entry.errors.push(`File '${path}' was not found on the device.`);
      else if ("failure" in file) entry.errors.push(file.failure);
      else if ("sizeBytes" in file && file.sizeBytes > GETFILE_MAX_BYTES)
        entry.errors.push(`File '${path}' is larger than the getfile limit of 3 GB.`);
      else if ("content" in file && file.content.length > GETFILE_MAX_BYTES)
        entry.errors.push(`File '${path}' is larger than the getfile limit of 3 GB.`);
      else entry.result = "content" in file ? file.content : Buffer.alloc(0);
      entry.status = entry.errors.length > 0 ? "Failed" : "Completed";
      failed = entry.status === "Failed";
    }
    action.status = failed ? "Failed" : "Succeeded";
    action.lastUpdateAt = now;
  }

  /** A fresh download link for one command's result, valid DOWNLOAD_LINK_LIFETIME_MS from now. */
  createLink(actionId: string, index: number): DownloadLink {
    const token = randomBytes(16).toString("hex");
    const start = new Date(this.now());
    const expiry = new Date(start.getTime() + DOWNLOAD_LINK_LIFETIME_MS);
    const signature = createHmac("sha256", this.linkKey).update(`${token}\n${expiry.toISOString()}`).digest("base64");
    const link: DownloadLink = { token, actionId, index, start, expiry, signature };
    this.links.set(token, link);
    return link;
  }

  /** Records a call of an API family and answers how many seconds to wait if one of `limits` is passed. */
  throttle(family: string, limits: readonly RateLimit[]): number | undefined {
    const now = this.now();
    const longest = Math.max(...limits.map((l) => l.windowMs));
    const history = (this.calls.get(family) ?? []).filter((t) => t > now - longest);
    this.calls.set(family, history);
    for (const limit of limits) {
      const inWindow = history.filter((t) => t > now - limit.windowMs);
      if (inWindow.length >= limit.calls) {
        const oldest = inWindow[inWindow.length - limit.calls] ?? now;
        return (oldest + limit.windowMs - now) / 1000;
      }
    }
    history.push(now);
    return undefined;
  }
}
