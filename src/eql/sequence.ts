/**
 * Sequences as Elasticsearch runs them: a state machine per join key.
 *
 * - Events are read in order. An event matching the first step starts a sequence for its key; an event matching
 *   step n takes the sequence waiting after step n-1 for the same key (the most recent one: a newer sequence
 *   replaces an older one waiting at the same step). Steps are checked from last to first, so one event never
 *   moves a sequence two steps.
 * - `with maxspan`: the last event must come at most maxspan after the first one (inclusive); a sequence that
 *   would exceed it is dropped.
 * - `until`: an event matching it drops every sequence in progress for its key.
 * - `with runs=N` repeats a step N times.
 * - Join keys: the query's `by` then the step's `by`. A missing value drops the event from the step, unless the
 *   key is optional (`?field`), where null is a key value. Multi-valued keys: the event joins under each value
 *   (every combination for several keys).
 * - Missing events `![...]` (Elasticsearch's rule, by timestamp, for the same key): the sequence is found on the
 *   positive steps, then rejected when an event of a missing step in between occurs strictly between its
 *   neighbouring positive events; for leading/trailing missing steps, when the latest leading event (before the
 *   first positive one) and/or the earliest trailing event (after the last positive one) exist and the span they
 *   close (with the sequence) is within maxspan.
 * The work is linear in the number of events times steps times keys per event.
 */
import type { SequenceQuery, SequenceStep } from "./ast.js";
import type { Compiled, EqlMatch, FilterFn } from "./evaluate.js";
import type { EventRecord } from "./events.js";
import { isNumber, keyOf, type Value } from "./values.js";

interface Stage {
  readonly step: SequenceStep;
  readonly filter: FilterFn;
  readonly missing: boolean;
}

interface Partial {
  readonly events: readonly EventRecord[];
  readonly key: readonly Value[];
}

const tupleKey = (tuple: readonly Value[]) => tuple.map(keyOf).join("\u0000");

export function runSequence(query: SequenceQuery, events: readonly EventRecord[], compiled: Compiled): EqlMatch[] {
  const stages: Stage[] = [];
  for (const step of query.steps) {
    const filter = compiled.filter(step.filter);
    for (let r = 0; r < step.runs; r++) stages.push({ step, filter, missing: step.missing });
  }
  const positives = stages.filter((s) => !s.missing);
  const last = positives.length - 1;
  const maxspan = query.maxspan?.milliseconds ?? null;
  const until = query.until ? { step: query.until, filter: compiled.filter(query.until.filter) } : null;
  const keysOf = (step: SequenceStep) => [...query.by, ...step.by];

  const state = new Map<string, (Partial | undefined)[]>();
  const completed: Partial[] = [];

  for (const event of events) {
    for (let p = last; p >= 0; p--) {
      const stage = positives[p] as Stage;
      if (!stage.filter(event)) continue;
      for (const key of compiled.keyTuples(event, keysOf(stage.step))) {
        const id = tupleKey(key);
        let slots = state.get(id);
        if (p === 0) {
          const started: Partial = { events: [event], key };
          if (last === 0) completed.push(started);
          else {
            if (!slots) {
              slots = new Array(positives.length);
              state.set(id, slots);
            }
            slots[0] = started;
          }
          continue;
        }
        const waiting = slots?.[p - 1];
        if (!slots || !waiting) continue;
        slots[p - 1] = undefined;
        const start = (waiting.events[0] as EventRecord).timestamp as number;
        if (maxspan !== null && (event.timestamp as number) - start > maxspan) continue;
        const extended: Partial = { events: [...waiting.events, event], key };
        if (p === last) completed.push(extended);
        else slots[p] = extended;
      }
    }
    if (until?.filter(event)) {
      for (const key of compiled.keyTuples(event, keysOf(until.step))) state.delete(tupleKey(key));
    }
  }

  const hasMissing = stages.some((s) => s.missing);
  const check = hasMissing ? missingEventCheck(stages, events, compiled, keysOf, maxspan) : null;
  // date keys are compared as epoch millis and reported formatted, as Elasticsearch does for sequences
  const firstKeys = keysOf(query.steps[0] as SequenceStep);
  const dateKeys = firstKeys.map((k) => k.kind === "field" && compiled.fieldType(k.name) === "date");
  const matches: EqlMatch[] = [];
  for (const seq of completed) {
    if (check && !check.accepts(seq)) continue;
    const out: (EventRecord | null)[] = [];
    let next = 0;
    for (const stage of stages) out.push(stage.missing ? null : (seq.events[next++] as EventRecord));
    matches.push({
      events: out.map((e) => (e ? e.source : null)),
      indexes: out.map((e) => (e ? e.index : -1)),
      joinKeys: seq.key.map((v, i) => (isNumber(v) && dateKeys[i] ? new Date(v).toISOString() : v)),
    });
  }
  return matches;
}

