/**
 * ISO 8601 durations and intervals as the services accept them: durations `P[nW][nD][T[nH][nM][n[.f]S]]`
 * (the .NET TimeSpan forms; years and months are refused because their length is not fixed), and the Logs API's
 * `timespan` forms: `duration`, `start/end`, `start/duration`, `duration/end`.
 */

const DURATION =
  /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Milliseconds of an ISO 8601 duration, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim().toUpperCase());
  if (!match || text.trim().toUpperCase() === "P" || /T$/i.test(text.trim())) return undefined;
  const [, w, d, h, m, s] = match;
  const n = (v: string | undefined) => (v === undefined ? 0 : Number(v));
  return ((((n(w) * 7 + n(d)) * 24 + n(h)) * 60 + n(m)) * 60 + n(s)) * 1000;
}

export interface Interval {
  readonly start: Date;
  readonly end: Date;
}

function parseInstant(text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The interval a Logs API `timespan` names, relative to `now` where it is open-ended; undefined when malformed. */
export function parseTimespan(text: string, now: Date): Interval | undefined {
  const parts = text.trim().split("/");
  if (parts.length === 1) {
    const ms = parseDuration(parts[0] ?? "");
    return ms === undefined ? undefined : { start: new Date(now.getTime() - ms), end: now };
  }
  if (parts.length !== 2) return undefined;
  const [left = "", right = ""] = parts;
  const leftDate = parseInstant(left);
  const rightDate = parseInstant(right);
  if (leftDate && rightDate) return { start: leftDate, end: rightDate };
  if (leftDate) {
    const ms = parseDuration(right);
    return ms === undefined ? undefined : { start: leftDate, end: new Date(leftDate.getTime() + ms) };
  }
  if (rightDate) {
    const ms = parseDuration(left);
    return ms === undefined ? undefined : { start: new Date(rightDate.getTime() - ms), end: rightDate };
  }
  return undefined;
}
