/**
 * Azure Resource Manager's asynchronous operations, for the calls the SDK client does not know are long-running: at
 * API 2025-12-01 a watchlist's create answers 201 and its delete 202, each naming an operation to follow in an
 * `Azure-AsyncOperation` header (Watchlists.json: `x-ms-long-running-operation`, `final-state-via:
 * azure-async-operation`), where @azure/arm-securityinsight 1.0.0-beta.6, written for 2022-09-01-preview, expects
 * a plain answer. The operation's URL is read until its `status` is terminal: `Succeeded`, or `Failed` / `Canceled`
 * (an error naming the operation), as ARM's asynchronous operation protocol defines them; every request goes
 * through the client's own pipeline (credential, retries, TLS).
 */
import { createPipelineRequest, type PipelineResponse } from "@azure/core-rest-pipeline";

/** What the client sends requests with: @azure/arm-securityinsight's client is one. */
export interface RequestSender {
  sendRequest(request: ReturnType<typeof createPipelineRequest>): Promise<PipelineResponse>;
}

export interface AsyncOperationOptions {
  /** How long to follow the operation before giving up (default 10 minutes). */
  readonly timeoutMs?: number;
  /** Waits between two reads (tests pass their own); the service's Retry-After, else 2 s, at most 30 s. */
  readonly sleep?: (ms: number) => Promise<void>;
}

const TERMINAL_OK = "succeeded";
const TERMINAL_FAILED = new Set(["failed", "canceled", "cancelled"]);

/**
 * Follows the operation an answer's headers name (`Azure-AsyncOperation`, else `Location`) until it ends; returns
 * at once when they name none (the service answered synchronously). Throws when it failed, or ran out of time.
 */
export async function awaitAsyncOperation(
  client: RequestSender,
  headers: { get(name: string): string | undefined },
  what: string,
  options: AsyncOperationOptions = {},
): Promise<void> {
  const url = headers.get("azure-asyncoperation") ?? headers.get("location");
  if (!url) return;
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await client.sendRequest(createPipelineRequest({ url, method: "GET" }));
    if (response.status === 202 && !response.bodyAsText) {
      // A Location URL answers 202 while the operation runs, and its final answer when it is done.
    } else if (response.status >= 400) {
      throw new Error(
        `${what}: reading its operation's status failed (HTTP ${response.status}): ${response.bodyAsText ?? ""}`,
      );
    } else {
      const status = statusOf(response);
      if (status === undefined || status === TERMINAL_OK) return;
      if (TERMINAL_FAILED.has(status))
        throw new Error(`${what}: the operation ended ${status}${errorOf(response)} (${url})`);
    }
    if (Date.now() >= deadline)
      throw new Error(`${what}: the operation had not ended after ${timeoutMs / 1000} s (${url})`);
    await sleep(retryAfterMs(response));
  }
}

/** The operation's status, lower-case; undefined for an answer with no status (a Location's final resource). */
function statusOf(response: PipelineResponse): string | undefined {
  try {
    const body = JSON.parse(response.bodyAsText ?? "") as { status?: unknown };
    return typeof body.status === "string" ? body.status.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

function errorOf(response: PipelineResponse): string {
  try {
    const body = JSON.parse(response.bodyAsText ?? "") as { error?: { code?: unknown; message?: unknown } };
    return body.error ? `: ${String(body.error.code ?? "")} ${String(body.error.message ?? "")}`.trimEnd() : "";
  } catch {
    return "";
  }
}

function retryAfterMs(response: PipelineResponse): number {
  const seconds = Number(response.headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, 30) * 1000 : 2000;
}