/** Events matching each missing step, by join key, in order. */
function missingEventCheck(
  stages: readonly Stage[],
  events: readonly EventRecord[],
  compiled: Compiled,
  keysOf: (step: SequenceStep) => readonly import("./ast.js").Expr[],
  maxspan: number | null,
) {
  const indexes = stages.map((stage) => {
    if (!stage.missing) return null;
    const byKey = new Map<string, EventRecord[]>();
    for (const event of events) {
      if (!stage.filter(event)) continue;
      for (const key of compiled.keyTuples(event, keysOf(stage.step))) {
        const id = tupleKey(key);
        let list = byKey.get(id);
        if (!list) {
          list = [];
          byKey.set(id, list);
        }
        if (list[list.length - 1] !== event) list.push(event);
      }
    }
    return byKey;
  });

  /** Index of the first event in a time-ordered list with a timestamp above `t` (or at/above it). */
  const firstAfter = (list: readonly EventRecord[], t: number, inclusive: boolean): number => {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const ts = (list[mid] as EventRecord).timestamp as number;
      if (ts < t || (!inclusive && ts === t)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const exceeds = (from: number | null, to: number | null) =>
    from === null || to === null || (maxspan !== null && to - from > maxspan);
  const firstMissing = stages[0]?.missing === true;
  const lastMissing = stages[stages.length - 1]?.missing === true;

  return {
    /** True when the candidate stands (Elasticsearch's rule, per missing step and by timestamp). */
    accepts(seq: Partial): boolean {
      const id = tupleKey(seq.key);
      const positions: (EventRecord | null)[] = [];
      let next = 0;
      for (const stage of stages) positions.push(stage.missing ? null : (seq.events[next++] as EventRecord));
      const start = (seq.events[0] as EventRecord).timestamp as number;
      const end = (seq.events[seq.events.length - 1] as EventRecord).timestamp as number;
      let lastLeading: number | null = null;
      let firstTrailing: number | null = null;
      let leading = true;
      for (let i = 0; i < stages.length; i++) {
        if (positions[i]) {
          leading = false;
          continue;
        }
        const list = indexes[i]?.get(id) ?? [];
        if (leading) {
          // the latest event before the first positive event
          const at = firstAfter(list, start, true) - 1;
          if (at >= 0) {
            const ts = (list[at] as EventRecord).timestamp as number;
            lastLeading = lastLeading === null ? ts : Math.max(lastLeading, ts);
          }
          continue;
        }
        const nextPositive = positions.slice(i + 1).find((p) => p !== null);
        if (!nextPositive) {
          // trailing: the earliest event after the last positive event
          const at = firstAfter(list, end, false);
          if (at < list.length) {
            const ts = (list[at] as EventRecord).timestamp as number;
            firstTrailing = firstTrailing === null ? ts : Math.min(firstTrailing, ts);
          }
          continue;
        }
        // in between: any event strictly between the neighbouring positive events rejects the sequence
        const previous = positions
          .slice(0, i)
          .reverse()
          .find((p) => p !== null) as EventRecord;
        const at = firstAfter(list, previous.timestamp as number, false);
        if (at < list.length && ((list[at] as EventRecord).timestamp as number) < (nextPositive.timestamp as number)) {
          return false;
        }
      }
      return (
        (firstTrailing === null && lastLeading === null) ||
        (lastLeading === null && firstMissing) ||
        (firstTrailing === null && lastMissing) ||
        (firstMissing && lastMissing && exceeds(lastLeading, firstTrailing)) ||
        (firstMissing && !lastMissing && exceeds(lastLeading, end)) ||
        (!firstMissing && lastMissing && exceeds(start, firstTrailing))
      );
    },
  };
}
