/**
 * What a scan pool can honour, in a module of its own: the configuration and the CLI read it without loading the
 * pool. Workers: each is a Node process with YARA-X loaded, all forked at once by a one-shot scan or a server's
 * warm-up (`scan --workers 1000` was still starting them after a minute). The scan timeout: the pool's kill timer
 * waits for it plus a grace (pool.ts), and a Node timer holds at most 2^31-1 ms (~24.8 days; a longer one fires
 * after 1 ms, with a TimeoutOverflowWarning each time): 24 days.
 */
/** The longest wait any timer of this service is given: a Node timer holds at most 2^31-1 ms (~24.8 days). */
export const TIMER_MAX_MS = 24 * 86_400_000;

export const SCAN_POOL_LIMITS = { maxWorkers: 64, maxTimeoutMs: TIMER_MAX_MS } as const;
