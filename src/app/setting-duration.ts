/**
 * A duration as the settings take it (SHMHUNT_HUNT_TICK, SHMHUNT_SCAN_TIMEOUT, …), in a module of its own: the
 * configuration reads every duration setting with it, and a command's option that stands for a setting reads its
 * value with it too (`shmhunt scan --timeout`, SHMHUNT_SCAN_TIMEOUT), without loading the configuration.
 */
import { parseDuration } from "../rules/durations.js";
import { SCAN_POOL_LIMITS, SCAN_TIMEOUT_GRANULARITY_MS, TIMER_MAX_MS } from "../yara/limits.js";

export interface DurationBounds {
  /** A duration a Node timer waits for: at most `max` (TIMER_MAX_MS unless given). */
  readonly timer?: boolean;
  readonly max?: number;
  /** A whole number alone is milliseconds (a command's option that took milliseconds before it took durations). */
  readonly bareMilliseconds?: boolean;
  /** `0` is refused, for this reason (a setting where 0 cannot mean "off", as it does for the other timeouts). */
  readonly zeroRefused?: string;
  /** A duration that is not a whole number of seconds is refused, for this reason (rather than rounded up). */
  readonly wholeSeconds?: string;
}

/**
 * SHMHUNT_SCAN_TIMEOUT's bounds, and so `shmhunt scan --timeout`'s (with bare milliseconds): a Node timer (the
 * worker's kill timer, SCAN_POOL_LIMITS.maxTimeoutMs), and never 0. Elsewhere `0` disables a timeout (docs/service.md,
 * HTTP timeouts; SHMHUNT_HUNT_TICK), but a scan always has one: 0 reached YARA-X as its shortest, 1 s (it checks once a
 * second), and left a worker 5 s before it was killed. And whole seconds (SCAN_TIMEOUT_GRANULARITY_MS): YARA-X counts
 * the timeout in whole seconds, so `--timeout 500` ran as 1 s and `1500` as 2 s without a word; refused, naming why,
 * as a user who asks for half a second expects that or an error, not twice as long.
 */
export const SCAN_TIMEOUT_BOUNDS: DurationBounds = {
  timer: true,
  max: SCAN_POOL_LIMITS.maxTimeoutMs,
  zeroRefused: "a scan always has a timeout (0 does not turn it off; the shortest is 1s)",
  wholeSeconds:
    "YARA-X counts a scan's timeout in whole seconds (it checks it once a second; the shortest is 1s, or 1000)",
};

/**
 * `text` in milliseconds: `0`, or a whole number and a unit, s, m, h or d (`30s`, `5m`, `24h`: parseDuration, the
 * rules' own). Or what is wrong with it, worded to follow the name of the setting or option it was given as.
 */
export function readDuration(
  text: string,
  bounds: DurationBounds = {},
): { readonly ms: number } | { readonly problem: string } {
  const ms = text === "0" ? 0 : bounds.bareMilliseconds && /^[0-9]+$/.test(text) ? Number(text) : parseDuration(text);
  if (ms === undefined) {
    const such = `a duration such as "5m" or "24h"`;
    return {
      problem: `must be ${bounds.bareMilliseconds ? `whole milliseconds or ${such}` : such}, not ${JSON.stringify(text)}`,
    };
  }
  if (ms === 0 && bounds.zeroRefused !== undefined) {
    return { problem: `must be more than 0: ${bounds.zeroRefused}, not ${JSON.stringify(text)}` };
  }
  if (bounds.timer && ms > (bounds.max ?? TIMER_MAX_MS)) {
    return { problem: `must be at most 24d (a timer of Node's holds 2^31-1 ms), not ${JSON.stringify(text)}` };
  }
  if (bounds.wholeSeconds !== undefined && ms % SCAN_TIMEOUT_GRANULARITY_MS !== 0) {
    return { problem: `must be whole seconds: ${bounds.wholeSeconds}, not ${JSON.stringify(text)}` };
  }
  return { ms };
}
