/**
 * The large parts of the local journal's values (local-state-store.ts), written once as lines of their own and
 * referred to by the records that hold them:
 *
 * - an object of PART_KEYS keys or more (a result row), within PART_DEPTH levels of a record's value. Once an
 *   object with the same keys in the same order was met (the rows of one query), it is written as its shape, the
 *   list of its keys (a part of its own, `{"o":"b","y":<id>,"v":[keys…]}`), and its values in the shape's order,
 *   `{"o":"b","y":<id>,"c":<shape id>,"a":[values…]}` (one JSON array: no key written again; a Log Analytics row's
 *   empty string columns, most of a wide row, are `""`). Journals before the arrays wrote the entries that are not
 *   empty strings, `"c":<shape id>,"v":{entries}`, a key of the shape missing from `v` holding "": still read. Any
 *   other (the first of its keys, one whose values JSON would not keep whole that way, e.g. undefined) is written as
 *   it is, `{"o":"b","y":<id>,"v":{…}}`;
 * - a string of PART_CHARS characters or more met before (a query text, in every bookmark);
 * - a frozen array of plain values whose JSON is ARRAY_PART_CHARS characters or more (a hunt's incident labels).
 *
 * An id is the SHA-256 (base64url) of the part's JSON (an object in a shape: of its `"c":…,"a":…` text), so equal
 * parts written by two processes are one. A part is encoded once per object while the object holds the same keys and
 * values (compared one by one, not encoded again; an object holding an object or array is encoded every time): an
 * object changed after it was written is written as it is now.
 */
import { hash } from "node:crypto";

/** A part of a value: its id, and its line's text after the id when it was just encoded. */
export interface Part {
  readonly id: string;
  readonly of: unknown;
  /** Set for an object written in a shape. */
  readonly shape?: Shape;
  readonly text?: string;
}

/** The keys of objects written in a shape, in order (its id: the SHA-256 of their JSON). */
export interface Shape {
  readonly id: string;
  readonly keys: readonly string[];
}

/** Keys met lately, newest first: a shape once met again (a hunt's rows share a few; a status record's are its own). */
interface KnownKeys {
  readonly keys: readonly string[];
  shape?: Shape;
}

const PART_CHARS = 512;
const PART_KEYS = 16;
const PART_DEPTH = 3;

/**
 * The parts of the large objects encoded so far (not their text: a part written already is not encoded again), with
 * the keys and values they were encoded from.
 */
const objectParts = new WeakMap<object, EncodedObject>();

interface EncodedObject {
  readonly part: Part;
  readonly keys: readonly string[];
  /** The values of `keys`, in order: each a string, number, boolean, undefined or null. */
  readonly values: readonly unknown[];
}
/**
 * Large strings met lately, with their ids once met twice (a hunt's query text, in every bookmark, is a part; an
 * incident's description, written once, stays in its record).
 */
const stringIds = new Map<string, string | null>();
const STRINGS_KEPT = 256;
const knownKeys: KnownKeys[] = [];
const KEYS_KEPT = 16;
/** Objects of more keys are written as they are (a map of hits, not a row). */
const SHAPE_KEYS = 1024;

/**
 * The value with its large parts taken out (`null` in their place; copies made along their paths, the value itself
 * left as it is), and the parts with where they go in `refs`. Only plain objects are looked into.
 */
export function withoutParts(value: unknown, depth: number, at: string[], refs: Array<[string[], Part]>): unknown {
  // (An object with a toJSON of its own is written as its toJSON gives it: nothing in it is looked into.)
  if (!isPlainObject(value) || typeof value.toJSON === "function") return value;
  let copy: Record<string, unknown> | undefined;
  for (const key in value) {
    if (!Object.hasOwn(value, key) || key === "__proto__") continue; // left in place: an own key of that name
    const v = value[key];
    let kept: unknown = v;
    if (typeof v === "string") {
      const part = v.length >= PART_CHARS ? stringPart(v) : undefined;
      if (part) {
        refs.push([[...at, key], part]);
        kept = null;
      }
    } else if (isPlainObject(v) && typeof (v as { toJSON?: unknown }).toJSON !== "function") {
      if (objectParts.has(v) || hasManyKeys(v)) {
        refs.push([[...at, key], objectPart(v)]);
        kept = null;
      } else if (depth + 1 < PART_DEPTH) {
        kept = withoutParts(v, depth + 1, [...at, key], refs);
      }
    } else if (Array.isArray(v) && Object.isFrozen(v)) {
      const part = frozenArrayPart(v);
      if (part) {
        refs.push([[...at, key], part]);
        kept = null;
      }
    }
    if (kept !== v) {
      copy ??= { ...value };
      copy[key] = kept;
    }
  }
  return copy ?? value;
}

