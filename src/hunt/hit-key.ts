/**
 * What makes a hit the same hit in two runs: its key, the SHA-256 of the rule id, the target and the row's
 * identifying columns (device, event time, event id, process id, file hash and path…), with values put into one
 * canonical form first. Overlapping windows return the same event as the same row, so it gets the same key;
 * columns that depend on the query window (none of the identity columns do) never enter the key.
 */
import { hash } from "node:crypto";
import { ALL_HUNT_COLUMNS, huntColumnsOf } from "../targets/index.js";

export type Row = Readonly<Record<string, unknown>>;

/** Columns that identify an event, for a target not in the registry: those of every target. */
export const identityColumns: readonly string[] = ALL_HUNT_COLUMNS.identity;

/** Columns that may hold the SHA-256 of the file behind a hit, best first (every target's). */
export const sampleHashColumns: readonly string[] = ALL_HUNT_COLUMNS.sampleHash;

export interface KeyOptions {
  /** Overrides the target's identity columns (src/targets, `hunt.identity`). */
  readonly identityColumns?: readonly string[];
}

/**
 * The stable key of a hit (64 hex digits): the SHA-256 of
 * `JSON.stringify(["shmhunt-hit-v1", ruleId, target, [[column, canonical value], …]])`, the text's UTF-8 bytes written
 * piece by piece into one reused buffer (the same bytes, without the arrays or the text as a string; each column's
 * `["<column>",` encoded once per column list, the text's head once per rule and target) and hashed in one call: a
 * hunt keys every row it settles.
 */
export function hitKey(ruleId: string, target: string, row: Row, options: KeyOptions = {}): string {
  const columns = huntColumnsOf(target);
  const wanted = identityOf(options.identityColumns ?? columns.identity, columns.time);
  const text = keyText;
  const head = headOf(ruleId, target);
  text.start(head.text, head.ascii);
  let first = true;
  let identifies = false;
  for (let i = 0; i < wanted.columns.length; i++) {
    const value = row[wanted.columns[i]!];
    if (!present(value)) continue;
    if (!first) text.byte(COMMA);
    if (wanted.asciiHeads[i]) text.ascii(wanted.heads[i]!);
    else text.text(wanted.heads[i]!);
    text.json(value);
    text.byte(CLOSE);
    first = false;
    if (wanted.isTime[i]) identifies = true;
  }
  if (!identifies) {
    // No time column among the known ones: the whole row (sorted by column) is the identity.
    text.start(head.text, head.ascii);
    first = true;
    for (const column of Object.keys(row).sort()) {
      const value = row[column];
      if (!present(value)) continue;
      if (!first) text.byte(COMMA);
      text.byte(OPEN);
      text.text(JSON.stringify(column));
      text.byte(COMMA);
      text.json(value);
      text.byte(CLOSE);
      first = false;
    }
  }
  text.byte(CLOSE);
  text.byte(CLOSE);
  return hash("sha256", text.bytes(), "hex");
}

const OPEN = 0x5b;
const CLOSE = 0x5d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** A key's text as UTF-8 bytes, written into one buffer reused from key to key (grown when a row needs more). */
class KeyText {
  private buffer = Buffer.allocUnsafe(4096);
  private at = 0;

  /** Starts a key's text with its head (ASCII when the rule id and the target are: written without a copy). */
  start(head: string, ascii: boolean): void {
    this.at = 0;
    if (ascii) this.ascii(head);
    else this.text(head);
  }
  byte(b: number): void {
    this.room(1);
    this.buffer[this.at++] = b;
  }
  /** Text known to be ASCII (a column's JSON head, a number). */
  ascii(s: string): void {
    const end = s.length;
    this.room(end);
    const { buffer } = this;
    let at = this.at;
    for (let i = 0; i < end; i++) buffer[at++] = s.charCodeAt(i);
    this.at = at;
  }
  /** Any text, as UTF-8. */
  text(s: string): void {
    this.room(3 * s.length);
    this.at += this.buffer.write(s, this.at, "utf8");
  }
  /**
   * A value's canonical form as JSON: a string of printable ASCII without `"` or `\` (most of a row's) quoted as it
   * is, a finite number as JSON writes it, anything else through `canonical` and `JSON.stringify`.
   */
  json(value: unknown): void {
    if (typeof value === "string") {
      if (!maybeDateTime(value)) {
        this.string(value);
        return;
      }
    }
    if (typeof value === "number" && Number.isFinite(value)) {
      this.ascii(String(value));
      return;
    }
    const form = canonical(value);
    if (typeof form === "string") this.string(form);
    // A value JSON has no text for (a function, a symbol) is null in an array, as in the documented text.
    else this.text(JSON.stringify(form) ?? "null");
  }
  bytes(): Buffer {
    return this.buffer.subarray(0, this.at);
  }
  private string(s: string): void {
    this.room(s.length + 2);
    const { buffer } = this;
    let at = this.at;
    buffer[at++] = QUOTE;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c >= 0x7f || c === QUOTE || c === BACKSLASH) {
        this.text(JSON.stringify(s)); // an escape or a character beyond ASCII: as JSON.stringify writes it
        return;
      }
      buffer[at++] = c;
    }
    buffer[at++] = QUOTE;
    this.at = at;
  }
  private room(n: number): void {
    if (this.at + n <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buffer.length, this.at + n));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
  }
}

