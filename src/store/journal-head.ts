/**
 * The head of a journal line's body (local-state-store.ts): what a reader's index needs (the operation, the kind,
 * partition and key, the parts the record refers to; a part's id and its shape's), read without parsing the value
 * that follows it. Opening a journal reads every line, but its values only when they are asked for, and most of a
 * line is its value.
 *
 * The store writes a line's fields in one order: `{"o":"p"|"d","k":…,"p":…,"y":…[,"r":[…]][,"v":…]}` for a
 * record, `{"o":"b","y":…[,"c":…],"v"|"a":…}` for a part. A body that does not begin that way (a line made by hand,
 * or by another writer) gives undefined, and the reader parses it whole. A string without an escape is its UTF-8
 * bytes; one with an escape is read by JSON.parse.
 */

import type { StateKind } from "./state-store.js";

/** What a reader's index takes from a line, as JSON.parse would give it. */
export type LineHead =
  | {
      readonly o: "p" | "d";
      /** As written: not checked against the kinds (nor is a line's that is parsed whole). */
      readonly k: StateKind;
      readonly p: string;
      readonly y: string;
      /** The parts of the record's value written apart: where each goes (keys from the top), and its id. */
      readonly r?: ReadonlyArray<readonly [readonly string[], string]>;
    }
  | {
      /** A part that records refer to: `y` is its id, `c` its shape's when it is written in one. */
      readonly o: "b";
      readonly y: string;
      readonly c?: string;
    };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;

/** The head of a line's body (the JSON after the checksum), or undefined when it is not in the store's own form. */
export function readLineHead(body: Buffer): LineHead | undefined {
  if (!startsWith(body, 0, '{"o":"') || body[body.length - 1] !== CLOSE_BRACE) return undefined;
  const op = String.fromCharCode(body[6] ?? 0);
  if (body[7] !== QUOTE || body[8] !== COMMA) return undefined;
  const at = { i: 9 };
  if (op === "b") {
    const y = field(body, at, '"y":');
    if (y === undefined || body[at.i++] !== COMMA) return undefined;
    let c: string | undefined;
    if (startsWith(body, at.i, '"c":')) {
      c = field(body, at, '"c":');
      if (c === undefined || body[at.i++] !== COMMA) return undefined;
    }
    if (!startsWith(body, at.i, '"v":') && !startsWith(body, at.i, '"a":')) return undefined;
    return c === undefined ? { o: op, y } : { o: op, y, c };
  }
  if (op !== "p" && op !== "d") return undefined;
  const k = field(body, at, '"k":') as StateKind | undefined;
  if (k === undefined || body[at.i++] !== COMMA) return undefined;
  const p = field(body, at, '"p":');
  if (p === undefined || body[at.i++] !== COMMA) return undefined;
  const y = field(body, at, '"y":');
  if (y === undefined) return undefined;
  if (op === "d") return at.i === body.length - 1 ? { o: op, k, p, y } : undefined;
  if (body[at.i++] !== COMMA) return undefined;
  let r: ReadonlyArray<readonly [readonly string[], string]> | undefined;
  if (startsWith(body, at.i, '"r":')) {
    const start = at.i + 4;
    const end = arrayEnd(body, start);
    if (end === undefined || body[end] !== COMMA) return undefined;
    let refs: unknown;
    try {
      refs = JSON.parse(body.toString("utf8", start, end));
    } catch {
      return undefined;
    }
    if (!validRefs(refs)) return undefined;
    r = refs;
    at.i = end + 1;
  }
  if (!startsWith(body, at.i, '"v":')) return undefined;
  return r === undefined ? { o: op, k, p, y } : { o: op, k, p, y, r };
}

/** Whether a line's `r` is a list of [path of keys, part id]; `__proto__` is never a key of a path. */
export function validRefs(refs: unknown): refs is ReadonlyArray<readonly [readonly string[], string]> {
  return (
    Array.isArray(refs) &&
    refs.every(
      (ref) =>
        Array.isArray(ref) &&
        ref.length === 2 &&
        typeof ref[1] === "string" &&
        Array.isArray(ref[0]) &&
        ref[0].length > 0 &&
        ref[0].every((key: unknown) => typeof key === "string" && key !== "__proto__"),
    )
  );
}

/** Whether the body holds `text` (ASCII) at `i`. */
function startsWith(body: Buffer, i: number, text: string): boolean {
  if (i + text.length > body.length) return false;
  for (let j = 0; j < text.length; j++) if (body[i + j] !== text.charCodeAt(j)) return false;
  return true;
}

/** `"<name>":<string>` at `at.i` (`head`: `"<name>":`): the string, moving past it; undefined when not there. */
function field(body: Buffer, at: { i: number }, head: string): string | undefined {
  if (!startsWith(body, at.i, head)) return undefined;
  at.i += head.length;
  return string(body, at);
}

/** A JSON string at `at.i`, moving past it; undefined when there is none or it is not well formed. */
function string(body: Buffer, at: { i: number }): string | undefined {
  const start = at.i;
  if (body[start] !== QUOTE) return undefined;
  let escaped = false;
  for (let j = start + 1; j < body.length; j++) {
    const b = body[j]!;
    if (b === QUOTE) {
      at.i = j + 1;
      if (!escaped) return body.toString("utf8", start + 1, j);
      try {
        const text = JSON.parse(body.toString("utf8", start, j + 1)) as unknown;
        return typeof text === "string" ? text : undefined;
      } catch {
        return undefined;
      }
    }
    if (b < 0x20) return undefined; // not JSON: a control character is written escaped
    if (b === BACKSLASH) {
      escaped = true;
      j++;
    }
  }
  return undefined;
}

/** Where the JSON array at `start` ends (the index after its `]`), the brackets inside its strings skipped. */
function arrayEnd(body: Buffer, start: number): number | undefined {
  if (body[start] !== OPEN_BRACKET) return undefined;
  let depth = 0;
  for (let j = start; j < body.length; j++) {
    const b = body[j]!;
    if (b === QUOTE) {
      for (j++; j < body.length && body[j] !== QUOTE; j++) if (body[j] === BACKSLASH) j++;
      continue;
    }
    if (b === OPEN_BRACKET) depth++;
    else if (b === CLOSE_BRACKET && --depth === 0) return j + 1;
  }
  return undefined;
}
