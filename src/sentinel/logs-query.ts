/**
 * Runs a hunt's KQL over one time window through the Logs query API (@azure/monitor-query-logs).
 *
 * The SDK's pipeline already retries 429 (honouring Retry-After) and 5xx. On top of that:
 * - a partial result (HTTP 200 with an `error` member) is not a result: the window is retried with backoff, and if
 *   it stays partial the run fails for this window, so the checkpoint does not move and the next run redoes it;
 * - a failure that survived the SDK's retries is retried here a few times more with backoff;
 * - every attempt is reported, so a caller can log what happened.
 */
import type { LogsQueryClient, LogsTable } from "@azure/monitor-query-logs";
import { keepsIngestionTime } from "./ingestion-time.js";

/**
 * The time a hunt query covers. Without `eventStart`: rows whose event time (TimeGenerated) is in [start, end).
 * With it: rows that ARRIVED in [start, end] (`ingestion_time()`), whose event time is in [eventStart, end), when the
 * query keeps its table's ingestion time (ingestion-time.ts); otherwise [start, end) on event time, as without.
 */
export interface QueryWindow {
  readonly start: Date;
  readonly end: Date;
  readonly eventStart?: Date;
}

/**
 * The query limited to rows ingested in [start, end] (both ends: a row that arrived at the very instant a run starts
 * is seen by that run and by the next, and settled once by its hit key): the filter is appended to the query (what
 * the rule's query yields keeps the table's ingestion time through where/extend). The event-time bound is the Logs
 * API `timespan`.
 */
function ingestionWindowQuery(query: string, window: QueryWindow): string {
  const at = (d: Date) => `datetime(${d.toISOString()})`;
  return `${query.trimEnd().replace(/;+$/, "")}\n| where ingestion_time() >= ${at(window.start)} and ingestion_time() <= ${at(window.end)}`;
}

export type Row = Readonly<Record<string, unknown>>;

interface QueryAttempt {
  readonly attempt: number;
  readonly outcome: "success" | "partial" | "error";
  readonly message?: string;
}

export type QueryOutcome =
  | { readonly ok: true; readonly rows: readonly Row[]; readonly attempts: readonly QueryAttempt[] }
  | { readonly ok: false; readonly error: string; readonly attempts: readonly QueryAttempt[] };

/** What the hunt needs from any query backend (Log Analytics, the emulator, or the local workspace engine). */
export interface QueryRunner {
  run(query: string, window: QueryWindow): Promise<QueryOutcome>;
}

interface RetryOptions {
  /** Attempts in all, including the first. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The runner's own retries of a query (on top of the SDK pipeline's): the hunt's timer must outlast them. */
export const DEFAULT_QUERY_RETRY: RetryOptions = { attempts: 4, baseDelayMs: 1_000, maxDelayMs: 30_000 };

export class LogAnalyticsQueryRunner implements QueryRunner {
  constructor(
    private readonly client: LogsQueryClient,
    private readonly workspaceId: string,
    private readonly options: { readonly serverTimeoutSeconds: number; readonly retry?: RetryOptions } = {
      serverTimeoutSeconds: 120,
    },
  ) {}

  run(query: string, window: QueryWindow): Promise<QueryOutcome> {
    return withRetry(async () => {
      const onIngestion = window.eventStart !== undefined && keepsIngestionTime(query);
      const result = await this.client.queryWorkspace(
        this.workspaceId,
        onIngestion ? ingestionWindowQuery(query, window) : query,
        { startTime: onIngestion ? (window.eventStart ?? window.start) : window.start, endTime: window.end },
        { serverTimeoutInSeconds: this.options.serverTimeoutSeconds },
      );
      if (result.status === "PartialFailure") {
        return { partial: `${result.partialError.code}: ${result.partialError.message}` };
      }
      return { rows: rowsOf(result.tables[0]) };
    }, this.options.retry ?? DEFAULT_QUERY_RETRY);
  }
}

/** Runs `attempt` until it yields rows, retrying partial results and thrown errors with exponential backoff. */
export async function withRetry(
  attempt: () => Promise<{ rows: readonly Row[] } | { partial: string }>,
  options: RetryOptions,
): Promise<QueryOutcome> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const attempts: QueryAttempt[] = [];
  let lastError = "no attempt made";
  for (let n = 1; n <= options.attempts; n++) {
    try {
      const result = await attempt();
      if ("rows" in result) {
        attempts.push({ attempt: n, outcome: "success" });
        return { ok: true, rows: result.rows, attempts };
      }
      lastError = `partial result: ${result.partial}`;
      attempts.push({ attempt: n, outcome: "partial", message: result.partial });
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
      attempts.push({ attempt: n, outcome: "error", message: lastError });
      if (!isRetriable(error)) break;
    }
    if (n < options.attempts) await sleep(Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (n - 1)));
  }
  return { ok: false, error: lastError, attempts };
}

/** Bad requests (a query that does not compile, a missing table) are not worth retrying. */
function isRetriable(error: unknown): boolean {
  const status = (error as { statusCode?: number }).statusCode;
  return status === undefined || status === 408 || status === 429 || status >= 500;
}

/** A result table as objects keyed by column name. */
export function rowsOf(table: LogsTable | undefined): Row[] {
  if (!table) return [];
  const names = table.columnDescriptors.map((c, i) => c.name ?? `Column${i + 1}`);
  return table.rows.map((values) => Object.fromEntries(names.map((name, i) => [name, values[i] ?? null])));
}
