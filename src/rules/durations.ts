/**
 * Elastic's schedule syntax: `interval = "5m"` (how often the rule runs) and `from = "now-9m"` (how far back
 * each run looks). Units: s, m, h, d, as Kibana's date math accepts them for rules.
 */

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^([1-9][0-9]*)([smhd])$/;
const NOW_MINUS = /^now-([1-9][0-9]*)([smhd])$/;

/** Elastic's defaults when a rule omits them. */
export const DEFAULT_INTERVAL = "5m";
export const DEFAULT_FROM = "now-6m";
export const DEFAULT_MAX_SIGNALS = 100;

/** `"5m"` → 300000; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** `"now-9m"` → 540000 (the look-back in milliseconds); undefined when the text is not `now-<duration>`. */
export function parseFrom(text: string): number | undefined {
  const m = NOW_MINUS.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

export const durationCheck = (value: string) =>
  parseDuration(value) === undefined
    ? {
        message: `must be a duration such as "5m" (a positive integer and one of s, m, h, d), not ${JSON.stringify(value)}`,
      }
    : undefined;

export const fromCheck = (value: string) =>
  parseFrom(value) === undefined
    ? { message: `must be "now-" and a duration, such as "now-9m", not ${JSON.stringify(value)}` }
    : undefined;
