/**
 * Loads Elasticsearch's EQL QA suite (../shared/corpus/es-eql, see its README) and runs one entry through the
 * evaluator the way Elasticsearch's harness does: event.category aliases event_type (from the mappings),
 * @timestamp from FILETIME for the endgame data, the suite's tiebreaker, size 50 unless the entry says otherwise.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { getStaticTOMLValue, parseTOML } from "toml-eslint-parser";
import type { FieldMappings } from "../../src/eql/events.js";
import { type EqlMatch, evaluate, fieldsFromEsMapping, parseEql, type Query } from "../../src/eql/index.js";

export const repoRoot = path.resolve(import.meta.dirname, "../..");
export const corpusDir = path.resolve(repoRoot, "../shared/corpus/es-eql");

export interface SuiteEntry {
  readonly file: string;
  readonly name: string;
  readonly query: string;
  /** Accepted answers (a list of lists in the spec means any one of them). */
  readonly expected: readonly (readonly number[])[];
  readonly joinKeys: readonly string[] | null;
  readonly size: number;
  readonly maxSamplesPerKey: number;
}

export interface Dataset {
  readonly events: readonly Record<string, unknown>[];
  readonly fields: FieldMappings;
  readonly idField: string;
  readonly tiebreaker: string | undefined;
}

interface SuiteFile {
  readonly file: string;
  readonly data: () => Dataset;
}

const read = (rel: string) => readFileSync(path.join(corpusDir, rel), "utf8");
const stripLines = (text: string, prefix: string) =>
  text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith(prefix))
    .join("\n");

/** FILETIME (100 ns ticks since 1601) to Unix milliseconds, exactly (the raw numbers exceed 2^53). */
function endgame(): Dataset {
  const text = read("test_data.json").replace(/"timestamp": (\d+)/g, '"timestamp": "$1"');
  const events = (JSON.parse(text) as Record<string, unknown>[]).map((e) => {
    const ticks = BigInt(e.timestamp as string);
    return { ...e, timestamp: Number(ticks), "@timestamp": Number(ticks / 10000n - 11644473600000n) };
  });
  return {
    events,
    fields: fieldsFromEsMapping(JSON.parse(read("mapping-default.json"))),
    idField: "serial_event_id",
    tiebreaker: "serial_event_id",
  };
}

function dataFile(
  dataFiles: string[],
  mappingFile: string,
  idField: string,
  tiebreaker: string | undefined,
): () => Dataset {
  return () => ({
    events: dataFiles.flatMap((f) => JSON.parse(stripLines(read(f), "//")) as Record<string, unknown>[]),
    fields: fieldsFromEsMapping(JSON.parse(stripLines(read(mappingFile), "#"))),
    idField,
    tiebreaker,
  });
}

export const SUITE_FILES: readonly SuiteFile[] = [
  { file: "test_queries.toml", data: endgame },
  { file: "additional_test_queries.toml", data: endgame },
  { file: "test_queries_date.toml", data: endgame },
  { file: "test_extra.toml", data: dataFile(["data/extra.data"], "data/extra.mapping", "sequence", "sequence") },
  {
    file: "test_missing_events.toml",
    data: dataFile(["data/missing-events.data"], "data/missing-events.mapping", "sequence", "sequence"),
  },
  {
    file: "test_sample.toml",
    data: () => {
      const parts = ["sample1", "sample2", "sample3"].map((n) =>
        dataFile([`data/${n}.data`], `data/${n}.mapping`, "id", undefined)(),
      );
      // one search over three indices: a field is typed by whichever mapping has it
      const fields = Object.assign({}, ...parts.map((p) => p.fields).reverse()) as FieldMappings;
      return { events: parts.flatMap((p) => p.events), fields, idField: "id", tiebreaker: undefined };
    },
  },
  {
    file: "test_sample_multi.toml",
    data: dataFile(["data/sample-multi.data"], "data/sample-multi.mapping", "id", undefined),
  },
];

/** `join_keys = [null, "a"]`: bare null is not TOML; Elasticsearch's reader takes it as null. */
function quoteBareNullsInJoinKeys(text: string): string {
  return text.replace(/join_keys\s*=\s*\[[^\]]*\]/g, (m) => m.replace(/\bnull\b(?=\s*[,\]])/g, '"null"'));
}

export function loadEntries(file: string): SuiteEntry[] {
  const ast = parseTOML(quoteBareNullsInJoinKeys(read(file)));
  const doc = getStaticTOMLValue(ast) as { queries?: Record<string, unknown>[] };
  return (doc.queries ?? []).map((q) => {
    const ids = q.expected_event_ids as unknown[];
    const expected = ids.length > 0 && Array.isArray(ids[0]) ? (ids as number[][]) : [ids as number[]];
    const joinKeys = Array.isArray(q.join_keys) ? (q.join_keys as unknown[]).map((k) => String(k)) : null;
    return {
      file,
      name: String(q.name),
      query: String(q.query),
      expected,
      joinKeys,
      size: typeof q.size === "number" ? q.size : 50,
      maxSamplesPerKey: typeof q.max_samples_per_key === "number" ? q.max_samples_per_key : 1,
    };
  });
}

export interface Outcome {
  readonly entry: SuiteEntry;
  readonly kind: Query["kind"] | "unparsed";
  readonly passed: boolean;
  /** Why it failed: the error, or what came back. */
  readonly reason: string;
}

export function runEntry(entry: SuiteEntry, data: Dataset): Outcome {
  let query: Query;
  try {
    query = parseEql(entry.query);
  } catch (error) {
    return { entry, kind: "unparsed", passed: false, reason: `parse: ${(error as Error).message}` };
  }
  let matches: readonly EqlMatch[];
  try {
    matches = evaluate(query, data.events, {
      categoryField: "event.category",
      timestampField: "@timestamp",
      ...(data.tiebreaker ? { tiebreakerField: data.tiebreaker } : {}),
      fields: data.fields,
      size: entry.size,
      maxSamplesPerKey: entry.maxSamplesPerKey,
    });
  } catch (error) {
    return { entry, kind: query.kind, passed: false, reason: `evaluate: ${(error as Error).message}` };
  }
  const ids = matches.flatMap((m) =>
    m.indexes.map((i) => (i === -1 ? -1 : Number((data.events[i] as Record<string, unknown>)[data.idField]))),
  );
  const keys = matches.flatMap((m) => m.joinKeys.map((k) => (k === null ? "null" : String(k))));
  const idsOk = entry.expected.some((alt) => alt.length === ids.length && alt.every((id, i) => id === ids[i]));
  const keysOk = entry.joinKeys === null || JSON.stringify(entry.joinKeys) === JSON.stringify(keys);
  const passed = idsOk && keysOk;
  const reason = passed
    ? ""
    : !idsOk
      ? `ids ${JSON.stringify(ids)}, expected ${entry.expected.map((e) => JSON.stringify(e)).join(" or ")}`
      : `join keys ${JSON.stringify(keys)}, expected ${JSON.stringify(entry.joinKeys)}`;
  return { entry, kind: query.kind, passed, reason };
}

export function runSuite(): Outcome[] {
  return SUITE_FILES.flatMap(({ file, data }) => {
    const dataset = data();
    return loadEntries(file).map((entry) => runEntry(entry, dataset));
  });
}
