/**
 * Events as the evaluator sees them: field values looked up through nested objects and dotted keys
 * (`process.parent.name` finds `{"process": {"parent": {"name": …}}}`, `{"process.parent.name": …}` and any mix),
 * arrays flattened into multi-valued fields, field aliases and `null_value` applied, and the ordering keys
 * (timestamp, tiebreaker, position in the input).
 */
import type { EventView } from "./compile-expr.js";
import { type FieldType, toEpochMillis, toValue, type Value } from "./values.js";

/** What the evaluator knows about a field, e.g. from an Elasticsearch mapping. */
export interface FieldMapping {
  readonly type?: FieldType | "alias";
  /** For aliases: the field this one stands for. */
  readonly path?: string;
  /** Elasticsearch's `null_value`: an explicit null in the source is indexed as this value. */
  readonly nullValue?: Value;
  /** Date fields: the Java-style format of the source values (`dd-MM-yyyy`); default ISO-8601 or epoch millis. */
  readonly format?: string;
}

export type FieldMappings = Readonly<Record<string, FieldMapping>>;

/** How to read one field: its path segments (after alias resolution) and how to index its values. */
interface FieldPlan {
  readonly segments: readonly string[];
  readonly nullValue: Value | undefined;
  readonly isDate: boolean;
  readonly format: string | undefined;
}

/** Resolves aliases and knows field types. */
export class FieldCatalog {
  private readonly plans = new Map<string, FieldPlan>();

  constructor(private readonly mappings: FieldMappings = {}) {}

  plan(name: string): FieldPlan {
    let plan = this.plans.get(name);
    if (!plan) {
      const resolved = this.resolve(name);
      plan = {
        segments: resolved.split("."),
        nullValue: this.nullValue(resolved),
        isDate: this.type(resolved) === "date",
        format: this.format(resolved),
      };
      this.plans.set(name, plan);
    }
    return plan;
  }

  resolve(name: string): string {
    let current = name;
    for (let hops = 0; hops < 8; hops++) {
      const m = this.mappings[current];
      if (m?.type !== "alias" || !m.path) return current;
      current = m.path;
    }
    return current;
  }

  type(name: string): FieldType | undefined {
    const t = this.mappings[this.resolve(name)]?.type;
    return t === "alias" ? undefined : t;
  }

  nullValue(name: string): Value | undefined {
    return this.mappings[this.resolve(name)]?.nullValue;
  }

  format(name: string): string | undefined {
    return this.mappings[this.resolve(name)]?.format;
  }
}

function collect(node: unknown, segments: readonly string[], i: number, out: unknown[]): void {
  if (Array.isArray(node)) {
    for (const element of node) collect(element, segments, i, out);
    return;
  }
  if (i === segments.length) {
    out.push(node);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const record = node as Record<string, unknown>;
  // A dotted key is no longer than the object's longest key: without the bound, a field of n segments built n keys
  // of up to its whole length at each level (8 KB of `a.a.a…` took 150 ms an event).
  let longest = 0;
  for (const k in record) if (k.length > longest) longest = k.length;
  let key = "";
  for (let j = i; j < segments.length; j++) {
    key = j === i ? (segments[j] as string) : `${key}.${segments[j]}`;
    if (key.length > longest) break;
    if (Object.hasOwn(record, key)) collect(record[key], segments, j + 1, out);
  }
}

/** One input event with its ordering keys and cached field values. */
export class EventRecord implements EventView {
  private readonly cache = new Map<string, readonly Value[]>();
  /** Position in the sorted order (set by the evaluator). */
  rank = 0;

  constructor(
    readonly source: unknown,
    readonly index: number,
    private readonly catalog: FieldCatalog,
    readonly timestamp: number | null,
    readonly tiebreaker: Value,
  ) {}

  values(field: string): readonly Value[] {
    let values = this.cache.get(field);
    if (values === undefined) {
      values = fieldValues(this.source, field, this.catalog);
      this.cache.set(field, values);
    }
    return values;
  }
}

/** Values of a field as Elasticsearch indexes them: null_value applied, dates as epoch milliseconds. */
function fieldValues(doc: unknown, field: string, catalog: FieldCatalog): readonly Value[] {
  const { segments, nullValue, isDate, format } = catalog.plan(field);
  const raws: unknown[] = [];
  collect(doc, segments, 0, raws);
  const out: Value[] = [];
  for (const raw of raws) {
    let v = raw === null && nullValue !== undefined ? nullValue : toValue(raw);
    if (v !== null && isDate) v = (format && typeof v === "string" ? parseDate(v, format) : null) ?? toEpochMillis(v);
    if (v !== null) out.push(v);
  }
  return out;
}

const DATE_TOKENS: Readonly<Record<string, string>> = {
  yyyy: "(?<year>\\d{4})",
  MM: "(?<month>\\d{2})",
  dd: "(?<day>\\d{2})",
  HH: "(?<hour>\\d{2})",
  mm: "(?<minute>\\d{2})",
  ss: "(?<second>\\d{2})",
  SSS: "(?<milli>\\d{3})",
};

/** Parses a date written in a simple Java-style format (yyyy MM dd HH mm ss SSS, other letters literal), as UTC. */
function parseDate(text: string, format: string): number | null {
  for (const alternative of format.split("||")) {
    if (alternative === "epoch_millis") {
      if (/^-?\d+$/.test(text)) return Number(text);
      continue;
    }
    const source = alternative.replace(
      /yyyy|MM|dd|HH|mm|ss|SSS|[^A-Za-z]/g,
      (t) => DATE_TOKENS[t] ?? t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
    );
    const m = new RegExp(`^${source}$`).exec(text);
    if (!m?.groups) continue;
    const g = m.groups;
    const n = (k: string, d: number) => (g[k] === undefined ? d : Number(g[k]));
    return Date.UTC(
      n("year", 1970),
      n("month", 1) - 1,
      n("day", 1),
      n("hour", 0),
      n("minute", 0),
      n("second", 0),
      n("milli", 0),
    );
  }
  return null;
}

export function makeRecords(
  events: readonly unknown[],
  catalog: FieldCatalog,
  timestampField: string,
  tiebreakerField: string | undefined,
): EventRecord[] {
  return events.map((source, index) => {
    const ts = fieldValues(source, timestampField, catalog)[0];
    const timestamp = ts === undefined ? null : toEpochMillis(ts);
    const tiebreaker = tiebreakerField ? (fieldValues(source, tiebreakerField, catalog)[0] ?? null) : null;
    return new EventRecord(source, index, catalog, timestamp, tiebreaker);
  });
}
