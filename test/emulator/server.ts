/**
 * The offline Azure emulator: one fastify server over HTTPS on loopback, with a certificate made at start, serving
 * the ARM routes (saved searches, Microsoft.SecurityInsights) and the Log Analytics query API. The real SDK clients
 * talk to it with their own pipelines (bearer-token policy, retries): point them at `emulator.url` (ARM) and
 * `emulator.logsEndpoint`, trust `emulator.ca`, and use `emulator.credential`.
 */
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type RawServerBase } from "fastify";
import { handleArm } from "./arm/router.js";
import { type ArmReply, armError } from "./arm/wire.js";
import { makeCertificate } from "./certificate.js";
import { audienceOf, DEFAULT_TOKEN_KEY, LocalTokenCredential, verifyBearer } from "./credential.js";
import { DEFENDER_AUDIENCES } from "./defender/limits.js";
import { DOWNLOAD_PREFIX, handleDefender, handleDownload } from "./defender/router.js";
import { DefenderState } from "./defender/state.js";
import { type DefenderReply, defenderError, tooManyRequests } from "./defender/wire.js";
import { type Api, type Fault, FaultInjector, faultFromJson } from "./faults.js";
import { faultReply, type LogsContext, type LogsReply, logsError, runBatch, runQuery } from "./logs/query.js";
import type { QueryEngine } from "./query-engine.js";
import { findOperation, specVersion, validateRequestBody } from "./spec/validator.js";
import { EmulatorState, type Row, type WorkspaceState } from "./state.js";

export interface EmulatorOptions {
  /** Default 0 (any free port). The host is always 127.0.0.1. */
  readonly port?: number;
  /** The engine that checks and runs KQL; default: the project's (Kusto.Language + workspace engine). */
  readonly engine?: QueryEngine;
  /** Items per page of an ARM list before a `nextLink` (default 100). */
  readonly pageSize?: number;
  /** Creates the default workspace (`DEFAULT_WORKSPACE`) unless false. */
  readonly defaultWorkspace?: boolean;
  /** The key tokens are signed with (shared with `credential`). */
  readonly tokenKey?: string;
  /** Pino logging of requests (off by default in tests). */
  readonly logger?: boolean;
  /** Where to write the CA file (default: a new temp folder). */
  readonly certificateDir?: string;
  /** The emulator's clock (default: the real one): seeding times, ARM timestamps, what a query sees as now. */
  readonly now?: () => Date;
  /** How late rows arrive after their TimeGenerated, for tables without their own delay (default 3 minutes). */
  readonly ingestionDelayMs?: number;
}

export const DEFAULT_WORKSPACE = {
  subscriptionId: "00000000-0000-0000-0000-000000000000",
  resourceGroup: "rg-shmhunt",
  name: "ws-shmhunt",
  customerId: "5c0f3b0e-5b6a-4f63-9d1a-2f5c7e0a9b11",
} as const;

export interface RequestRecord {
  readonly api: Api | "control";
  readonly method: string;
  readonly path: string;
  /** The query string, without `?`. */
  readonly query: string;
  readonly status: number;
}

export interface Emulator {
  /** `https://127.0.0.1:<port>`: the ARM endpoint. */
  readonly url: string;
  /** `https://127.0.0.1:<port>/v1`: the `endpoint` option of LogsQueryClient (it appends nothing). */
  readonly logsEndpoint: string;
  /** PEM of the certificate to trust (as `ca`). */
  readonly ca: string;
  /** A file holding `ca`. */
  readonly caPath: string;
  readonly credential: LocalTokenCredential;
  readonly faults: FaultInjector;
  readonly state: EmulatorState;
  /** Defender for Endpoint: devices, files on them, file profiles, machine actions, live response timing. */
  readonly defender: DefenderState;
  /** The default workspace (throws if the emulator was started without it). */
  readonly workspace: WorkspaceState;
  /** Every request answered, in order (tests count retries with it). */
  readonly requests: RequestRecord[];
  /** Options for SecurityInsights / OperationalInsightsManagementClient: endpoint and the CA to trust. */
  armClientOptions(): { endpoint: string; tlsOptions: { ca: string } };
  /** Options for LogsQueryClient: endpoint (with /v1) and the CA to trust. */
  logsClientOptions(): { endpoint: string; tlsOptions: { ca: string } };
  close(): Promise<void>;
}

