/**
 * The Log Analytics query API: `POST /v1/workspaces/{id}/query` and `POST /v1/$batch`. Queries run in the
 * emulator's engine over the workspace's tables; the body's `timespan` limits every table to rows whose
 * `TimeGenerated` falls in the interval (start included, end excluded); `Prefer: wait=N` is the server timeout (504 past it);
 * errors and partial results have the service's shapes (logs.query.json).
 */
import type { Fault } from "../faults.js";
import { parseTimespan } from "../iso8601.js";
import { type QueryEngine, type QueryProblem, QueryProblemError } from "../query-engine.js";
import type { EmulatorState } from "../state.js";
import { encodeRow } from "./encode.js";

export interface LogsReply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface LogsContext {
  readonly state: EmulatorState;
  readonly engine: QueryEngine;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
}

/** The default and the maximum of `Prefer: wait` (seconds), as the service documents. */
const DEFAULT_WAIT_SECONDS = 180;
const MAX_WAIT_SECONDS = 600;

export function logsError(status: number, code: string, message: string, innererror?: unknown): LogsReply {
  return { status, body: { error: { message, code, ...(innererror ? { innererror } : {}) } } };
}

/** The reply a fault forces instead of the normal answer, if it is one of those (throttle, status, 504). */
export async function faultReply(
  fault: Fault | undefined,
  sleep: (ms: number) => Promise<void>,
): Promise<LogsReply | undefined> {
  if (!fault) return undefined;
  switch (fault.kind) {
    case "throttle": {
      const seconds = fault.retryAfterSeconds ?? 1;
      return {
        ...logsError(429, "ThrottledError", `Too many requests. Retry after ${seconds} seconds.`),
        headers: { "retry-after": String(seconds) },
      };
    }
    case "status":
      return logsError(
        fault.status,
        fault.code ?? (fault.status === 503 ? "ServiceUnavailableError" : "InternalServerError"),
        fault.message ?? "The emulator was told to fail this request.",
      );
    case "gatewayTimeout":
      await sleep(fault.delayMs);
      return gatewayTimeout();
    default:
      return undefined;
  }
}

function gatewayTimeout(): LogsReply {
  return logsError(504, "GatewayTimeout", "The query did not complete within the server timeout (Prefer: wait).");
}

export function preferWaitSeconds(prefer: string | undefined): number {
  const match = /(?:^|[,;\s])wait=(\d+)/i.exec(prefer ?? "");
  const wait = match ? Number(match[1]) : DEFAULT_WAIT_SECONDS;
  return Math.min(wait, MAX_WAIT_SECONDS);
}

export interface QueryCall {
  readonly workspaceId: string;
  readonly body: unknown;
  readonly prefer: string | undefined;
  /** A slow or partial fault for this query, if armed. */
  readonly fault: Fault | undefined;
}

export async function runQuery(call: QueryCall, context: LogsContext): Promise<LogsReply> {
  const workspace = context.state.findByLogsId(call.workspaceId);
  if (!workspace)
    return logsError(404, "WorkspaceNotFoundError", `The workspace ${call.workspaceId} could not be found.`);
  const body = call.body as { query?: unknown; timespan?: unknown; workspaces?: unknown } | undefined;
  if (typeof body?.query !== "string" || body.query.trim() === "") {
    return logsError(400, "BadArgumentError", "The request had some invalid properties", {
      code: "QueryValidationError",
      message: "The query is missing or empty.",
    });
  }
  if (Array.isArray(body.workspaces) && body.workspaces.length > 0) {
    return logsError(400, "BadArgumentError", "The request had some invalid properties", {
      code: "NotSupported",
      message: "The shmhunt emulator does not run cross-workspace queries ('workspaces').",
    });
  }
  const now = context.now();
  let interval: { start: Date; end: Date } | undefined;
  if (body.timespan !== undefined && body.timespan !== null) {
    interval = typeof body.timespan === "string" ? parseTimespan(body.timespan, now) : undefined;
    if (!interval) {
      return logsError(400, "BadArgumentError", "The request had some invalid properties", {
        code: "InvalidTimespan",
        message: `The timespan '${String(body.timespan)}' is not a valid ISO 8601 duration or interval.`,
      });
    }
  }
  const waitMs = preferWaitSeconds(call.prefer) * 1000;
  if (call.fault?.kind === "slow") {
    if (call.fault.delayMs > waitMs) {
      await context.sleep(waitMs);
      return gatewayTimeout();
    }
    await context.sleep(call.fault.delayMs);
  }
  const started = Date.now();
  let run: Awaited<ReturnType<QueryEngine["run"]>>;
  try {
    // the engine's own run time counts against Prefer: wait too (what is left of it after a slow fault)
    const budget = waitMs - (call.fault?.kind === "slow" ? call.fault.delayMs : 0);
    const outcome = await withinBudget(context.engine.run(body.query, workspace, { interval, now }), budget);
    if (outcome === "timeout") return gatewayTimeout();
    run = outcome;
  } catch (error) {
    if (error instanceof QueryProblemError) return problemReply(error.problem);
    throw error;
  }
  let tables = run.tables.map((t) => ({
    name: t.name,
    columns: t.columns.map((c) => ({ name: c.name, type: c.type })),
    rows: t.rows.map((row) => encodeRow(row, t.columns)),
  }));
  const result: Record<string, unknown> = {};
  if (call.fault?.kind === "partial") {
    const keep = call.fault.keepRows ?? Number.POSITIVE_INFINITY;
    tables = tables.map((t) => ({ ...t, rows: t.rows.slice(0, keep) }));
    result.error = partialError(
      call.fault.message ??
        `The results of this query exceed the set limit of ${Number.isFinite(keep) ? keep : 0} records.`,
    );
  }
  result.tables = tables;
  if (/include-statistics=true/i.test(call.prefer ?? "")) {
    result.statistics = {
      query: {
        executionTime: (Date.now() - started) / 1000,
        datasetStatistics: tables.map((t) => ({ tableRowCount: t.rows.length })),
      },
    };
  }
  return { status: 200, body: reorder(result) };
}