/** The JSON text of a part's line. */
export function partLine(part: Part): string {
  const text = part.text ?? encode(part.of, part.shape)!;
  return `{"o":"b","y":${JSON.stringify(part.id)},${text}}`;
}

/** The JSON text of a shape's line. */
export function shapeLine(shape: Shape): string {
  return `{"o":"b","y":${JSON.stringify(shape.id)},"v":${JSON.stringify(shape.keys)}}`;
}

/**
 * A part as read (`v` or `a`, and `c` with the keys of its shape), whole again; undefined when it does not fit its
 * shape. `a`: the values in the shape's order; `v` (journals before the arrays): the entries that are not "".
 */
export function decodePart(v: unknown, shapeKeys: readonly string[] | undefined, a?: unknown): unknown {
  if (shapeKeys === undefined) return v;
  const template = templateOf(shapeKeys);
  // A copy of the template: every key an own data property ("__proto__" too), so assigning one sets that property.
  const out: Record<string, unknown> = { ...template };
  if (a !== undefined) {
    if (!Array.isArray(a) || a.length !== shapeKeys.length) return undefined;
    for (let i = 0; i < shapeKeys.length; i++) out[shapeKeys[i]!] = a[i];
    return out;
  }
  if (!isPlainObject(v)) return undefined;
  for (const key in v) {
    if (!Object.hasOwn(template, key)) return undefined;
    out[key] = v[key];
  }
  return out;
}

