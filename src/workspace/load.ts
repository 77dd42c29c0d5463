/**
 * Reading workspace table files as streams of typed rows: NDJSON (`.ndjson`, `.jsonl`), JSON arrays (`.json`,
 * split into objects as it streams), and CSV (`.csv`, RFC 4180, as Advanced Hunting and Log Analytics export).
 * Values are converted to the column types (datetime strings → epoch ms, dynamic JSON text → values, ...).
 */
import { isAscii, isUtf8 } from "node:buffer";
import { createReadStream } from "node:fs";
import { type DiagnosticError, fileSystemReason, firstNotUtf8, isFileSystemError } from "../diagnostics/index.js";
import { dataError } from "./errors.js";
import { WORKSPACE_LIMITS } from "./limits.js";
import type { Column, Row } from "./relation.js";
import { BATCH } from "./relation.js";
import { parseDatetime, parseTimespan, type ScalarType, type Value } from "./values.js";

export type FileFormat = "ndjson" | "json" | "csv";

export function formatOf(file: string): FileFormat | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith(".ndjson") || lower.endsWith(".jsonl")) return "ndjson";
  if (lower.endsWith(".json")) return "json";
  if (lower.endsWith(".csv")) return "csv";
  return undefined;
}

const PORTAL_DATETIME = /^(\d{1,2})\/(\d{1,2})\/(\d{4}),?\s+(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*(AM|PM)?$/i;

/** Datetimes as exported: ISO 8601, or the portal's `11/23/2026, 9:42:22.123 AM` (UTC). */
function parseExportedDatetime(text: string): number | null {
  // ISO 8601 (`yyyy-…`, a '-' at index 4, which the portal's form never has) skips the portal pattern.
  if (text.charCodeAt(4) === 45) return parseDatetime(text);
  const m = PORTAL_DATETIME.exec(text.trim());
  if (m) {
    const [, mo, d, y, hh, mi, ss, frac = "", ampm] = m;
    let h = Number(hh);
    if (ampm) h = (h % 12) + (ampm.toUpperCase() === "PM" ? 12 : 0);
    return (
      Date.UTC(Number(y), Number(mo) - 1, Number(d), h, Number(mi), Number(ss)) +
      (frac ? Number(`0.${frac}`) * 1000 : 0)
    );
  }
  return parseDatetime(text);
}

/** Converts a raw value from a file into the engine's representation of `type`. */
export function convertCell(raw: unknown, type: ScalarType, fromCsv: boolean): Value {
  if (raw === undefined || raw === null) return type === "string" ? "" : null;
  switch (type) {
    case "string":
      return typeof raw === "string" ? raw : typeof raw === "object" ? JSON.stringify(raw) : String(raw);
    case "long":
    case "int":
    case "real":
    case "decimal": {
      if (typeof raw === "number") return raw;
      if (typeof raw === "boolean") return raw ? 1 : 0;
      const s = String(raw).trim();
      if (s === "") return null;
      const n = Number(s);
      return Number.isNaN(n) ? null : n;
    }
    case "bool": {
      if (typeof raw === "boolean") return raw;
      if (typeof raw === "number") return raw !== 0;
      const s = String(raw).trim().toLowerCase();
      return s === "true" || s === "1" ? true : s === "false" || s === "0" ? false : null;
    }
    case "datetime":
      if (typeof raw === "number") return raw;
      return parseExportedDatetime(String(raw));
    case "timespan":
      if (typeof raw === "number") return raw;
      return parseTimespan(String(raw));
    case "guid":
      return String(raw).trim().toLowerCase() || null;
    default: {
      if (typeof raw !== "string") return raw as Value;
      const s = raw.trim();
      if (fromCsv && s === "") return null;
      if (s.startsWith("{") || s.startsWith("[") || (fromCsv && s !== "")) {
        try {
          return JSON.parse(s) as Value;
        } catch {
          return raw;
        }
      }
      return raw;
    }
  }
}

/** A table file's read failure (not there, a folder, not allowed): WS502 naming the file and saying why. */
function unreadable(error: unknown, file: string): unknown {
  return isFileSystemError(error) ? dataError(`cannot read the table file: ${fileSystemReason(error)}`, file) : error;
}

/** The chunks of a file as `createReadStream(file, options)` reads them; a read failure is `unreadable`. */
async function* fileChunks(
  file: string,
  options: { readonly encoding?: "utf8"; readonly highWaterMark?: number },
): AsyncGenerator<string | Buffer> {
  const input = createReadStream(file, options);
  try {
    for await (const chunk of input) yield chunk as string | Buffer;
  } catch (error) {
    throw unreadable(error, file);
  } finally {
    input.destroy();
  }
}

/** Streams the JSON records of a file (NDJSON lines or the objects of a top-level JSON array). */
async function* jsonRecords(file: string, format: "ndjson" | "json"): AsyncGenerator<Record<string, unknown>> {
  if (format === "ndjson") {
    // The one NDJSON reader (its line limit, UTF-8 check and positions); a consumer that stops early (sampleColumns)
    // stops it, and the file stream with it.
    for await (const batch of ndjsonBatches(file)) yield* batch;
    return;
  }
  // A JSON array, split into its top-level objects without loading the whole file. An object past
  // WORKSPACE_LIMITS.recordBytes is refused as its bytes pass the limit, at the line and column of its `{`.
  const limit = WORKSPACE_LIMITS.recordBytes;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let buf = "";
  let started = false;
  let line = 1;
  let column = 0;
  let recordBytes = 0;
  let recordAt = { line: 1, column: 1, offset: 0 };
  let offset = 0;
  for await (const chunk of fileChunks(file, { encoding: "utf8" })) {
    for (const ch of chunk as string) {
      const bytes = utf8Length(ch);
      offset += bytes;
      column += ch.length;
      if (ch === "\n") {
        line++;
        column = 0;
      }
      if (!started) {
        if (ch === "[") started = true;
        else if (!/\s/.test(ch)) throw dataError("a .json table file must hold an array of objects", file);
        continue;
      }
      if (depth > 0) {
        buf += ch;
        recordBytes += bytes;
        if (recordBytes > limit) throw recordOverLimit("a record", file, recordAt);
      }
      if (inString) {
        if (escaped) escaped = false;
        else if (ch === "\\") escaped = true;
        else if (ch === '"') inString = false;
        continue;
      }
      if (ch === '"') inString = true;
      else if (ch === "{" || ch === "[") {
        if (depth === 0) {
          buf = ch;
          recordBytes = bytes;
          recordAt = { line, column, offset: offset - bytes };
        }
        depth++;
      } else if (ch === "}" || ch === "]") {
        if (depth === 0) return; // end of the array
        depth--;
        if (depth === 0) {
          try {
            yield JSON.parse(buf) as Record<string, unknown>;
          } catch (error) {
            throw dataError(`invalid JSON object: ${(error as Error).message}`, file);
          }
          buf = "";
        }
      }
    }
  }
}

/** The UTF-8 length of one character as `for … of` a string gives it (a surrogate pair is one 4-byte character). */
function utf8Length(ch: string): number {
  if (ch.length === 2) return 4;
  const code = ch.charCodeAt(0);
  return code < 0x80 ? 1 : code < 0x800 ? 2 : 3;
}

/**
 * A record over WORKSPACE_LIMITS.recordBytes (`what`: "a line" of NDJSON, "a record" of a JSON array or CSV): WS502
 * at the file:line where it starts, naming the limit.
 */
function recordOverLimit(
  what: "a line" | "a record",
  file: string,
  at: { line: number; column: number; offset: number },
): DiagnosticError {
  const limit = WORKSPACE_LIMITS.recordBytes;
  return dataError(
    `${what} longer than ${limit / (1024 * 1024)} MiB (${limit} bytes), the limit of one record; it is not read`,
    file,
    { start: at, end: at },
  );
}

/**
 * Streams CSV records (arrays of fields) with RFC 4180 quoting, including quoted newlines. A record past
 * WORKSPACE_LIMITS.recordBytes (its bytes before the newline that ends it) is refused as its bytes pass the limit,
 * at the line it starts on.
 */
async function* csvRecords(file: string): AsyncGenerator<string[]> {
  const limit = WORKSPACE_LIMITS.recordBytes;
  let field = "";
  let record: string[] = [];
  let inQuotes = false;
  let quotePending = false;
  let first = true;
  let line = 1;
  let offset = 0;
  let recordBytes = 0;
  let recordAt = { line: 1, column: 1, offset: 0 };
  for await (const chunk of fileChunks(file, { encoding: "utf8" })) {
    let text = chunk as string;
    if (first && text.charCodeAt(0) === 0xfeff) {
      text = text.slice(1);
      offset = 3;
      recordAt = { line: 1, column: 1, offset };
    }
    first = false;
    for (const ch of text) {
      const bytes = utf8Length(ch);
      offset += bytes;
      if (ch === "\n") line++;
      // Every character but the newline that ends the record (one outside quotes, or after a closing quote).
      if (ch !== "\n" || (inQuotes && !quotePending)) {
        recordBytes += bytes;
        if (recordBytes > limit) throw recordOverLimit("a record", file, recordAt);
      }
      if (inQuotes) {
        if (quotePending) {
          quotePending = false;
          if (ch === '"') {
            field += '"';
            continue;
          }
          inQuotes = false;
        } else if (ch === '"') {
          quotePending = true;
          continue;
        } else {
          field += ch;
          continue;
        }
      }
      if (ch === '"' && field === "") inQuotes = true;
      else if (ch === ",") {
        record.push(field);
        field = "";
      } else if (ch === "\n") {
        record.push(field.endsWith("\r") ? field.slice(0, -1) : field);
        field = "";
        if (!(record.length === 1 && record[0] === "")) yield record;
        record = [];
        recordBytes = 0;
        recordAt = { line, column: 1, offset };
      } else field += ch;
    }
  }
  if (field !== "" || record.length > 0) {
    record.push(field);
    yield record;
  }
}

/** The raw records of a file as objects keyed by column name. */
export async function* rawRecords(file: string, format: FileFormat): AsyncGenerator<Record<string, unknown>> {
  if (format !== "csv") {
    yield* jsonRecords(file, format);
    return;
  }
  let header: string[] | undefined;
  for await (const rec of csvRecords(file)) {
    if (!header) {
      // The portal's export names datetime columns `TimeGenerated [UTC]`.
      header = rec.map((h) => h.replace(/\s*\[UTC\]$/i, ""));
      continue;
    }
    const obj: Record<string, unknown> = {};
    header.forEach((h, i) => {
      obj[h] = rec[i];
    });
    yield obj;
  }
}

/** A line of an NDJSON file reached WORKSPACE_LIMITS.recordBytes; `offset`: the byte its line starts at. */
class LineOverLimit extends Error {
  constructor(readonly offset: number) {
    super("an NDJSON line over the limit");
  }
}

/**
 * The text of an NDJSON file in chunks of whole lines (the last chunk may lack its final newline), as UTF-8. A
 * chunk that is all ASCII (the usual export) is decoded as Latin-1, which gives the same string ~15× faster than
 * the UTF-8 decoder; a chunk is cut after a newline byte, which is never inside a multi-byte sequence.
 *
 * A line longer than WORKSPACE_LIMITS.recordBytes (its bytes before the newline) throws LineOverLimit as soon as
 * its bytes read pass the limit, one chunk past it at most: it is neither read to its end nor held whole. A chunk
 * (1 MiB) is shorter than the limit, so such a line is always one cut across chunks, which is where it is counted.
 */
async function* ndjsonTexts(file: string): AsyncGenerator<string> {
  const limit = WORKSPACE_LIMITS.recordBytes;
  // The line cut at the end of the chunks read so far: its pieces (joined once, when its end comes), their bytes,
  // and where in the file it starts.
  let rest: Buffer[] = [];
  let restBytes = 0;
  let restStart = 0;
  let read = 0;
  for await (const chunk of fileChunks(file, { highWaterMark: 1 << 20 })) {
    const buf = chunk as Buffer;
    const end = buf.lastIndexOf(10) + 1;
    if (end === 0) {
      if (restBytes === 0) restStart = read;
      rest.push(buf);
      restBytes += buf.length;
      read += buf.length;
      if (restBytes > limit) throw new LineOverLimit(restStart);
      continue;
    }
    let start = 0;
    if (restBytes > 0) {
      // The line cut at the end of the previous chunk, alone: only it is copied.
      start = buf.indexOf(10) + 1;
      if (restBytes + start - 1 > limit) throw new LineOverLimit(restStart);
      rest.push(buf.subarray(0, start));
      yield (await decodeUtf8(Buffer.concat(rest), file)) as string;
    }
    if (start < end) yield (await decodeUtf8(buf.subarray(start, end), file)) as string;
    rest = end < buf.length ? [buf.subarray(end)] : [];
    restBytes = buf.length - end;
    restStart = read + end;
    read += buf.length;
  }
  if (restBytes > 0) yield (await decodeUtf8(Buffer.concat(rest), file)) as string;
}

/**
 * Whole lines of `file` as text. Bytes that are not UTF-8 are refused at their line and column (the decoder would
 * make them U+FFFD, and a query would compare values the file does not hold); only then is the file read again to
 * find them. A promise only on that path.
 */
function decodeUtf8(bytes: Buffer, file: string): string | Promise<never> {
  if (isAscii(bytes)) return bytes.toString("latin1");
  if (isUtf8(bytes)) return bytes.toString("utf8");
  return firstInvalidUtf8(file).then((at) => {
    throw dataError(
      `not valid UTF-8 (byte 0x${at.byte.toString(16).toUpperCase().padStart(2, "0")}); a table file must be UTF-8`,
      file,
      { start: at, end: at },
    );
  });
}

/** Where the first byte of `file` that is not UTF-8 is: its 1-based line and column (in characters), offset, byte. */
async function firstInvalidUtf8(file: string): Promise<{ line: number; column: number; offset: number; byte: number }> {
  let line = 1;
  let lineStart = 0;
  let offset = 0;
  let current: Buffer[] = [];
  const check = (lineBytes: Buffer) => {
    const bad = firstNotUtf8(lineBytes);
    if (!bad) return undefined;
    return { line, column: bad.span.start.column, offset: lineStart + bad.offset, byte: lineBytes[bad.offset] ?? 0 };
  };
  for await (const chunk of fileChunks(file, { highWaterMark: 1 << 20 })) {
    const buf = chunk as Buffer;
    let from = 0;
    for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, from)) {
      current.push(buf.subarray(from, nl));
      const found = check(Buffer.concat(current));
      if (found) return found;
      current = [];
      line++;
      lineStart = offset + nl + 1;
      from = nl + 1;
    }
    current.push(buf.subarray(from));
    offset += buf.length;
  }
  return check(Buffer.concat(current)) ?? { line, column: 1, offset, byte: 0 };
}