/** The promise's value, or "timeout" if it takes longer than `ms` (the work itself is not cancelled). */
async function withinBudget<T>(work: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), Math.max(0, ms));
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `tables` first, then `statistics`, then `error`, as the service writes them. */
function reorder(result: Record<string, unknown>): Record<string, unknown> {
  const { tables, statistics, error } = result;
  return { tables, ...(statistics ? { statistics } : {}), ...(error ? { error } : {}) };
}

function partialError(message: string): unknown {
  return {
    code: "PartialError",
    message: "There were some errors when processing your query.",
    details: [
      {
        code: "EngineError",
        message: "Something went wrong processing your query on the server.",
        innererror: { code: "-2133196797", message, severity: 2, severityName: "Error" },
      },
    ],
  };
}

export function problemReply(problem: QueryProblem): LogsReply {
  const location = problem.line !== undefined ? { line: problem.line, pos: problem.pos, token: problem.token } : {};
  const middle =
    problem.kind === "syntax"
      ? { code: "SyntaxError", message: "A recognition error occurred in the query." }
      : problem.kind === "unsupported"
        ? { code: "NotSupported", message: "The shmhunt emulator's engine does not support a part of this query." }
        : { code: "SemanticError", message: "A semantic error occurred." };
  return logsError(400, "BadArgumentError", "The request had some invalid properties", {
    ...middle,
    innererror: { code: problem.code, message: problem.message, ...location },
  });
}

interface BatchRequest {
  readonly id?: unknown;
  readonly path?: unknown;
  readonly method?: unknown;
  readonly workspace?: unknown;
  readonly body?: unknown;
  readonly headers?: Record<string, unknown>;
}

/**
 * `$batch`: each request runs like a single query; inner faults are taken per request (path
 * `/v1/workspaces/{id}/query`), so a test can fail or slow one query of a batch.
 */
export async function runBatch(
  body: unknown,
  context: LogsContext,
  takeFault: (path: string) => Fault | undefined,
): Promise<LogsReply> {
  const requests = (body as { requests?: unknown } | undefined)?.requests;
  if (!Array.isArray(requests) || requests.length === 0) {
    return logsError(400, "BadArgumentError", "The request had some invalid properties", {
      code: "InvalidBatchRequest",
      message: "'requests' must be a non-empty array.",
    });
  }
  const responses = await Promise.all(
    (requests as BatchRequest[]).map(async (request) => {
      const id = String(request.id ?? "");
      if (request.path !== "/query" || String(request.method ?? "POST").toUpperCase() !== "POST") {
        return {
          id,
          status: 404,
          body: logsError(404, "PathNotFoundError", `The requested path '${String(request.path)}' does not exist`).body,
        };
      }
      const workspaceId = String(request.workspace ?? "");
      const fault = takeFault(`/v1/workspaces/${workspaceId}/query`);
      const forced = await faultReply(fault, context.sleep);
      const prefer =
        typeof request.headers?.prefer === "string"
          ? request.headers.prefer
          : (request.headers?.Prefer as string | undefined);
      const reply = forced ?? (await runQuery({ workspaceId, body: request.body, prefer, fault }, context));
      return { id, status: reply.status, body: reply.body, ...(reply.headers ? { headers: reply.headers } : {}) };
    }),
  );
  return { status: 200, body: { responses } };
}
