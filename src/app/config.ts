/**
 * The service's settings, read from the environment (Azure Functions app settings, or the shell for `shmhunt
 * serve`), with defaults. With no Azure setting at all this is the embedded default: local state, a local sample
 * folder, a local workspace directory and incidents written to local state. Every setting is listed, with its
 * default, in docs/service.md.
 */
import { statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Codes, DiagnosticError } from "../diagnostics/index.js";
import { parseDuration } from "../rules/durations.js";
import type { AzureStorageAccess, SampleLocation, StateLocation } from "../store/storage-clients.js";
import { DEFAULT_TARGET, isTarget, TARGETS } from "../targets/index.js";
import { targetsWithData } from "../workspace/targets-present.js";
import { SCAN_POOL_LIMITS } from "../yara/limits.js";
import { ncrontabProblem } from "./ncrontab.js";
import { REQUEST_LIMITS } from "./requests.js";
import { type DurationBounds, readDuration, SCAN_TIMEOUT_BOUNDS } from "./setting-duration.js";

interface SentinelTarget {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly workspaceName: string;
}

export interface ServiceConfig {
  readonly host: string;
  readonly port: number;
  /** API keys accepted in the `x-api-key` header; required when the host is not loopback (or Entra ID). */
  readonly apiKeys: readonly string[];
  /** Entra ID bearer tokens accepted for the HTTP API, when set. */
  readonly entra?: {
    readonly tenantId: string;
    readonly audiences: readonly string[];
    readonly jwksUrl?: string;
    /** One fetch of the signing keys at most (ms); default in src/server/entra.ts (`ENTRA_KEY_LIMITS`). */
    readonly jwksTimeoutMs?: number;
    /** After a failed fetch of the keys, no other before this (ms); default as above. */
    readonly keysRetryMs?: number;
    /** The delegated scopes and app roles a token must carry one of (none set: any scope or role of the API). */
    readonly acceptedScopes?: readonly string[];
    readonly acceptedRoles?: readonly string[];
  };
  readonly rulesDir: string;
  readonly kqlDir: string;
  /** Targets the hunt queries run on (one workspace usually holds one kind of data). */
  readonly huntTargets: readonly string[];
  readonly state: StateLocation;
  readonly samples: SampleLocation;
  /** Local workspace directory (tables as files) used when no Log Analytics workspace is configured. */
  readonly workspaceDir: string;
  /** Log Analytics workspace id (GUID) for hunt queries; undefined: the local workspace. */
  readonly logAnalyticsWorkspaceId?: string;
  /** Where incidents go; undefined: local state. */
  readonly sentinel?: SentinelTarget;
  readonly managedIdentityClientId?: string;
  /** In-process scheduler tick of `shmhunt serve`, ms; 0 disables the schedule. */
  readonly huntTickMs: number;
  /** The Functions timer's NCRONTAB schedule (SHMHUNT_HUNT_SCHEDULE; functions/index.ts binds the setting itself). */
  readonly huntSchedule?: string;
  readonly maxCatchUpMs: number;
  readonly queryTimeoutSeconds: number;
  readonly maxSampleBytes: number;
  readonly maxBodyBytes: number;
  readonly scanTimeoutMs: number;
  /** YARA-X worker processes of the server's scanner: a slow sample holds one, not every scan. */
  readonly scanWorkers: number;
  /** A failed scan (crash, timeout) is retried this many times, with backoff, before the sample is "scan failed". */
  readonly scanRetries: number;
  /** The first retry's delay (ms), doubled for each next one. */
  readonly scanRetryBackoffMs: number;
  /**
   * Stored samples scanned again per hunt run after the YARA rules changed (src/hunt/rescan.ts); 0: the hunt runs
   * do not rescan (`shmhunt rescan` and POST /hunt/rescan still do).
   */
  readonly rescanBatch: number;
  /** Temporary files of uploads (removed after each; a dead process's are removed at start). */
  readonly tmpDir: string;
  /** Host names the `Host` header may carry besides loopback ones (on the loopback default, only those). */
  readonly allowedHosts: readonly string[];
  readonly http: HttpLimits;
  readonly logLevel: string;
  /** The sample broker (src/broker): off unless `SHMHUNT_SAMPLE_BROKER=defender`. */
  readonly broker?: BrokerConfig;
}