/**
 * Calls `each(line, lineNumber)` for every line of an NDJSON chunk of whole lines that holds a record (blank lines
 * are skipped but counted); returns the number of lines the chunk had.
 */
function eachNdjsonLine(text: string, firstLine: number, each: (line: string, lineNo: number) => void): number {
  let lineNo = firstLine;
  let start = 0;
  while (start < text.length) {
    let nl = text.indexOf("\n", start);
    if (nl < 0) nl = text.length;
    const line = text.slice(start, nl);
    // A line starting with '{' is the common case; only others are checked for blankness (trim allocates).
    if (line.charCodeAt(0) === 123 || line.trim() !== "") each(line, lineNo);
    lineNo++;
    start = nl + 1;
  }
  return lineNo - firstLine;
}

function parseNdjsonLine(line: string, lineNo: number, file: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch (error) {
    throw invalidJsonLine(error, line, lineNo, file);
  }
}

/** A line that is not JSON, at its file:line:column (the column from JSON.parse's "at position N", when it says). */
function invalidJsonLine(error: unknown, line: string, lineNo: number, file: string): Error {
  const message = (error as Error).message;
  const position = /at position (\d+)/.exec(message);
  const offset = Math.min(Number(position?.[1] ?? 0), line.length);
  const at = { line: lineNo, column: offset + 1, offset };
  return dataError(`invalid JSON: ${message}`, file, { start: at, end: at });
}

