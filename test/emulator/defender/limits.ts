/**
 * What Microsoft documents about the Defender for Endpoint API the emulator serves: one owner for each fact, each
 * with the page it comes from (learn.microsoft.com/defender-endpoint/..., source MicrosoftDocs/defender-docs).
 */

const DOCS = "https://learn.microsoft.com/defender-endpoint";

/** The token audiences Defender for Endpoint accepts (the scope `<audience>/.default`; both hosts are documented). */
export const DEFENDER_AUDIENCES = [
  // api/run-live-response: "POST https://api.securitycenter.microsoft.com/API/machines/{machine_id}/runliveresponse"
  "https://api.securitycenter.microsoft.com",
  // api/get-machines: "GET https://api.security.microsoft.com/api/machines"
  "https://api.security.microsoft.com",
] as const;

/** A per-API rate limit: at most `calls` within `windowMs`. */
export interface RateLimit {
  readonly calls: number;
  readonly windowMs: number;
  readonly source: string;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** api/run-live-response, Limitations 1: "10 calls per minute (more requests are responded with HTTP 429)". */
export const LIVE_RESPONSE_RATE: readonly RateLimit[] = [
  { calls: 10, windowMs: MINUTE, source: `${DOCS}/api/run-live-response` },
];

/**
 * api/get-machines, get-machineactions-collection, get-machineaction-object, get-live-response-result,
 * get-file-information, get-file-statistics, Limitations: "100 calls per minute and 1500 calls per hour".
 */
export const READ_API_RATE: readonly RateLimit[] = [
  { calls: 100, windowMs: MINUTE, source: `${DOCS}/api/get-machines` },
  { calls: 1500, windowMs: HOUR, source: `${DOCS}/api/get-machines` },
];

/** api/run-live-response, Limitations 2: "25 concurrently running sessions" (more: "429 - Too many requests"). */
export const MAX_CONCURRENT_LIVE_RESPONSE_SESSIONS = 25;

/** api/run-live-response, Limitations 3: "If the machine isn't available, the session is queued for up to three days." */
export const OFFLINE_QUEUE_MS = 3 * 24 * HOUR;

/**
 * api/get-live-response-result, Response: the link "is valid for 30 minutes ... An expired link can be re-created by
 * another call, and there's no need to run live response again."
 */
export const DOWNLOAD_LINK_LIFETIME_MS = 30 * MINUTE;

/** live-response, "Get a file from the device": "`getfile` limit: 3 GB". */
export const GETFILE_MAX_BYTES = 3 * 1024 ** 3;

/** A List API's OData query options, as its page documents them. */
export interface ODataCollection {
  /** The entity set, as the answers name it. */
  readonly name: string;
  /** The properties `$filter` is supported on (any other is a 400 `ODataError`). */
  readonly filterable: readonly string[];
  /** The largest `$top`. */
  readonly maxTop: number;
}

/**
 * api/get-machines: "The OData's $filter query is supported on: computerDnsName, id, version, ..."; "$top with max
 * value of 10,000"; "Maximum page size is 10,000."
 */
export const MACHINES_QUERY: ODataCollection = {
  name: "machines",
  filterable: [
    "computerDnsName",
    "id",
    "version",
    "deviceValue",
    "aadDeviceId",
    "machineTags",
    "lastSeen",
    "exposureLevel",
    "onboardingStatus",
    "lastIpAddress",
    "healthStatus",
    "osPlatform",
    "riskScore",
    "rbacGroupId",
  ],
  maxTop: 10_000,
};

/**
 * api/get-machineactions-collection: "The OData's `$filter` query is supported on: `id`, `status`, `machineId`,
 * `type`, `requestor`, and `creationDateTimeUtc` properties."; "`$stop` with max value of 10,000" (sic: `$top`);
 * Limitations 1: "Maximum page size is 10,000."
 */
export const MACHINE_ACTIONS_QUERY: ODataCollection = {
  name: "machineactions",
  filterable: ["id", "status", "machineId", "type", "requestor", "creationDateTimeUtc"],
  maxTop: 10_000,
};

/** api/get-file-statistics, Limitations 2: "The maximum value for `lookbackhours` is 720 Hours(30 days)." (default 30 days) */
export const FILE_STATS_MAX_LOOKBACK_HOURS = 720;

/** api/machineaction: status "Possible values are: Pending, InProgress, Succeeded, Failed, TimeOut, and Cancelled." */
export type MachineActionStatus = "Pending" | "InProgress" | "Succeeded" | "Failed" | "TimeOut" | "Cancelled";

/** api/run-live-response, Response example: "Possible values for each command status are Created, Completed, and Failed." */
export type CommandStatus = "Created" | "Completed" | "Failed";

/** api/run-live-response, Request body: "Allowed values are PutFile, RunScript, GetFile (must be in this order ...)". */
export const LIVE_RESPONSE_COMMAND_ORDER = ["PutFile", "RunScript", "GetFile"] as const;

/** api/machine: healthStatus "Possible values are: Active, Inactive, ImpairedCommunication, NoSensorData, ..." */
export type HealthStatus =
  | "Active"
  | "Inactive"
  | "ImpairedCommunication"
  | "NoSensorData"
  | "NoSensorDataImpairedCommunication"
  | "Unknown";