/** The sample broker's settings (docs/service.md, "Sample broker"). */
interface BrokerConfig {
  readonly kind: "defender";
  /** The Defender for Endpoint API (a regional host, or the emulator). */
  readonly defenderUrl: string;
  readonly maxGlobalPrevalence?: number;
  readonly maxOrgPrevalence?: number;
  readonly skipValidlySigned: boolean;
  readonly maxStartsPerTick: number;
  readonly maxActive: number;
}

/** Timeouts and caps of the HTTP server (slow clients hold no more than these). */
export interface HttpLimits {
  /** A whole request, headers and body, must arrive within this (ms; Node's `requestTimeout`). */
  readonly requestTimeoutMs: number;
  /** The request's headers must arrive within this (ms; Node's `headersTimeout`). */
  readonly headersTimeoutMs: number;
  /** A socket with no activity for this long is closed (ms; fastify's `connectionTimeout`). */
  readonly idleTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (ms; `keepAliveTimeout`). */
  readonly keepAliveTimeoutMs: number;
  /** Open connections at most; more are refused (the server's `maxConnections`). */
  readonly maxConnections: number;
  /** Requests served on one keep-alive connection, then it is closed (`maxRequestsPerSocket`). */
  readonly maxRequestsPerSocket: number;
}

/** A GUID (a workspace's or a tenant's id), in either case. */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The longest server timeout of a Logs query: "maximum allowed is 600 seconds (10 minutes)" (@azure/monitor-query-logs,
 * `serverTimeoutInSeconds`; learn.microsoft.com/azure/azure-monitor/logs/api/timeouts). infra/main.bicep's
 * `queryTimeoutSeconds` has the same bound.
 */
const LOGS_MAX_WAIT_SECONDS = 600;

/** pino's levels (the server's logger), `silent` included. */
const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

type Env = Readonly<Record<string, string | undefined>>;

const LOOPBACK = new Set(["::1", "[::1]", "localhost"]);

/**
 * A loopback address or name: `localhost`, `::1`, or an IPv4 address in 127.0.0.0/8 written as one (four decimal
 * octets, each 0–255). A host *name* that merely starts with `127.` (`127.0.0.1.attacker.example`) is not.
 */
export function isLoopback(host: string): boolean {
  const lower = host.toLowerCase();
  if (LOOPBACK.has(lower)) return true;
  const octets = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(lower);
  return octets?.slice(1).every((o) => Number(o) <= 255) ?? false;
}

/**
 * A whole number written in decimal digits (`Number` alone would also take "0x10", "1e3", "+80"); undefined when
 * it is not one, or past what a double holds exactly. Settings and the CLI's counts read numbers with this.
 */
export function parseWholeNumber(text: string): number | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** What a caller of loadConfig cannot do without, beyond what every caller needs. */
export interface ConfigNeeds {
  /**
   * The rules folder must exist even when SHMHUNT_RULES_DIR is unset (its default, ./rules): for the hunt commands,
   * which without it would hunt nothing and exit 0. A set SHMHUNT_RULES_DIR must name a folder that exists always.
   */
  readonly rules?: boolean;
}

/**
 * Reads the settings from `env`. `givenAs` names where a setting's value came from when not the environment (a
 * command's option, e.g. `{ SHMHUNT_PORT: "--port" }`): a bad value is then reported under that name.
 */