/**
 * Every line of an NDJSON file that holds a record, a chunk at a time: `each(line, lineNo)` for each, then a yield
 * after each chunk (the caller hands on what it gathered), without a per-record async step. A line over
 * WORKSPACE_LIMITS.recordBytes is WS502 at its file:line, naming the limit.
 */
async function* ndjsonLines(file: string, each: (line: string, lineNo: number) => void): AsyncGenerator<void> {
  let lineNo = 1;
  try {
    for await (const text of ndjsonTexts(file)) {
      lineNo += eachNdjsonLine(text, lineNo, each);
      yield;
    }
  } catch (error) {
    if (!(error instanceof LineOverLimit)) throw error;
    throw recordOverLimit("a line", file, { line: lineNo, column: 1, offset: error.offset });
  }
}

/** NDJSON records in batches (one per chunk read). */
async function* ndjsonBatches(file: string): AsyncGenerator<Record<string, unknown>[]> {
  let out: Record<string, unknown>[] = [];
  for await (const _chunk of ndjsonLines(file, (line, n) => out.push(parseNdjsonLine(line, n, file)))) {
    if (out.length) {
      yield out;
      out = [];
    }
  }
}

/** Raw records in batches, whatever the format. */
async function* rawRecordBatches(file: string, format: FileFormat): AsyncGenerator<Record<string, unknown>[]> {
  if (format === "ndjson") {
    yield* ndjsonBatches(file);
    return;
  }
  let batch: Record<string, unknown>[] = [];
  for await (const rec of rawRecords(file, format)) {
    batch.push(rec);
    if (batch.length >= BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/** A test of rows that reads only the `reads` slots (the rest of the row it is given may be stale). */
export interface RowTest {
  readonly keep: (row: Row) => boolean;
  readonly reads: ReadonlySet<number>;
}

/**
 * Streams typed row batches of a table file; with `tests`, only the rows all of them keep (in order). A test sees
 * a scratch row where only the slots the tests read are converted; a whole row is built only for a kept record.
 */
export async function* typedBatches(
  file: string,
  format: FileFormat,
  columns: readonly Column[],
  tests: readonly RowTest[] = [],
): AsyncGenerator<Row[]> {
  const fromCsv = format === "csv";
  const converters = columns.map((c) => cellConverter(c.type, fromCsv));
  const slots = new Map(columns.map((c, i) => [c.name, i] as const));
  // Absent columns keep their default; only the keys a record has are converted.
  const template: Row = columns.map((c) => (c.type === "string" ? "" : null));
  const timeGeneratedAt = columns.findIndex((c) => c.name === "TimeGenerated" && c.type === "datetime");
  const timestampAt = columns.findIndex((c) => c.name === "Timestamp" && c.type === "datetime");
  const fallback = timeGeneratedAt >= 0 && timestampAt >= 0;
  const toRow = (rec: Record<string, unknown>): Row => {
    const row = template.slice();
    for (const key in rec) {
      const i = slots.get(key);
      if (i !== undefined) row[i] = (converters[i] as (raw: unknown) => Value)(rec[key]);
    }
    // Advanced Hunting exports have Timestamp only; Sentinel's copy of those tables also has TimeGenerated.
    if (fallback && row[timeGeneratedAt] === null) row[timeGeneratedAt] = row[timestampAt] as Value;
    return row;
  };
  const read = new Set<number>();
  for (const t of tests) for (const i of t.reads) read.add(i);
  if (fallback && read.has(timeGeneratedAt)) read.add(timestampAt);
  const reads = [...read].map((i) => ({
    i,
    name: columns[i]?.name ?? "",
    convert: converters[i] as (raw: unknown) => Value,
  }));
  const scratch = template.slice();
  const kept = (rec: Record<string, unknown>): boolean => {
    for (const r of reads) scratch[r.i] = r.convert(rec[r.name]);
    if (fallback && scratch[timeGeneratedAt] === null) scratch[timeGeneratedAt] = scratch[timestampAt] as Value;
    for (const t of tests) if (!t.keep(scratch)) return false;
    return true;
  };
  if (format === "ndjson") {
    // Each line parsed, tested and typed in one pass: a record is garbage as soon as its line is done.
    let batch: Row[] = [];
    const each =
      tests.length === 0
        ? (line: string, n: number) => {
            batch.push(toRow(parseNdjsonLine(line, n, file)));
          }
        : (line: string, n: number) => {
            const rec = parseNdjsonLine(line, n, file);
            if (kept(rec)) batch.push(toRow(rec));
          };
    for await (const _chunk of ndjsonLines(file, each)) {
      if (batch.length) {
        yield batch;
        batch = [];
      }
    }
    return;
  }
  for await (const records of rawRecordBatches(file, format)) {
    if (tests.length === 0) {
      const batch: Row[] = new Array(records.length);
      for (let r = 0; r < records.length; r++) batch[r] = toRow(records[r] as Record<string, unknown>);
      yield batch;
      continue;
    }
    const batch: Row[] = [];
    for (const rec of records) if (kept(rec)) batch.push(toRow(rec));
    if (batch.length) yield batch;
  }
}

/** A converter for one column, with the common cases (already the right JS type, absent) decided first. */
function cellConverter(type: ScalarType, fromCsv: boolean): (raw: unknown) => Value {
  const missing: Value = type === "string" ? "" : null;
  switch (type) {
    case "string":
      return (raw) =>
        typeof raw === "string" ? raw : raw === undefined || raw === null ? missing : convertCell(raw, type, fromCsv);
    case "long":
    case "int":
    case "real":
    case "decimal":
      return (raw) =>
        typeof raw === "number" ? raw : raw === undefined || raw === null ? null : convertCell(raw, type, fromCsv);
    default:
      return (raw) => (raw === undefined || raw === null ? missing : convertCell(raw, type, fromCsv));
  }
}

/** Infers column types from a sample of records (for tables without a schema, and extra columns). */
function inferType(values: readonly unknown[], fromCsv: boolean): ScalarType {
  const present = values.filter((v) => v !== undefined && v !== null && v !== "");
  if (present.length === 0) return "string";
  if (present.every((v) => typeof v === "boolean" || (fromCsv && /^(true|false)$/i.test(String(v))))) return "bool";
  if (present.every((v) => typeof v === "number" || (fromCsv && /^-?\d+$/.test(String(v))))) {
    return present.every((v) => Number.isInteger(Number(v))) ? "long" : "real";
  }
  if (present.every((v) => typeof v === "number" || (fromCsv && /^-?\d*\.?\d+(e[+-]?\d+)?$/i.test(String(v)))))
    return "real";
  if (present.every((v) => typeof v === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v))) return "datetime";
  if (present.every((v) => typeof v === "object")) return "dynamic";
  return "string";
}

/** Reads the first records of a file to learn its columns (in first-seen order) and their types. */
export async function sampleColumns(file: string, format: FileFormat, limit = 200): Promise<Column[]> {
  const values = new Map<string, unknown[]>();
  let n = 0;
  for await (const rec of rawRecords(file, format)) {
    for (const [k, v] of Object.entries(rec)) {
      const list = values.get(k) ?? [];
      list.push(v);
      values.set(k, list);
    }
    if (++n >= limit) break;
  }
  return [...values.entries()].map(([name, vs]) => ({ name, type: inferType(vs, format === "csv") }));
}
