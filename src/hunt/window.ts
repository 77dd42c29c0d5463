/**
 * When a rule is due and which window its run covers. Pure: the clock is an argument.
 *
 * A run's window ends at `now` and reaches back `lookback` (9 minutes for a 5-minute interval, so consecutive
 * windows overlap by 4 minutes). After missed runs (a failure, a stopped host) the window reaches back to the last
 * completed window end, minus the same overlap, so no time range is skipped; only beyond `maxCatchUpMs` is the start
 * clamped, and then the uncovered range is reported as a gap.
 *
 * The window is on INGESTION time (`ingestion_time()`, when Log Analytics received the row), as Elastic's rules say
 * `timestamp_override = "event.ingested"`: a row that arrives minutes after its event time is in the window in which
 * it arrived, so no row is lost however late it is, as long as its event time is within the event-time bound
 * (`eventStart` = window start − lookback, kept as a filter so a query never scans the whole table). A row seen by
 * two overlapping windows has the same hit key (hit-key.ts) and is settled once. Query backends without ingestion
 * times (the local workspace engine) read [start, end) as event time, as before.
 */
import type { Checkpoint, HuntRule, Window } from "./types.js";

export interface PlannedWindow {
  readonly window: Window;
  /** A range that will not be covered because it is older than the catch-up limit. */
  readonly gap?: Window;
}

/** A timer firing a little early must not skip a run: a rule is due within 10% (≤ 30 s) of its interval. */
export function dueSlackMs(rule: Pick<HuntRule, "intervalMs">): number {
  return Math.min(30_000, Math.floor(rule.intervalMs / 10));
}

export function isDue(rule: Pick<HuntRule, "intervalMs">, checkpoint: Checkpoint | undefined, now: Date): boolean {
  if (!checkpoint) return true;
  return now.getTime() - Date.parse(checkpoint.end) >= rule.intervalMs - dueSlackMs(rule);
}

export function planWindow(
  rule: Pick<HuntRule, "intervalMs" | "lookbackMs">,
  checkpoint: Checkpoint | undefined,
  now: Date,
  maxCatchUpMs: number,
): PlannedWindow {
  const end = now.getTime();
  let start = end - rule.lookbackMs;
  if (checkpoint) {
    const overlap = Math.max(0, rule.lookbackMs - rule.intervalMs);
    start = Math.min(start, Date.parse(checkpoint.end) - overlap);
  }
  const earliest = end - Math.max(maxCatchUpMs, rule.lookbackMs);
  if (start < earliest) {
    return {
      window: onIngestionTime(earliest, now, rule.lookbackMs),
      gap: { start: new Date(start), end: new Date(earliest) },
    };
  }
  return { window: onIngestionTime(start, now, rule.lookbackMs) };
}

/** A window on ingestion time [start, now), its event-time bound one lookback before its start. */
function onIngestionTime(start: number, now: Date, lookbackMs: number): Window {
  return { start: new Date(start), end: now, eventStart: new Date(start - lookbackMs) };
}
