/**
 * The deadline of a hunt tick on a host that ends the invocation at a timeout (Azure Functions: host.json's
 * functionTimeout; the host then restarts the worker mid-run). No rule is started after it (HuntService.run, runHunts:
 * `deferred`, left to the next tick), so that the rule started just before it still has the time of one run at its
 * slowest (every attempt of its Logs query at the server timeout, with the runner's back-off between them) and the
 * settle step after the runs (the pending sweep, the broker's tick, a rescan batch) has SETTLE_MARGIN_MS. The scan
 * retries that come first in the tick keep the same deadline (`tickWithin`, the Functions timer's tick).
 */
import { DEFAULT_QUERY_RETRY } from "../sentinel/logs-query.js";
import type { Services } from "./services.js";

/** Room kept after the last rule's run for the pending sweep, the sample broker's tick and a rescan batch. */
export const SETTLE_MARGIN_MS = 5 * 60_000;

/** One rule's run at its slowest: every attempt of its query at `queryTimeoutSeconds`, and the back-off between. */
export function slowestRuleRunMs(queryTimeoutSeconds: number): number {
  let backoffMs = 0;
  for (let n = 1; n < DEFAULT_QUERY_RETRY.attempts; n++)
    backoffMs += Math.min(DEFAULT_QUERY_RETRY.maxDelayMs, DEFAULT_QUERY_RETRY.baseDelayMs * 2 ** (n - 1));
  return DEFAULT_QUERY_RETRY.attempts * queryTimeoutSeconds * 1000 + backoffMs;
}

/**
 * The last moment a rule's run may start in an invocation that began at `start` and is ended by its host after
 * `timeoutMs`: that timeout less the slowest run of one rule and the settle margin; never before `start` (a timeout
 * too short for that still runs the tick's first rule: runHunts always starts one).
 */
export function huntDeadline(start: Date, timeoutMs: number, queryTimeoutSeconds: number): Date {
  const room = timeoutMs - slowestRuleRunMs(queryTimeoutSeconds) - SETTLE_MARGIN_MS;
  return new Date(start.getTime() + Math.max(0, room));
}

/**
 * One tick of a timer whose host ends the invocation after `timeoutMs` (the Functions timer): the scan retries of
 * failed and lost scans, then the due hunts, neither started after the tick's deadline (`huntDeadline`, from the
 * services' clock as the tick starts) and no retry waiting past it for a sample's lease.
 */
export async function tickWithin(
  services: Pick<Services, "clock" | "config" | "samples" | "hunt">,
  timeoutMs: number,
): Promise<{ readonly deadline: Date; readonly report: Awaited<ReturnType<Services["hunt"]["run"]>> }> {
  const deadline = huntDeadline(services.clock(), timeoutMs, services.config.queryTimeoutSeconds);
  await services.samples.retryScans({ deadline });
  return { deadline, report: await services.hunt.run({ deadline }) };
}