export function loadConfig(
  env: Env = process.env,
  cwd = process.cwd(),
  givenAs: Readonly<Record<string, string>> = {},
  needs: ConfigNeeds = {},
): ServiceConfig {
  const problems: Array<{ field: string; message: string }> = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const int = (name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = parseWholeNumber(raw);
    if (value === undefined || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
      problems.push({ field: name, message: `must be an integer ${range}, not ${JSON.stringify(raw)}` });
      return fallback;
    }
    return value;
  };
  const oneOf = (name: string, allowed: readonly string[], fallback: string): string => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    if (allowed.includes(raw)) return raw;
    problems.push({ field: name, message: `must be one of ${allowed.join(", ")}, not ${JSON.stringify(raw)}` });
    return fallback;
  };
  const huntTargets = (): string[] | undefined => {
    const items = text("SHMHUNT_HUNT_TARGETS")
      ?.split(",")
      .map((t) => t.trim());
    const listed = items?.filter(Boolean);
    // docs/service.md: "another name, or none between the commas, is an error" (`defender,,asim`); a list of
    // separators alone is reported below.
    if (listed && listed.length > 0 && listed.length < items!.length) {
      problems.push({
        field: "SHMHUNT_HUNT_TARGETS",
        message: `names no target between two commas (or at an end): the targets are ${TARGETS.join(", ")}, comma-separated`,
      });
    }
    const unknown = listed?.filter((t) => !isTarget(t)) ?? [];
    if (unknown.length > 0) {
      problems.push({
        field: "SHMHUNT_HUNT_TARGETS",
        message: `unknown target ${unknown.map((t) => JSON.stringify(t)).join(", ")}: the targets are ${TARGETS.join(", ")}`,
      });
    }
    if (listed?.length === 0) {
      // Set, but to separators alone (","): not "unset", which means the default.
      problems.push({
        field: "SHMHUNT_HUNT_TARGETS",
        message: `names no target: the targets are ${TARGETS.join(", ")}`,
      });
    }
    return listed?.length ? listed : undefined;
  };
  /** The Functions timer's schedule (src/app/ncrontab.ts): six NCRONTAB fields, checked though only Functions reads it. */
  const huntSchedule = (): { huntSchedule?: string } => {
    const raw = text("SHMHUNT_HUNT_SCHEDULE");
    if (raw === undefined) return {};
    const problem = ncrontabProblem(raw);
    if (problem) problems.push({ field: "SHMHUNT_HUNT_SCHEDULE", message: problem });
    return { huntSchedule: raw };
  };
  /** A duration; `timer`: one a Node timer waits for, so at most TIMER_MAX_MS; or the setting's own bounds. */
  const duration = (name: string, fallback: string, bounds?: "timer" | DurationBounds): number => {
    const read = readDuration(text(name) ?? fallback, bounds === "timer" ? { timer: true } : (bounds ?? {}));
    if ("ms" in read) return read.ms;
    problems.push({ field: name, message: read.problem });
    return parseDuration(fallback) ?? 0;
  };
  /**
   * A folder setting, resolved against `cwd`. One that is set must not name something other than a folder, and
   * with `mustExist` must name one that is there (the service makes the others when they are missing); with
   * `mustExist` "default too", so must the default when the setting is unset.
   */
  const dir = (name: string, fallback: string, mustExist?: "must exist" | "default too"): string => {
    const raw = text(name);
    const resolved = path.resolve(cwd, raw ?? fallback);
    if (raw === undefined && mustExist !== "default too") return resolved;
    const shown = `${JSON.stringify(resolved)}${raw === undefined ? ` (unset, its default: ./${fallback} of the working folder)` : ""}`;
    const found = statSync(resolved, { throwIfNoEntry: false });
    if (found !== undefined && !found.isDirectory()) {
      problems.push({ field: name, message: `must be a folder, and ${shown} is not a folder` });
    } else if (found === undefined && mustExist) {
      problems.push({ field: name, message: `must be a folder that exists, and ${shown} does not exist` });
    }
    return resolved;
  };
  /** An http(s) URL (the Azure SDKs and fetch take nothing else), when set. */
  const url = (name: string): string | undefined => {
    const raw = text(name);
    if (raw === undefined) return undefined;
    const parsed = URL.canParse(raw) ? new URL(raw) : undefined;
    if (parsed?.protocol === "https:" || parsed?.protocol === "http:") return raw;
    problems.push({ field: name, message: `must be an http(s) URL, not ${JSON.stringify(raw.slice(0, 200))}` });
    return undefined;
  };

  const dataDir = dir("SHMHUNT_DATA_DIR", ".shmhunt");
  const managedIdentityClientId = text("AZURE_CLIENT_ID");
  const access = storageAccess(text, url, managedIdentityClientId, (field, message) =>
    problems.push({ field, message }),
  );
  const state: StateLocation = access.table
    ? { kind: "table", table: text("SHMHUNT_STATE_TABLE") ?? "shmhuntstate", access: access.table }
    : { kind: "local", dir: dir("SHMHUNT_STATE_DIR", path.join(dataDir, "state")) };
  const samples: SampleLocation = access.blob
    ? { kind: "blob", container: text("SHMHUNT_SAMPLES_CONTAINER") ?? "samples", access: access.blob }
    : { kind: "local", dir: dir("SHMHUNT_SAMPLES_DIR", path.join(dataDir, "samples")) };

  const sentinelParts = ["SHMHUNT_SUBSCRIPTION_ID", "SHMHUNT_RESOURCE_GROUP", "SHMHUNT_WORKSPACE_NAME"].map(text);
  const [subscriptionId, resourceGroup, workspaceName] = sentinelParts;
  if (sentinelParts.some((p) => p !== undefined) && sentinelParts.some((p) => p === undefined)) {
    problems.push({
      field: "SHMHUNT_SUBSCRIPTION_ID",
      message:
        "SHMHUNT_SUBSCRIPTION_ID, SHMHUNT_RESOURCE_GROUP and SHMHUNT_WORKSPACE_NAME go together: set all three or none",
    });
  }
  // ARM's subscriptionId path parameter (common-types/resource-management/v5/types.json, SubscriptionIdParameter):
  // "The ID of the target subscription. The value must be an UUID."
  if (subscriptionId !== undefined && !GUID.test(subscriptionId)) {
    problems.push({
      field: "SHMHUNT_SUBSCRIPTION_ID",
      message: `must be the subscription's id (a GUID), not ${JSON.stringify(subscriptionId.slice(0, 100))}`,
    });
  }
  const workspaceId = text("SHMHUNT_WORKSPACE_ID");
  if (workspaceId !== undefined && !GUID.test(workspaceId)) {
    problems.push({
      field: "SHMHUNT_WORKSPACE_ID",
      message: `must be the workspace's id (a GUID), not ${JSON.stringify(workspaceId)}`,
    });
  }

  const workspaceDir = dir("SHMHUNT_WORKSPACE_DIR", path.join(dataDir, "workspace"));
  const host = text("SHMHUNT_HOST") ?? "127.0.0.1";
  const apiKeys = (text("SHMHUNT_API_KEYS") ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
  if (apiKeys.some((k) => k.length < 16)) {
    problems.push({ field: "SHMHUNT_API_KEYS", message: "every key must have at least 16 characters" });
  }

  // The tenant's GUID, lower case as its tokens' `iss` and `tid` write it: a domain name (or `common`) names no
  // issuer a token carries, and every token would be refused.
  const tenantId = text("SHMHUNT_ENTRA_TENANT_ID")?.toLowerCase();
  if (tenantId !== undefined && !GUID.test(tenantId)) {
    problems.push({
      field: "SHMHUNT_ENTRA_TENANT_ID",
      message: `must be the tenant's id (a GUID, as in its tokens' issuer), not ${JSON.stringify(tenantId.slice(0, 100))}`,
    });
  }
  /** A comma-separated list of the setting, without blanks. */
  const list = (name: string): string[] =>
    (text(name) ?? "")
      .split(",")
      .map((a) => a.trim())
      .filter(Boolean);
  const audiences = list("SHMHUNT_ENTRA_AUDIENCE");
  const acceptedScopes = list("SHMHUNT_ENTRA_SCOPES");
  const acceptedRoles = list("SHMHUNT_ENTRA_ROLES");
  for (const [field, values] of [
    ["SHMHUNT_ENTRA_SCOPES", acceptedScopes],
    ["SHMHUNT_ENTRA_ROLES", acceptedRoles],
  ] as const) {
    if (values.length > 0 && tenantId === undefined)
      problems.push({ field, message: "takes effect with SHMHUNT_ENTRA_TENANT_ID and SHMHUNT_ENTRA_AUDIENCE only" });
    // A scope is one word of the space-separated `scp` claim: a value with a space could never match.
    if (values.some((v) => /\s/.test(v))) problems.push({ field, message: "a value cannot hold a space" });
  }
  if ((tenantId === undefined) !== (audiences.length === 0)) {
    problems.push({
      field: "SHMHUNT_ENTRA_TENANT_ID",
      message: "SHMHUNT_ENTRA_TENANT_ID and SHMHUNT_ENTRA_AUDIENCE go together",
    });
  }
  const jwksUrl = url("SHMHUNT_ENTRA_JWKS_URL");
  /** A duration over 0 when set (undefined: the default of src/server/entra.ts). */
  const positiveDuration = (name: string, kind?: "timer"): number | undefined => {
    if (text(name) === undefined) return undefined;
    const value = duration(name, "1s", kind);
    if (value === 0) problems.push({ field: name, message: "must be a duration over 0" });
    return value;
  };
  const jwksTimeoutMs = positiveDuration("SHMHUNT_ENTRA_JWKS_TIMEOUT", "timer");
  const keysRetryMs = positiveDuration("SHMHUNT_ENTRA_KEYS_RETRY");
  const entraOptions = {
    ...(jwksTimeoutMs !== undefined ? { jwksTimeoutMs } : {}),
    ...(keysRetryMs !== undefined ? { keysRetryMs } : {}),
    ...(acceptedScopes.length > 0 ? { acceptedScopes } : {}),
    ...(acceptedRoles.length > 0 ? { acceptedRoles } : {}),
  };

  const brokerKind = text("SHMHUNT_SAMPLE_BROKER") ?? "off";
  if (brokerKind !== "off" && brokerKind !== "defender")
    problems.push({
      field: "SHMHUNT_SAMPLE_BROKER",
      message: `must be "off" or "defender", not ${JSON.stringify(brokerKind)}`,
    });
  /** An integer, or `none` for no limit. */
  const optionalInt = (name: string, fallback: number | undefined): number | undefined => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    return raw.toLowerCase() === "none" ? undefined : int(name, fallback ?? 0);
  };
  const skipSigned = text("SHMHUNT_BROKER_SKIP_SIGNED") ?? "true";
  if (skipSigned !== "true" && skipSigned !== "false")
    problems.push({
      field: "SHMHUNT_BROKER_SKIP_SIGNED",
      message: `must be true or false, not ${JSON.stringify(skipSigned)}`,
    });
  const maxGlobalPrevalence = optionalInt("SHMHUNT_BROKER_MAX_GLOBAL_PREVALENCE", 1000);
  const maxOrgPrevalence = optionalInt("SHMHUNT_BROKER_MAX_ORG_PREVALENCE", undefined);
  // The broker's settings are checked with the broker off too: a bad one is an error now, not on the day it is on.
  const defenderUrl = url("SHMHUNT_DEFENDER_URL") ?? "https://api.securitycenter.microsoft.com";
  // api/run-live-response: 10 calls a minute, 25 sessions at once per tenant
  const maxStartsPerTick = int("SHMHUNT_BROKER_MAX_STARTS", 5, 1);
  const maxActive = int("SHMHUNT_BROKER_MAX_ACTIVE", 10, 1);
  if (maxStartsPerTick > 10)
    problems.push({
      field: "SHMHUNT_BROKER_MAX_STARTS",
      message: "must be at most 10 (runliveresponse: 10 calls a minute)",
    });
  if (maxActive > 25)
    problems.push({
      field: "SHMHUNT_BROKER_MAX_ACTIVE",
      message: "must be at most 25 (live response: 25 sessions at once)",
    });
  const broker: BrokerConfig | undefined =
    brokerKind === "defender"
      ? {
          kind: "defender",
          defenderUrl,
          ...(maxGlobalPrevalence !== undefined ? { maxGlobalPrevalence } : {}),
          ...(maxOrgPrevalence !== undefined ? { maxOrgPrevalence } : {}),
          skipValidlySigned: skipSigned === "true",
          maxStartsPerTick,
          maxActive,
        }
      : undefined;

  const config: ServiceConfig = {
    ...(broker ? { broker } : {}),
    host,
    port: int("SHMHUNT_PORT", 8080, 0, 65535),
    apiKeys,
    ...(tenantId && audiences.length > 0
      ? { entra: { tenantId, audiences, ...(jwksUrl ? { jwksUrl } : {}), ...entraOptions } }
      : {}),
    rulesDir: dir("SHMHUNT_RULES_DIR", "rules", needs.rules ? "default too" : "must exist"),
    kqlDir: dir("SHMHUNT_KQL_DIR", "kql"),
    huntTargets:
      huntTargets() ??
      (workspaceId || problems.some((p) => p.field === "SHMHUNT_WORKSPACE_DIR")
        ? [DEFAULT_TARGET]
        : targetsWithData(workspaceDir)),
    state,
    samples,
    workspaceDir,
    ...(workspaceId ? { logAnalyticsWorkspaceId: workspaceId } : {}),
    ...(subscriptionId && resourceGroup && workspaceName
      ? { sentinel: { subscriptionId, resourceGroup, workspaceName } }
      : {}),
    ...(managedIdentityClientId ? { managedIdentityClientId } : {}),
    huntTickMs: duration("SHMHUNT_HUNT_TICK", "1m", "timer"),
    ...huntSchedule(),
    maxCatchUpMs: duration("SHMHUNT_MAX_CATCH_UP", "24h"),
    queryTimeoutSeconds: int("SHMHUNT_QUERY_TIMEOUT_SECONDS", 120, 1, LOGS_MAX_WAIT_SECONDS),
    maxSampleBytes: int("SHMHUNT_MAX_SAMPLE_BYTES", 256 * 1024 * 1024, 1),
    maxBodyBytes: int("SHMHUNT_MAX_BODY_BYTES", 1024 * 1024, 1024),
    scanTimeoutMs: duration("SHMHUNT_SCAN_TIMEOUT", "60s", SCAN_TIMEOUT_BOUNDS),
    scanWorkers: int("SHMHUNT_SCAN_WORKERS", Math.min(2, os.availableParallelism()), 1, SCAN_POOL_LIMITS.maxWorkers),
    scanRetries: int("SHMHUNT_SCAN_RETRIES", 3),
    scanRetryBackoffMs: duration("SHMHUNT_SCAN_RETRY_BACKOFF", "1m"),
    // A timer's batch is bounded as a request's (POST /hunt/rescan `limit`, rescan --limit): one owner, 0 = off.
    rescanBatch: int("SHMHUNT_RESCAN_BATCH", 100, 0, REQUEST_LIMITS.rescanLimit),
    tmpDir: dir("SHMHUNT_TMP_DIR", path.join(os.tmpdir(), "shmhunt")),
    allowedHosts: (text("SHMHUNT_ALLOWED_HOSTS") ?? "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
    http: {
      requestTimeoutMs: duration("SHMHUNT_REQUEST_TIMEOUT", "2m", "timer"),
      headersTimeoutMs: duration("SHMHUNT_HEADERS_TIMEOUT", "10s", "timer"),
      idleTimeoutMs: duration("SHMHUNT_IDLE_TIMEOUT", "30s", "timer"),
      keepAliveTimeoutMs: duration("SHMHUNT_KEEP_ALIVE_TIMEOUT", "5s", "timer"),
      maxConnections: int("SHMHUNT_MAX_CONNECTIONS", 512, 1),
      maxRequestsPerSocket: int("SHMHUNT_MAX_REQUESTS_PER_SOCKET", 1000, 1),
    },
    logLevel: oneOf("SHMHUNT_LOG_LEVEL", LOG_LEVELS, "info"),
  };
  const { headersTimeoutMs, requestTimeoutMs } = config.http;
  if (headersTimeoutMs > 0 && requestTimeoutMs > 0 && headersTimeoutMs > requestTimeoutMs) {
    // Node's server refuses it ("headersTimeout … must be <= requestTimeout"): the headers are part of the request.
    problems.push({
      field: "SHMHUNT_HEADERS_TIMEOUT",
      message: `must not be longer than SHMHUNT_REQUEST_TIMEOUT (${text("SHMHUNT_HEADERS_TIMEOUT") ?? "10s"} > ${text("SHMHUNT_REQUEST_TIMEOUT") ?? "2m"}): the headers are part of the request`,
    });
  }
  if (problems.length > 0) {
    throw new DiagnosticError(
      problems.map(({ field, message }) => ({
        code: Codes.SvcConfig,
        severity: "error" as const,
        message,
        field: givenAs[field] ?? field,
      })),
    );
  }
  return config;
}

