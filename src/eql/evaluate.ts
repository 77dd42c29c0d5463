/**
 * The EQL evaluator: runs a parsed query over JSON events with Elasticsearch's semantics. It is the reference for
 * what a rule means (the KQL translations are checked against it).
 *
 * Events are ordered by timestamp, then tiebreaker, then position in the input. Event queries return events in
 * that order; sequences in the order they complete; samples by join key. `head`/`tail` apply in order, then
 * `size` (from the front, or from the back when the last pipe is `tail`).
 */
import type { EventFilter, Expr, FieldRef, Pipe, Query } from "./ast.js";
import { ExprCompiler } from "./compile-expr.js";
import { type EventRecord, FieldCatalog, type FieldMappings, makeRecords } from "./events.js";
import { runSample } from "./sample.js";
import { runSequence } from "./sequence.js";
import { compareKeyValues, type FieldType, type Value } from "./values.js";

export interface EvaluateOptions {
  /** Field holding the event category (`process where` tests it). Default `event.category`. */
  readonly categoryField?: string;
  /** Field holding the event time (epoch millis, numeric text, or ISO-8601). Default `@timestamp`. */
  readonly timestampField?: string;
  /** Field ordering events with equal timestamps. Default none (input order). */
  readonly tiebreakerField?: string;
  /** Maximum number of results (events, sequences or samples). Default: no limit. */
  readonly size?: number;
  /** Field types, aliases and null values (e.g. from an Elasticsearch mapping, see fieldsFromEsMapping). */
  readonly fields?: FieldMappings;
  /** Samples per join key (Elasticsearch's max_samples_per_key). Default 1. */
  readonly maxSamplesPerKey?: number;
}

/** One result: an event (events has one entry), a sequence or a sample. */
export interface EqlMatch {
  /** The matched events in step order; null for a missing event `![...]`. */
  readonly events: readonly (unknown | null)[];
  /** Positions of the events in the input array; -1 for a missing event. */
  readonly indexes: readonly number[];
  /** Sequences and samples: the join key values (query-level keys, then step keys). */
  readonly joinKeys: readonly Value[];
}

type EvaluateResult = readonly EqlMatch[];

/** A compiled event filter: category test plus condition. */
export type FilterFn = (event: EventRecord) => boolean;

export interface Compiled {
  filter(f: EventFilter): FilterFn;
  /** Join key tuples of an event (cartesian product over multi-valued keys), or [] when a required key is null. */
  keyTuples(event: EventRecord, keys: readonly Expr[]): Value[][];
  /** The type of a field, when known. */
  fieldType(name: string): FieldType | undefined;
}

export function evaluate(query: Query, events: readonly unknown[], options: EvaluateOptions = {}): EvaluateResult {
  const catalog = new FieldCatalog(withTimestampType(options));
  const timestampField = options.timestampField ?? "@timestamp";
  const categoryField = options.categoryField ?? "event.category";
  const records = makeRecords(events, catalog, timestampField, options.tiebreakerField);
  const sorted = [...records].sort(compareOrder);
  sorted.forEach((r, i) => {
    r.rank = i;
  });

  const exists = new Map<string, boolean>();
  const compiler = new ExprCompiler({
    fieldType: (name) => catalog.type(name),
    fieldExists: (name) => {
      let known = exists.get(name);
      if (known === undefined) {
        known = catalog.type(name) !== undefined || records.some((r) => r.values(name).length > 0);
        exists.set(name, known);
      }
      return known;
    },
  });
  const compiled: Compiled = {
    filter(f) {
      const condition = compiler.predicate(f.condition);
      const category = f.category;
      if (category === null) return condition;
      return (e) => e.values(categoryField).includes(category) && condition(e);
    },
    keyTuples,
    fieldType: (name) => catalog.type(name),
  };

  let matches: EqlMatch[];
  switch (query.kind) {
    case "event": {
      const filter = compiled.filter(query.filter);
      matches = sorted.filter(filter).map((e) => ({ events: [e.source], indexes: [e.index], joinKeys: [] }));
      break;
    }
    case "sequence":
      matches = runSequence(
        query,
        sorted.filter((e) => e.timestamp !== null),
        compiled,
      );
      break;
    case "sample":
      matches = runSample(query, records, compiled, options.maxSamplesPerKey ?? 1);
      break;
  }
  return applyPipes(matches, query.pipes, options.size);
}

function withTimestampType(options: EvaluateOptions): FieldMappings {
  const timestampField = options.timestampField ?? "@timestamp";
  const fields = options.fields ?? {};
  return fields[timestampField] ? fields : { ...fields, [timestampField]: { type: "date" } };
}

function compareOrder(a: EventRecord, b: EventRecord): number {
  if (a.timestamp !== b.timestamp) {
    if (a.timestamp === null) return 1;
    if (b.timestamp === null) return -1;
    return a.timestamp - b.timestamp;
  }
  const t = compareKeyValues(a.tiebreaker, b.tiebreaker);
  return t !== 0 ? t : a.index - b.index;
}

function keyTuples(event: EventRecord, keys: readonly Expr[]): Value[][] {
  let tuples: Value[][] = [[]];
  for (const key of keys) {
    const field = key as FieldRef;
    const values = [...new Set(event.values(field.name))].sort(compareKeyValues);
    if (values.length === 0) {
      if (!field.optional) return [];
      values.push(null);
    }
    if (values.length === 1) {
      for (const t of tuples) t.push(values[0] as Value);
      continue;
    }
    const next: Value[][] = [];
    for (const t of tuples) for (const v of values) next.push([...t, v]);
    tuples = next;
  }
  return tuples;
}

function applyPipes(matches: EqlMatch[], pipes: readonly Pipe[], size: number | undefined): EqlMatch[] {
  let out = matches;
  for (const pipe of pipes) {
    out = pipe.kind === "head" ? out.slice(0, pipe.count) : out.slice(Math.max(0, out.length - pipe.count));
  }
  if (size !== undefined && out.length > size) {
    const fromTail = pipes.length > 0 && (pipes[pipes.length - 1] as Pipe).kind === "tail";
    out = fromTail ? out.slice(out.length - size) : out.slice(0, size);
  }
  return out;
}
