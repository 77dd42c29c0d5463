/**
 * What a scan pool can honour, in a module of its own: the configuration and the CLI read it without loading the
 * pool. Workers: each is a Node process with YARA-X loaded, all forked at once by a one-shot scan or a server's
 * warm-up (`scan --workers 1000` was still starting them after a minute). The scan timeout: the pool's kill timer
 * waits for it plus a grace (pool.ts), and a Node timer holds at most 2^31-1 ms (~24.8 days; a longer one fires
 * after 1 ms, with a TimeoutOverflowWarning each time): 24 days.
 */
/** The longest wait any timer of this service is given: a Node timer holds at most 2^31-1 ms (~24.8 days). */
export const TIMER_MAX_MS = 24 * 86_400_000;

/**
 * YARA-X counts a scan's timeout in whole seconds: its scanner checks the timeout against a counter that a thread of
 * its own increments once a second (yara-x lib/src/scanner/mod.rs, HEARTBEAT_COUNTER), rounding a fraction up, and its
 * CLI takes `--timeout <SECONDS>`. So a timeout here is whole seconds, at least one: 500 ms would run as 1 s, 1500 ms
 * as 2 s.
 */
export const SCAN_TIMEOUT_GRANULARITY_MS = 1000;

export const SCAN_POOL_LIMITS = { maxWorkers: 64, maxTimeoutMs: TIMER_MAX_MS } as const;

/** Why `timeoutMs` cannot be a scan's timeout (not whole seconds from 1 s to 24 d); undefined when it can. */
export function scanTimeoutProblem(timeoutMs: number): string | undefined {
  const seconds = timeoutMs / SCAN_TIMEOUT_GRANULARITY_MS;
  if (Number.isInteger(seconds) && seconds >= 1 && timeoutMs <= SCAN_POOL_LIMITS.maxTimeoutMs) return undefined;
  return `a scan timeout must be whole seconds, from 1 s to 24 d (YARA-X counts it in whole seconds; a timer of Node's holds at most 2^31-1 ms), got ${timeoutMs} ms`;
}
