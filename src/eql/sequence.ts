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
 * - Missing events `![...]`: the sequence is found on the positive steps; it is then rejected when the full
 *   sequence (missing steps as ordinary steps, same key, positive events fixed, every event in order, first to
 *   last within maxspan) also exists.
 * The work is linear in the number of events times steps times keys per event.
 */
import type { SequenceQuery, SequenceStep } from "./ast.js";
import type { EventRecord } from "./events.js";
import type { Compiled, EqlMatch, FilterFn } from "./evaluate.js";
import { keyOf, type Value } from "./values.js";

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
  const matches: EqlMatch[] = [];
  for (const seq of completed) {
    if (check && !check.accepts(seq)) continue;
    const out: (EventRecord | null)[] = [];
    let next = 0;
    for (const stage of stages) out.push(stage.missing ? null : (seq.events[next++] as EventRecord));
    matches.push({
      events: out.map((e) => (e ? e.source : null)),
      indexes: out.map((e) => (e ? e.index : -1)),
      joinKeys: seq.key,
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

  /** The latest event of the list ranked before `bound`, or the earliest ranked after it. */
  const before = (list: readonly EventRecord[], bound: number): EventRecord | null => {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((list[mid] as EventRecord).rank < bound) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? (list[lo - 1] as EventRecord) : null;
  };
  const after = (list: readonly EventRecord[], bound: number): EventRecord | null => {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((list[mid] as EventRecord).rank <= bound) lo = mid + 1;
      else hi = mid;
    }
    return lo < list.length ? (list[lo] as EventRecord) : null;
  };

  return {
    /** True when the candidate stands: the missing events did not all occur. */
    accepts(seq: Partial): boolean {
      const id = tupleKey(seq.key);
      const chosen: (EventRecord | null)[] = [];
      let next = 0;
      for (const stage of stages) chosen.push(stage.missing ? null : (seq.events[next++] as EventRecord));
      const firstPositive = stages.findIndex((s) => !s.missing);
      // leading missing steps: as late as possible before the first positive event
      let bound = (chosen[firstPositive] as EventRecord).rank;
      for (let i = firstPositive - 1; i >= 0; i--) {
        const e = before(indexes[i]?.get(id) ?? [], bound);
        if (!e) return true;
        chosen[i] = e;
        bound = e.rank;
      }
      // middle and trailing missing steps: as early as possible after the previous event
      let previous = (chosen[firstPositive] as EventRecord).rank;
      for (let i = firstPositive + 1; i < stages.length; i++) {
        const fixed = chosen[i];
        if (fixed) {
          previous = fixed.rank;
          continue;
        }
        const e = after(indexes[i]?.get(id) ?? [], previous);
        const nextPositive = chosen.slice(i + 1).find((c) => c !== null);
        if (!e || (nextPositive && e.rank >= nextPositive.rank)) return true;
        chosen[i] = e;
        previous = e.rank;
      }
      if (maxspan === null) return false;
      const span = (chosen[chosen.length - 1]?.timestamp as number) - (chosen[0]?.timestamp as number);
      return span > maxspan;
    },
  };
}
