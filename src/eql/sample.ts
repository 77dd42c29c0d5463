/**
 * Samples as Elasticsearch runs them: events grouped by join key (the query's `by` then each step's `by`), one
 * event per step, all different, in no particular time order. For each key where every step has a match, the first
 * sample takes the first matching events (input order); up to max_samples_per_key - 1 more take the next event of
 * each step. Samples are ordered by
 * their key values (null first, then booleans, numbers, strings).
 */
import type { SampleQuery } from "./ast.js";
import type { Compiled, EqlMatch } from "./evaluate.js";
import type { EventRecord } from "./events.js";
import { compareKeyValues, keyOf, type Value } from "./values.js";

interface Group {
  readonly key: readonly Value[];
  readonly perStep: EventRecord[][];
}

export function runSample(
  query: SampleQuery,
  events: readonly EventRecord[],
  compiled: Compiled,
  maxSamplesPerKey: number,
): EqlMatch[] {
  const groups = new Map<string, Group>();
  query.steps.forEach((step, s) => {
    const filter = compiled.filter(step.filter);
    const keys = [...query.by, ...step.by];
    for (const event of events) {
      if (!filter(event)) continue;
      for (const key of compiled.keyTuples(event, keys)) {
        const id = key.map(keyOf).join("\u0000");
        let group = groups.get(id);
        if (!group) {
          group = { key, perStep: query.steps.map(() => []) };
          groups.set(id, group);
        }
        (group.perStep[s] as EventRecord[]).push(event);
      }
    }
  });

  const samples: { key: readonly Value[]; events: EventRecord[] }[] = [];
  for (const group of groups.values()) {
    if (group.perStep.some((list) => list.length === 0)) continue;
    const first = assign(group.perStep);
    if (!first) continue;
    samples.push({ key: group.key, events: first });
    // further samples take the next event of each step (the last one again when a step has no more)
    const count = Math.min(maxSamplesPerKey, Math.max(...group.perStep.map((list) => list.length)));
    for (let n = 1; n < count; n++) {
      const picked = group.perStep.map((list) => list[Math.min(n, list.length - 1)] as EventRecord);
      if (new Set(picked).size === picked.length) samples.push({ key: group.key, events: picked });
    }
  }
  samples.sort((a, b) => {
    for (let i = 0; i < a.key.length; i++) {
      const d = compareKeyValues(a.key[i] ?? null, b.key[i] ?? null);
      if (d !== 0) return d;
    }
    return 0;
  });
  return samples.map((s) => ({
    events: s.events.map((e) => e.source),
    indexes: s.events.map((e) => e.index),
    joinKeys: s.key,
  }));
}

/** One distinct event per step, preferring earlier events (depth-first search). */
function assign(perStep: readonly EventRecord[][]): EventRecord[] | null {
  const picked: EventRecord[] = [];
  const taken = new Set<EventRecord>();
  const search = (step: number): boolean => {
    if (step === perStep.length) return true;
    for (const event of perStep[step] as EventRecord[]) {
      if (taken.has(event)) continue;
      taken.add(event);
      picked.push(event);
      if (search(step + 1)) return true;
      picked.pop();
      taken.delete(event);
    }
    return false;
  };
  return search(0) ? picked : null;
}