type Attached = { fault?: Fault; api?: Api | "control" };

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const certificate = await makeCertificate(options.certificateDir);
  const tokenKey = options.tokenKey ?? DEFAULT_TOKEN_KEY;
  const engine = options.engine ?? (await import("./engine.js")).createProjectEngine();
  const now = options.now ?? (() => new Date());
  const state = new EmulatorState({ clock: now, defaultIngestionDelayMs: options.ingestionDelayMs });
  const defaultWorkspace = options.defaultWorkspace === false ? undefined : state.addWorkspace(DEFAULT_WORKSPACE);
  const faults = new FaultInjector();
  const defender = new DefenderState(now);
  const requests: RequestRecord[] = [];
  const pageSize = options.pageSize ?? 100;
  const logsContext: LogsContext = { state, engine, now, sleep: (ms) => sleep(ms) };

  const app = Fastify({
    https: { key: certificate.key, cert: certificate.cert },
    logger: options.logger ?? false,
    bodyLimit: 32 * 1024 * 1024,
    forceCloseConnections: true,
  });
  const attached = new WeakMap<FastifyRequest, Attached>();
  let origin = "";

  app.addHook("onRequest", async (request, reply) => {
    const path = request.url.split("?")[0] ?? "";
    const api = apiOf(path);
    attached.set(request, { api });
    if (api === "control") return;
    // a download link is a SAS URL: its signature is the credential, not a bearer token
    const auth = path.startsWith(DOWNLOAD_PREFIX)
      ? undefined
      : checkAuth(api, request.headers.authorization, tokenKey, origin);
    if (auth) return send(reply, auth);
    const isQuery = api === "logs" && /\/query$/i.test(path);
    const fault = faults.take(
      { api, method: request.method, path },
      isQuery ? undefined : ["throttle", "status", "gatewayTimeout", "slow"],
    );
    if (!fault) return;
    if (api === "logs") {
      const forced = await faultReply(fault, (ms) => sleep(ms));
      if (forced) return send(reply, forced);
      if (isQuery) attached.set(request, { api, fault });
      else if (fault.kind === "slow") await sleep(fault.delayMs);
      return;
    }
    const forced =
      api === "defender"
        ? await defenderFaultReply(fault, path.startsWith(DOWNLOAD_PREFIX))
        : await armFaultReply(fault);
    if (forced) return send(reply, forced);
  });

  // recorded before the bytes leave, so a client that has its answer always finds it in `requests`
  app.addHook("onSend", async (request, reply, payload) => {
    requests.push({
      api: attached.get(request)?.api ?? "arm",
      method: request.method,
      path: request.url.split("?")[0] ?? "",
      query: request.url.includes("?") ? request.url.slice(request.url.indexOf("?") + 1) : "",
      status: reply.statusCode,
    });
    return payload;
  });

  app.post("/v1/workspaces/:workspaceId/query", async (request, reply) => {
    const judged = judgeLogsBody(request.method, request.url, request.body);
    if (judged) return send(reply, judged);
    const { workspaceId } = request.params as { workspaceId: string };
    const fault = attached.get(request)?.fault;
    const prefer = headerText(request.headers.prefer);
    return send(reply, await runQuery({ workspaceId, body: request.body, prefer, fault }, logsContext));
  });

  // Query_Get: the query and timespan as URL parameters
  app.get("/v1/workspaces/:workspaceId/query", async (request, reply) => {
    const { workspaceId } = request.params as { workspaceId: string };
    const { query, timespan } = request.query as { query?: string; timespan?: string };
    const body = { query, ...(timespan ? { timespan } : {}) };
    const fault = attached.get(request)?.fault;
    const prefer = headerText(request.headers.prefer);
    return send(reply, await runQuery({ workspaceId, body, prefer, fault }, logsContext));
  });

  app.post("/v1/$batch", async (request, reply) => {
    const judged = judgeLogsBody(request.method, request.url, request.body);
    if (judged) return send(reply, judged);
    const take = (path: string) => faults.take({ api: "logs", method: "POST", path });
    return send(reply, await runBatch(request.body, logsContext, take));
  });

  // queryResource: `/v1/{workspace resource id}/query` (the SDK writes `/v1//subscriptions/...`)
  app.all("/v1/*", async (request, reply) => {
    const path = (request.url.split("?")[0] ?? "").replace(/\/{2,}/g, "/").replace(/^\/v1/, "");
    if (request.method !== "POST" || !/^\/subscriptions\/.+\/query$/i.test(path)) {
      return send(reply, logsError(404, "PathNotFoundError", "The requested path does not exist"));
    }
    const workspaceId = decodeURIComponent(path.replace(/\/query$/i, ""));
    const fault = attached.get(request)?.fault;
    const prefer = headerText(request.headers.prefer);
    return send(reply, await runQuery({ workspaceId, body: request.body, prefer, fault }, logsContext));
  });

  app.all("/subscriptions/*", async (request, reply) => {
    const url = new URL(request.url, origin);
    const result = handleArm(
      { method: request.method, url, headers: request.headers, body: request.body },
      { state, engine, pageSize, now },
    );
    return send(reply, result);
  });

  // Both spellings of the Defender API prefix go to one handler.
  const defenderRoute = async (request: FastifyRequest, reply: FastifyReply) =>
    send(
      reply,
      handleDefender(
        { method: request.method, url: new URL(request.url, origin), body: request.body },
        { state: defender, origin },
      ),
    );
  app.all("/api/*", defenderRoute);
  app.all("/API/*", defenderRoute);
  app.get(`${DOWNLOAD_PREFIX}*`, async (request, reply) =>
    send(reply, handleDownload(new URL(request.url, origin), defender)),
  );

  registerControlRoutes(app as unknown as FastifyInstance<RawServerBase>, state, faults);
  registerDefenderControlRoutes(app as unknown as FastifyInstance<RawServerBase>, defender);

  app.setNotFoundHandler(async (request, reply) =>
    send(reply, armError(404, "NotFound", `No route for ${request.method} ${request.url} in the shmhunt emulator.`)),
  );
  app.setErrorHandler(async (error: Error & { statusCode?: number }, _request, reply) => {
    const status = typeof error.statusCode === "number" && error.statusCode < 500 ? error.statusCode : 500;
    return send(reply, armError(status, status === 500 ? "InternalServerError" : "BadRequest", error.message));
  });

  await app.listen({ port: options.port ?? 0, host: "127.0.0.1" });
  const port = (app.server.address() as AddressInfo).port;
  origin = `https://127.0.0.1:${port}`;

  return {
    url: origin,
    logsEndpoint: `${origin}/v1`,
    ca: certificate.cert,
    caPath: certificate.caPath,
    credential: new LocalTokenCredential({ key: tokenKey }),
    faults,
    state,
    defender,
    get workspace(): WorkspaceState {
      if (!defaultWorkspace) throw new Error("the emulator was started without its default workspace");
      return defaultWorkspace;
    },
    requests,
    armClientOptions: () => ({ endpoint: origin, tlsOptions: { ca: certificate.cert } }),
    logsClientOptions: () => ({ endpoint: `${origin}/v1`, tlsOptions: { ca: certificate.cert } }),
    close: () => app.close(),
  };
}