const keyText = new KeyText();
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** `["shmhunt-hit-v1",<rule id>,<target>,[` as JSON: the same for every row of a run, so made once per rule and target. */
let lastHead: { ruleId: string; target: string; text: string; ascii: boolean } | undefined;

function headOf(ruleId: string, target: string): { text: string; ascii: boolean } {
  if (lastHead?.ruleId !== ruleId || lastHead.target !== target) {
    const text = `["shmhunt-hit-v1",${JSON.stringify(ruleId)},${JSON.stringify(target)},[`;
    lastHead = { ruleId, target, text, ascii: PRINTABLE_ASCII.test(text) };
  }
  return lastHead;
}

/** A list of identity columns prepared once: each column's JSON head (`["<column>",`) and whether it is a time. */
interface IdentityColumns {
  readonly columns: readonly string[];
  readonly timeColumns: readonly string[];
  readonly heads: readonly string[];
  /** Whether each head is printable ASCII (copied as it is), else written as UTF-8. */
  readonly asciiHeads: readonly boolean[];
  readonly isTime: readonly boolean[];
}

/** By list (the lists are the targets' and the plans' own, read-only). */
const identities = new WeakMap<readonly string[], IdentityColumns>();

function identityOf(columns: readonly string[], timeColumns: readonly string[]): IdentityColumns {
  let identity = identities.get(columns);
  if (identity?.timeColumns !== timeColumns) {
    identity = {
      columns,
      timeColumns,
      heads: columns.map((c) => `[${JSON.stringify(c)},`),
      asciiHeads: columns.map((c) => PRINTABLE_ASCII.test(JSON.stringify(c))),
      isTime: columns.map((c) => timeColumns.includes(c)),
    };
    identities.set(columns, identity);
  }
  return identity;
}

const lowerHex = /^[0-9a-f]{64}$/;

/** The SHA-256 of the sample behind a row (lower-case), if the row names one. */
export function sampleHashOf(row: Row, columns: readonly string[] = sampleHashColumns): string | undefined {
  for (const column of columns) {
    const value = row[column];
    if (typeof value !== "string") continue;
    if (value.length === 64 && lowerHex.test(value)) return value; // its own form already (no copies made)
    if (/^[0-9a-fA-F]{64}$/.test(value.trim())) return value.trim().toLowerCase();
  }
  return undefined;
}

/**
 * The event's time from the row as `toISOString` writes it, or undefined when no time column parses: a column's text
 * when it is in that form already (no date made), else the date `eventTimeOf` reads.
 */
export function eventTimeTextOf(row: Row, timeColumns: readonly string[] = ALL_HUNT_COLUMNS.time): string | undefined {
  for (const column of timeColumns) {
    const value = row[column];
    if (typeof value === "string" && isoForm.test(value)) return value;
    const date = value instanceof Date ? value : typeof value === "string" ? new Date(value) : undefined;
    if (date && !Number.isNaN(date.getTime())) return date.toISOString();
  }
  return undefined;
}

/** A time's text as `new Date(text).toISOString()` writes it: the text itself when it is in that form already. */
export function isoTimeText(text: string): string {
  return isoForm.test(text) ? text : new Date(text).toISOString();
}

/**
 * `toISOString`'s form of a date that is surely valid (days up to 28): such a text is its own ISO form. (Other days
 * are checked by making the date.)
 */
const isoForm = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/** The event's time from the row, or undefined when no time column parses (the date of `eventTimeTextOf`). */
export function eventTimeOf(row: Row, timeColumns: readonly string[] = ALL_HUNT_COLUMNS.time): Date | undefined {
  const text = eventTimeTextOf(row, timeColumns);
  return text === undefined ? undefined : new Date(text);
}

/** Whether a row's value is there: not null, undefined or the empty string (a Log Analytics row's empty column). */
export function present(value: unknown): boolean {
  return value !== null && value !== undefined && value !== "";
}

/** Could the string be a datetime (`dddd-dd-dd…`)? Most values are not: they skip the regular expression. */
function maybeDateTime(value: string): boolean {
  return value.length >= 19 && value.charCodeAt(4) === 0x2d && value.charCodeAt(7) === 0x2d;
}

/** A datetime in its canonical form already (Kusto's), and one as `Date#toISOString` writes it: no parsing needed. */
const canonicalDateTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/;
const millisecondDateTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const isoDateTime = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)?$/i;

/**
 * One form per value: datetimes (Date objects, or ISO strings in any precision) as UTC with 7 fractional digits
 * (Kusto's 100 ns ticks); objects with sorted keys; bigints as decimal strings.
 */
export function canonical(value: unknown): unknown {
  if (value instanceof Date) return `${value.toISOString().slice(0, 23)}0000Z`;
  if (typeof value === "string") {
    if (!maybeDateTime(value) || canonicalDateTime.test(value)) return value;
    if (millisecondDateTime.test(value)) return `${value.slice(0, 23)}0000Z`; // toISOString's form, the commonest
    const match = isoDateTime.exec(value);
    if (!match) return value;
    const fraction = (match[3] ?? "").padEnd(7, "0").slice(0, 7);
    const zone = (match[4] ?? "Z").toUpperCase();
    if (zone === "Z" || zone === "+00:00" || zone === "+0000") return `${match[1]}T${match[2]}.${fraction}Z`;
    const shifted = new Date(`${match[1]}T${match[2]}${zone}`);
    if (Number.isNaN(shifted.getTime())) return value;
    return `${shifted.toISOString().slice(0, 19)}.${fraction}Z`;
  }
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
