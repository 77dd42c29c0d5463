/**
 * The Microsoft Defender for Endpoint API's entities as shmhunt reads them (the fields it uses), named as on the
 * wire (learn.microsoft.com/defender-endpoint/api/machine, machineaction, files, get-file-statistics).
 */

/** The scope of a Defender for Endpoint token (application permissions Machine.Read.All, Machine.LiveResponse, File.Read.All). */
export const DEFENDER_SCOPE = "https://api.securitycenter.microsoft.com/.default";
export const DEFENDER_BASE_URL = "https://api.securitycenter.microsoft.com";

/** live-response, "Get a file from the device": "getfile limit: 3 GB". */
export const GETFILE_MAX_BYTES = 3 * 1024 ** 3;

export interface DefenderMachine {
  readonly id: string;
  readonly computerDnsName: string;
  readonly healthStatus?: string;
  readonly osPlatform?: string;
  readonly lastSeen?: string;
  readonly [other: string]: unknown;
}

/** api/machineaction: "Pending, InProgress, Succeeded, Failed, TimeOut, and Cancelled". */
export type MachineActionStatus = "Pending" | "InProgress" | "Succeeded" | "Failed" | "TimeOut" | "Cancelled";

export const FINAL_ACTION_STATUSES: readonly MachineActionStatus[] = ["Succeeded", "Failed", "TimeOut", "Cancelled"];

interface LiveResponseCommandResult {
  readonly index: number;
  readonly startTime: string | null;
  readonly endTime: string | null;
  /** api/run-live-response: "Created", "Completed", and "Failed". */
  readonly commandStatus: "Created" | "Completed" | "Failed";
  readonly errors: readonly string[];
  readonly command: { readonly type: string; readonly params: readonly { key: string; value: string }[] };
}

export interface MachineAction {
  readonly id: string;
  /** api/machineaction: "RunAntiVirusScan, Offboard, LiveResponse, ..." */
  readonly type: string;
  readonly status: MachineActionStatus;
  readonly machineId: string;
  /** api/machineaction: "Comment that was written when issuing the action." */
  readonly requestorComment?: string;
  readonly computerDnsName?: string;
  readonly creationDateTimeUtc?: string;
  readonly lastUpdateDateTimeUtc?: string;
  readonly commands?: readonly LiveResponseCommandResult[];
  readonly [other: string]: unknown;
}

export interface DefenderFile {
  readonly sha1: string;
  readonly sha256: string;
  readonly globalPrevalence: number | null;
  readonly size: number | null;
  readonly signer: string | null;
  readonly isValidCertificate: boolean | null;
  readonly [other: string]: unknown;
}

/** api/get-file-statistics (note `globallyPrevalence`, spelt so on the wire). */
export interface DefenderFileStats {
  readonly sha1: string;
  readonly organizationPrevalence: number | null;
  readonly globallyPrevalence: number | null;
  readonly topFileNames: readonly string[];
  readonly [other: string]: unknown;
}

export interface DownloadedFile {
  readonly bytes: number;
  readonly sha256: string;
  readonly sha1: string;
  readonly md5: string;
}

/** An error the API answered (`{"error":{"code","message","target"}}`, api/common-errors), or a blob link's. */
export class DefenderApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The correlation id Microsoft asks for when reporting an error. */
    readonly target?: string,
  ) {
    super(`Defender API ${status} ${code}: ${message}${target ? ` (target ${target})` : ""}`);
    this.name = "DefenderApiError";
  }
}

/** A download refused past its byte limit: the same file is as large at the next try. */
export class DownloadLimitError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the download passed its limit of ${maxBytes} bytes`);
    this.name = "DownloadLimitError";
  }
}

/**
 * The calls that fetch a sample from a device and judge it: what the sample broker (src/broker) needs, and what
 * DefenderClient (defender-client.ts) implements; tests stand a scripted double in its place.
 */
export interface DefenderApi {
  findMachineByName(name: string): Promise<DefenderMachine | undefined>;
  runGetFile(machineId: string, path: string, comment: string): Promise<MachineAction>;
  getAction(actionId: string): Promise<MachineAction>;
  /** api/get-machineactions-collection: the device's live response actions, newest first. */
  liveResponseActions(machineId: string): Promise<MachineAction[]>;
  /** api/cancel-machine-action: an action not yet final (e.g. one queued for an offline device). */
  cancelAction(actionId: string, comment: string): Promise<MachineAction>;
  downloadResult(
    actionId: string,
    index: number,
    filePath: string,
    options?: { readonly maxBytes?: number },
  ): Promise<DownloadedFile>;
  fileInfo(hash: string): Promise<DefenderFile | undefined>;
  fileStats(hash: string, lookBackHours?: number): Promise<DefenderFileStats | undefined>;
}