/** The Log Analytics spec (v1) judges a query or batch body: 400 BadArgumentError with its findings. */
function judgeLogsBody(method: string, url: string, body: unknown): LogsReply | undefined {
  const spec = specVersion("LogAnalytics", "v1");
  const operation = spec && findOperation(spec, method, url.split("?")[0] ?? "");
  if (!operation) return undefined;
  const finding = validateRequestBody(operation, body);
  if (finding.ok) return undefined;
  return logsError(400, "BadArgumentError", "The request had some invalid properties", {
    code: "InvalidRequestBody",
    message: finding.errors.join("; "),
  });
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(",") : value;
}

/** Which API a path belongs to: Logs (`/v1/`), control (`/_emulator/`), Defender (`/api/`, its links), else ARM. */
function apiOf(path: string): Api | "control" {
  if (path.startsWith("/v1/")) return "logs";
  if (path.startsWith("/_emulator/")) return "control";
  if (/^\/api\//i.test(path) || path.startsWith(DOWNLOAD_PREFIX)) return "defender";
  return "arm";
}

async function send(reply: FastifyReply, result: ArmReply | LogsReply | DefenderReply): Promise<FastifyReply> {
  reply.code(result.status);
  reply.header("x-ms-request-id", randomUUID());
  reply.header("x-ms-correlation-request-id", randomUUID());
  for (const [name, value] of Object.entries(result.headers ?? {})) reply.header(name, value);
  if ("raw" in result && result.raw) {
    reply.type(result.raw.contentType);
    return reply.send(result.raw.data);
  }
  if (result.body === undefined) return reply.send();
  reply.type("application/json; charset=utf-8");
  return reply.send(JSON.stringify(result.body));
}

const ARM_AUDIENCES = ["https://management.azure.com", "https://management.core.windows.net"];
const LOGS_AUDIENCES = ["https://api.loganalytics.io"];
const AUDIENCES: Record<Api, readonly string[]> = {
  arm: ARM_AUDIENCES,
  logs: LOGS_AUDIENCES,
  defender: DEFENDER_AUDIENCES,
};

/** ARM's and Log Analytics' 401s: no token, a token the emulator did not sign, an expired one, a wrong audience. */
function checkAuth(api: Api, header: string | undefined, key: string, origin: string): ArmReply | undefined {
  const check = verifyBearer(header, key);
  const challenge = (description: string) => ({
    "www-authenticate": `Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="${description}"`,
  });
  if (!check.ok) {
    const [code, message] =
      check.reason === "missing"
        ? ["AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."]
        : check.reason === "expired"
          ? ["ExpiredAuthenticationToken", "The access token expiry UTC time is earlier than current UTC time."]
          : ["InvalidAuthenticationToken", "The access token is invalid."];
    if (api === "logs") {
      return {
        ...logsError(401, "AuthorizationRequiredError", "Valid authentication was not provided"),
        headers: challenge(message),
      };
    }
    // common-errors: Unauthorized (401) "Unauthorized (invalid or expired authorization header)."
    if (api === "defender") return { ...defenderError("Unauthorized", message), headers: challenge(message) };
    return { ...armError(401, code, message), headers: challenge(message) };
  }
  const audience = audienceOf(check.claims.aud).replace(/\/$/, "");
  const allowed = [origin, `${origin}/v1`, ...AUDIENCES[api]];
  if (!allowed.includes(audience)) {
    const message = `The access token has been obtained for wrong audience or resource '${check.claims.aud}'.`;
    if (api === "logs") return { ...logsError(401, "InvalidTokenError", message), headers: challenge(message) };
    if (api === "defender") return { ...defenderError("Unauthorized", message), headers: challenge(message) };
    return { ...armError(401, "InvalidAuthenticationTokenAudience", message), headers: challenge(message) };
  }
  return undefined;
}

/**
 * An injected fault on a Defender route, in Defender's error shape (common-errors); on a download link (a blob SAS
 * URL, api/get-live-response-result), in Azure Storage's: an XML `<Error><Code>` body and the `x-ms-error-code`
 * header, as `expiredSas` answers.
 */
async function defenderFaultReply(fault: Fault, download: boolean): Promise<DefenderReply | undefined> {
  switch (fault.kind) {
    case "throttle":
      return tooManyRequests(fault.retryAfterSeconds ?? 1, "The request was throttled (injected fault).");
    case "status": {
      const message = fault.message ?? "The emulator was told to fail this request.";
      if (download) {
        const code = fault.code ?? "InternalError";
        const xml = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
        return {
          status: fault.status,
          raw: { contentType: "application/xml", data: Buffer.from(xml, "utf8") },
          headers: { "x-ms-error-code": code },
        };
      }
      return {
        status: fault.status,
        body: { error: { code: fault.code ?? "InternalServerError", message, target: randomUUID() } },
      };
    }
    case "gatewayTimeout": {
      await sleep(fault.delayMs);
      const message = "The gateway did not receive a response within the specified time period.";
      return { status: 504, body: { error: { code: "GatewayTimeout", message, target: randomUUID() } } };
    }
    case "slow":
      await sleep(fault.delayMs);
      return undefined;
    default:
      return undefined;
  }
}

async function armFaultReply(fault: Fault): Promise<ArmReply | undefined> {
  switch (fault.kind) {
    case "throttle": {
      const seconds = fault.retryAfterSeconds ?? 1;
      return {
        ...armError(429, "TooManyRequests", `The request was throttled. Retry after ${seconds} seconds.`),
        headers: { "retry-after": String(seconds) },
      };
    }
    case "status":
      return armError(
        fault.status,
        fault.code ?? "InternalServerError",
        fault.message ?? "The emulator was told to fail this request.",
      );
    case "gatewayTimeout":
      await sleep(fault.delayMs);
      return armError(
        504,
        "GatewayTimeout",
        "The gateway did not receive a response within the specified time period.",
      );
    case "slow":
      await sleep(fault.delayMs);
      return undefined;
    default:
      return undefined;
  }
}

/** `/_emulator/...`: faults and table rows over HTTP, for `npm run emulator` (tests use the objects directly). */
function registerControlRoutes(app: FastifyInstance<RawServerBase>, state: EmulatorState, faults: FaultInjector): void {
  app.get("/_emulator/faults", async () => faults.pending().map((p) => ({ ...p.fault, remaining: p.remaining })));
  app.post("/_emulator/faults", async (request, reply) => {
    try {
      faults.push(faultFromJson(request.body));
    } catch (error) {
      return reply.code(400).send({ error: (error as Error).message });
    }
    return reply.code(204).send();
  });
  app.delete("/_emulator/faults", async (_request, reply) => {
    faults.clear();
    return reply.code(204).send();
  });
  app.get("/_emulator/workspaces", async () =>
    state.all().map((w) => ({
      resourceId: w.resourceId,
      customerId: w.customerId,
      tables: [...w.tables.values()].map((t) => ({ name: t.name, rows: t.rows.length })),
    })),
  );
  app.post("/_emulator/workspaces/:customerId/tables/:table", async (request, reply) => {
    const { customerId, table } = request.params as { customerId: string; table: string };
    const workspace = state.findByLogsId(customerId);
    if (!workspace) return reply.code(404).send({ error: `no workspace ${customerId}` });
    const rows = request.body;
    if (!Array.isArray(rows)) return reply.code(400).send({ error: "the body must be a JSON array of rows" });
    const seeded = workspace.seedTable(table, rows as Row[]);
    return reply.code(200).send({ name: seeded.name, rows: seeded.rows.length });
  });
}

/**
 * `/_emulator/defender/...`: devices and the files on them, for `npm run emulator` (tests use `emulator.defender`).
 * `POST machines` `{computerDnsName, online?, osPlatform?}`; `POST machines/{id}/online` `{online}`;
 * `POST machines/{id}/files` `{path, contentBase64}` or `{path, failure}`; `POST files` `{contentBase64, ...profile}`.
 */
function registerDefenderControlRoutes(app: FastifyInstance<RawServerBase>, defender: DefenderState): void {
  type Reply = { code(status: number): { send(payload: unknown): unknown } };
  const guard = async (reply: Reply, work: () => unknown) => {
    try {
      return reply.code(200).send(work() ?? {});
    } catch (error) {
      return reply.code(400).send({ error: (error as Error).message });
    }
  };
  const record = (body: unknown): Record<string, unknown> => {
    if (typeof body !== "object" || body === null || Array.isArray(body))
      throw new Error("the body must be a JSON object");
    return body as Record<string, unknown>;
  };
  const text = (value: unknown, name: string): string => {
    if (typeof value !== "string" || value === "") throw new Error(`${name} must be a non-empty string`);
    return value;
  };
  app.get("/_emulator/defender/machines", async () => [...defender.machines.values()]);
  app.post("/_emulator/defender/machines", async (request, reply) =>
    guard(reply, () => {
      const body = record(request.body);
      const osPlatform = body.osPlatform === undefined ? undefined : text(body.osPlatform, "osPlatform");
      return defender.addMachine({
        computerDnsName: text(body.computerDnsName, "computerDnsName"),
        online: body.online !== false,
        ...(osPlatform ? { osPlatform } : {}),
      });
    }),
  );
  app.post("/_emulator/defender/machines/:id/online", async (request, reply) =>
    guard(reply, () => {
      const { id } = request.params as { id: string };
      defender.setOnline(id, record(request.body).online === true);
      return defender.machine(id);
    }),
  );
  app.post("/_emulator/defender/machines/:id/files", async (request, reply) =>
    guard(reply, () => {
      const { id } = request.params as { id: string };
      const body = record(request.body);
      const filePath = text(body.path, "path");
      if (typeof body.failure === "string") defender.putDeviceFile(id, filePath, { failure: body.failure });
      else
        defender.putDeviceFile(id, filePath, {
          content: Buffer.from(text(body.contentBase64, "contentBase64"), "base64"),
        });
      return { path: filePath };
    }),
  );
  app.post("/_emulator/defender/files", async (request, reply) =>
    guard(reply, () => {
      const { contentBase64, ...profile } = record(request.body);
      const content = Buffer.from(text(contentBase64, "contentBase64"), "base64");
      return defender.addFileProfile({ ...(profile as object), content });
    }),
  );
}
