/**
 * The differential check of the whole translation (issue 4): every query of Elasticsearch's EQL suite on the
 * endgame data is translated by src/kql's emitter with an IDENTITY mapping (each ECS field is the column of the
 * same name of one table, `EqlEvents`, holding the suite's own events), run in the local workspace engine, and
 * the event ids it returns are compared with the suite's expected ids.
 *
 * Results are ordered as Elasticsearch orders them (events by @timestamp then serial_event_id; sequences by
 * their first event), and the first `size` are compared.
 */
import { DiagnosticError, formatDiagnostic } from "../../src/diagnostics/index.js";
import { parseEql, type Query } from "../../src/eql/index.js";
import { emitQuery, Refusal } from "../../src/kql/index.js";
import { buildGlobals, type ColumnSchema, type KqlType } from "../../src/kusto/index.js";
import type { SourceSpec, TargetMapping } from "../../src/targets/index.js";
import type { TableSource } from "../../src/workspace/context.js";
import { runQuery } from "../../src/workspace/index.js";
import { fromRows, type Row } from "../../src/workspace/relation.js";
import type { Value } from "../../src/workspace/values.js";
import { type Dataset, loadEntries, SUITE_FILES, type SuiteEntry } from "../eql/es-suite.js";

export type DiffStatus = "passed" | "failed" | "refused" | "unparsed" | "error";

export interface DiffOutcome {
  readonly entry: SuiteEntry;
  readonly status: DiffStatus;
  readonly reason: string;
}

const TABLE = "EqlEvents";
const TIME = "EqlTime";

/** Column types from the events (ints → long, strings → string, lists/objects → dynamic). */
function columnsOf(events: readonly Record<string, unknown>[]): ColumnSchema[] {
  const types = new Map<string, KqlType>();
  for (const e of events) {
    for (const [k, v] of Object.entries(e)) {
      if (k === "@timestamp" || v === null || v === undefined) continue;
      const t: KqlType =
        typeof v === "number"
          ? Number.isInteger(v)
            ? "long"
            : "real"
          : typeof v === "string"
            ? "string"
            : typeof v === "boolean"
              ? "bool"
              : "dynamic";
      const prev = types.get(k);
      types.set(k, prev && prev !== t ? "dynamic" : t);
    }
  }
  return [{ name: TIME, type: "datetime" }, ...[...types].map(([name, type]) => ({ name, type }))];
}

function identityMapping(columns: readonly ColumnSchema[], events: readonly Record<string, unknown>[]): TargetMapping {
  const categories: Record<string, string | null> = {};
  for (const e of events) {
    const c = e.event_type;
    if (typeof c === "string") categories[c] = `event_type == "${c.replace(/["\\]/g, "\\$&")}"`;
  }
  const fields: Record<string, { column: string }> = {};
  for (const c of columns) if (c.name !== TIME) fields[c.name] = { column: c.name };
  const source: SourceSpec = {
    from: TABLE,
    schema: TABLE,
    time: TIME,
    tiebreaker: "serial_event_id",
    categories,
    fields,
  };
  return { target: "identity", description: "ES EQL suite data as one table", dataConnectors: [], sources: [source] };
}

interface Harness {
  readonly mapping: TargetMapping;
  readonly columnTypes: ReadonlyMap<string, KqlType>;
  readonly globals: Kusto.Language.GlobalState;
  readonly source: TableSource;
}

export function harness(data: Dataset): Harness {
  const columns = columnsOf(data.events);
  const rows: Row[] = data.events.map((e) =>
    columns.map((c): Value => {
      if (c.name === TIME) return e["@timestamp"] as number;
      const v = e[c.name];
      if (v === undefined || v === null) return c.type === "string" ? "" : null;
      return v as Value;
    }),
  );
  const relation = fromRows(
    columns.map((c) => ({ name: c.name, type: c.type })),
    rows,
  );
  return {
    mapping: identityMapping(columns, data.events),
    columnTypes: new Map(columns.map((c) => [c.name, c.type])),
    globals: buildGlobals({ tables: { [TABLE]: columns } }),
    source: { table: (name) => (name === TABLE ? relation : undefined), functionData: () => undefined },
  };
}

function idsOf(query: Query, columns: readonly string[], rows: readonly Row[], size: number): number[] {
  const at = (name: string) => columns.indexOf(name);
  if (query.kind === "event") {
    const id = at("serial_event_id");
    const time = at(TIME);
    const sorted = [...rows].sort(
      (a, b) => (a[time] as number) - (b[time] as number) || (a[id] as number) - (b[id] as number),
    );
    return sorted.slice(0, size).map((r) => r[id] as number);
  }
  const steps = columns
    .filter((c) => /^ShmhuntEvent\d+$/.test(c))
    .sort((a, b) => Number(a.slice(12)) - Number(b.slice(12)));
  const seqs = rows.map((r) => steps.map((s) => Number((r[at(s)] as Record<string, unknown> | null)?.serial_event_id)));
  // Elasticsearch returns sequences in the order they complete: by the last event (time, then id)
  const timeOf = new Map(
    rows
      .flatMap((r) => steps.map((s) => r[at(s)] as Record<string, unknown> | null))
      .map((e) => [Number(e?.serial_event_id), Date.parse(String(e?.[TIME]))]),
  );
  const lastTime = (seq: readonly number[]) => timeOf.get(seq[seq.length - 1] as number) ?? 0;
  seqs.sort((a, b) => {
    const byEnd = lastTime(a) - lastTime(b) || (a[a.length - 1] as number) - (b[b.length - 1] as number);
    if (byEnd !== 0) return byEnd;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
    return 0;
  });
  return seqs.slice(0, size).flat();
}

export async function runDifferential(): Promise<DiffOutcome[]> {
  const outcomes: DiffOutcome[] = [];
  for (const file of ["test_queries.toml", "additional_test_queries.toml", "test_queries_date.toml"]) {
    const suite = SUITE_FILES.find((f) => f.file === file);
    if (!suite) continue;
    const h = harness(suite.data());
    for (const entry of loadEntries(file)) {
      let query: Query;
      try {
        query = parseEql(entry.query);
      } catch (error) {
        outcomes.push({ entry, status: "unparsed", reason: (error as Error).message.split("\n")[0] ?? "" });
        continue;
      }
      let kql: string;
      try {
        kql = emitQuery({ query, mapping: h.mapping, columnsOf: () => h.columnTypes }).kql;
      } catch (error) {
        if (error instanceof Refusal) {
          outcomes.push({ entry, status: "refused", reason: error.message });
          continue;
        }
        outcomes.push({ entry, status: "error", reason: `translate: ${(error as Error).message}` });
        continue;
      }
      try {
        const result = await runQuery(kql, h.globals, h.source, { now: Date.UTC(2030, 0, 1) });
        const ids = idsOf(
          query,
          result.columns.map((c) => c.name),
          result.rows,
          entry.size,
        );
        const ok = entry.expected.some((exp) => exp.length === ids.length && exp.every((x, i) => x === ids[i]));
        outcomes.push({
          entry,
          status: ok ? "passed" : "failed",
          reason: ok ? "" : `got [${ids.join(", ")}], expected [${entry.expected[0]?.join(", ")}]`,
        });
      } catch (error) {
        const message =
          error instanceof DiagnosticError
            ? error.diagnostics.map(formatDiagnostic).join("; ")
            : (error as Error).message.split("\n")[0];
        outcomes.push({ entry, status: "error", reason: `run: ${message}` });
      }
    }
  }
  return outcomes;
}