/** Puts a part back in its place in a parsed value; false when the place is not there. */
export function placePart(value: unknown, at: readonly string[], part: unknown): boolean {
  let into = value;
  for (let i = 0; i < at.length - 1; i++) {
    if (!isPlainObject(into) || !Object.hasOwn(into, at[i]!)) return false;
    into = into[at[i]!];
  }
  const key = at.at(-1)!;
  if (!isPlainObject(into) || !Object.hasOwn(into, key)) return false;
  into[key] = part;
  return true;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function hasManyKeys(value: Record<string, unknown>): boolean {
  let n = 0;
  for (const key in value) if (Object.hasOwn(value, key) && ++n >= PART_KEYS) return true;
  return false;
}

function objectPart(value: Record<string, unknown>): Part {
  // Its own keys and values, each read in one call (the order a `for…in` gives them).
  const own = Object.keys(value);
  const known = objectParts.get(value);
  if (known && unchanged(value, own, known)) return known.part;
  const shape = shapeOf(own);
  const values = shape ? jsonValues(Object.values(value)) : undefined;
  const shaped = shape && values ? `"c":${JSON.stringify(shape.id)},"a":${JSON.stringify(values)}` : undefined;
  const part: Part = shaped
    ? { id: hash("sha256", shaped, "base64url"), of: value, shape, text: shaped }
    : plainPart(value, JSON.stringify(value));
  const kept = values ?? Object.values(value);
  for (const v of kept) {
    if ((typeof v === "object" && v !== null) || typeof v === "function") {
      objectParts.delete(value); // its nested values may change unseen: encoded every time
      return part;
    }
  }
  objectParts.set(value, {
    part: { id: part.id, of: value, ...(shaped ? { shape } : {}) },
    keys: shape?.keys ?? own,
    values: kept,
  });
  return part;
}

/**
 * The values, unless one is a value JSON writes otherwise in an array than in an object: undefined, a function or a
 * symbol (left out of an object, null in an array), or a value with a toJSON of its own other than Date's (it may
 * answer undefined, or look at its key: an index in an array), or a bigint (its toJSON, if one is set, too). Such an
 * object is not written in its shape.
 */
function jsonValues(values: unknown[]): unknown[] | undefined {
  for (const v of values) {
    if (v === undefined || typeof v === "function" || typeof v === "symbol" || typeof v === "bigint") return undefined;
    if (typeof v === "object" && v !== null) {
      const toJSON = (v as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === "function" && toJSON !== Date.prototype.toJSON) return undefined;
    }
  }
  return values;
}

/** The values of an object in the order of its shape's keys (the keys it has), as `jsonValues`. */
function valuesIn(value: Record<string, unknown>, keys: readonly string[]): unknown[] | undefined {
  return sameKeys(Object.keys(value), keys) ? jsonValues(Object.values(value)) : undefined;
}

/** Does the object still hold the keys and values its part was encoded from (same order, each `Object.is`)? */
function unchanged(value: Record<string, unknown>, own: readonly string[], known: EncodedObject): boolean {
  if (!sameKeys(own, known.keys)) return false;
  const values = Object.values(value);
  for (let i = 0; i < values.length; i++) if (!Object.is(values[i], known.values[i])) return false;
  return true;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function plainPart(value: unknown, json: string): Part {
  return { id: hash("sha256", json, "base64url"), of: value, text: `"v":${json}` };
}

/**
 * A frozen array of strings, numbers, booleans and nulls (it cannot change: its part is made once) whose JSON is
 * ARRAY_PART_CHARS characters or more, e.g. a hunt's incident labels, shared by every bookmark of a verdict.
 */
function frozenArrayPart(value: readonly unknown[]): Part | undefined {
  let part = arrayParts.get(value);
  if (part === undefined) {
    const simple = value.every((v) => v === null || ["string", "number", "boolean"].includes(typeof v));
    const json = simple ? JSON.stringify(value) : "";
    part = json.length >= ARRAY_PART_CHARS ? plainPart(value, json) : null;
    arrayParts.set(value, part);
  }
  return part ?? undefined;
}

const arrayParts = new WeakMap<readonly unknown[], Part | null>();
const ARRAY_PART_CHARS = 128;

/** The string as a part, when it was met before (else undefined: it stays in its record this time). */
function stringPart(value: string): Part | undefined {
  const id = stringIds.get(value);
  if (id) return { id, of: value };
  if (stringIds.size >= STRINGS_KEPT) stringIds.clear();
  if (id === undefined) {
    stringIds.set(value, null);
    return undefined;
  }
  const part = plainPart(value, JSON.stringify(value));
  stringIds.set(value, part.id);
  return part;
}

/** A part's line text after its id: in its shape, `"c":<shape id>,"a":[values]`, else `"v":<JSON>`. */
function encode(value: unknown, shape: Shape | undefined): string | undefined {
  if (!shape) return `"v":${JSON.stringify(value)}`;
  const values = valuesIn(value as Record<string, unknown>, shape.keys);
  return values && `"c":${JSON.stringify(shape.id)},"a":${JSON.stringify(values)}`;
}

/** The shape of an object with these own keys (in order), once an object with those keys was met before. */
function shapeOf(own: string[]): Shape | undefined {
  for (const known of knownKeys) {
    if (!sameKeys(own, known.keys)) continue;
    known.shape ??= {
      id: hash("sha256", JSON.stringify(known.keys), "base64url"),
      keys: known.keys,
    };
    return known.shape;
  }
  if (own.length <= SHAPE_KEYS) {
    if (knownKeys.length >= KEYS_KEPT) knownKeys.pop();
    knownKeys.unshift({ keys: own });
  }
  return undefined;
}

/** An object with a shape's keys, each "" (what a key missing from a part's entries holds); one per shape read. */
const templates = new Map<readonly string[], Record<string, unknown>>();
const TEMPLATES_KEPT = 64;

function templateOf(keys: readonly string[]): Record<string, unknown> {
  let template = templates.get(keys);
  if (!template) {
    template = Object.fromEntries(keys.map((k) => [k, ""]));
    if (templates.size >= TEMPLATES_KEPT) templates.clear();
    templates.set(keys, template);
  }
  return template;
}