/**
 * Azure Storage for state (Table) and samples (Blob): a connection string (Azurite, development), or an account
 * name / service URLs reached with the app's managed identity (production: no keys anywhere).
 */
function storageAccess(
  text: (name: string) => string | undefined,
  url: (name: string) => string | undefined,
  managedIdentityClientId: string | undefined,
  problem: (field: string, message: string) => void,
): { table?: AzureStorageAccess; blob?: AzureStorageAccess } {
  const connectionString = text("SHMHUNT_STORAGE_CONNECTION_STRING");
  if (connectionString) {
    // `Key=Value` pairs separated by `;` (the SDKs' own parser fails on anything else with a TypeError naming
    // nothing). The value holds a secret: the message does not repeat it.
    const pairs = connectionString.split(";").filter((part) => part.trim() !== "");
    if (pairs.length === 0 || pairs.some((part) => !/^\s*[A-Za-z]+\s*=/.test(part))) {
      problem(
        "SHMHUNT_STORAGE_CONNECTION_STRING",
        "must be an Azure Storage connection string, `Key=Value` pairs separated by `;` (e.g. UseDevelopmentStorage=true)",
      );
    }
    return { table: { connectionString }, blob: { connectionString } };
  }
  const account = text("SHMHUNT_STORAGE_ACCOUNT");
  // Azure's rule for a storage account's name, which is also its URLs' first label.
  if (account !== undefined && !/^[a-z0-9]{3,24}$/.test(account)) {
    problem(
      "SHMHUNT_STORAGE_ACCOUNT",
      `must be a storage account name (3 to 24 digits and lower-case letters), not ${JSON.stringify(account.slice(0, 100))}`,
    );
  }
  const tableUrl = url("SHMHUNT_TABLE_URL") ?? (account ? `https://${account}.table.core.windows.net` : undefined);
  const blobUrl = url("SHMHUNT_BLOB_URL") ?? (account ? `https://${account}.blob.core.windows.net` : undefined);
  const id = managedIdentityClientId ? { managedIdentityClientId } : {};
  return {
    ...(tableUrl ? { table: { url: tableUrl, ...id } } : {}),
    ...(blobUrl ? { blob: { url: blobUrl, ...id } } : {}),
  };
}

/** The configuration as it may be logged or shown: secrets (API keys, connection strings) replaced. */
export function redactedConfig(config: ServiceConfig): Record<string, unknown> {
  const redactAccess = (location: StateLocation | SampleLocation) =>
    location.kind === "local"
      ? location
      : {
          ...location,
          access: "connectionString" in location.access ? { connectionString: "[redacted]" } : location.access,
        };
  return {
    ...config,
    apiKeys: config.apiKeys.map(() => "[redacted]"),
    state: redactAccess(config.state),
    samples: redactAccess(config.samples),
  };
}
