/**
 * Runtime values of the EQL evaluator and the operations on them: comparison (with field types: date, version),
 * arithmetic with Elasticsearch's integer/decimal rules, and conversions to text.
 */

/** A scalar runtime value. Multi-valued fields are arrays of these at the field level only. */
export type Value = string | number | boolean | null;

/** Field types that change how values compare (from an Elasticsearch mapping or the evaluator's options). */
export type FieldType = "date" | "version" | "ip" | "keyword" | "text" | "long" | "double" | "boolean" | "other";

const NUMERIC = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

export const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * Java's `Number.intValue()`, as Elasticsearch takes an integer argument (IndexOfFunctionProcessor: `int startIndex =
 * ((Number) start).intValue()`): a whole number keeps its low 32 bits (a long's narrowing: 4294967296 is 0,
 * 2147483648 is -2147483648); a fraction is truncated toward 0 and held within the int range (a double's).
 */
export function javaIntValue(n: number): number {
  if (Number.isInteger(n)) return n | 0;
  return Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.trunc(n)));
}

/** A value as EQL's string() renders it. */
export function toText(v: Value): string {
  if (typeof v === "string") return v;
  if (typeof v === "number") return Number.isInteger(v) ? v.toFixed(0) : String(v);
  return String(v);
}

/** Scalar form of a raw JSON value: objects are not scalars. */
export function toValue(raw: unknown): Value {
  if (raw === null || raw === undefined) return null;
  if (typeof raw === "string" || typeof raw === "boolean") return raw;
  if (typeof raw === "number") return Number.isFinite(raw) ? raw : null;
  return null;
}

export function arithmetic(op: "+" | "-" | "*" | "/" | "%", a: Value, b: Value, decimal: boolean): Value {
  if (!isNumber(a) || !isNumber(b)) return null;
  switch (op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      if (b === 0) return null;
      // integer division when both operands are integers (Elasticsearch does not widen to float)
      return !decimal && Number.isInteger(a) && Number.isInteger(b) ? Math.trunc(a / b) : a / b;
    case "%":
      if (b === 0) return null;
      return a % b;
  }
}

/**
 * Epoch milliseconds of a date value: a number, a numeric string (epoch millis) or an ISO-8601 text, as
 * Elasticsearch's default `strict_date_optional_time||epoch_millis` tries them in turn: four digits alone are a year
 * ("the date must include the year at a minimum"), not milliseconds.
 */
export function toEpochMillis(v: Value): number | null {
  if (isNumber(v)) return v;
  if (typeof v !== "string") return null;
  if (/^\d{4}$/.test(v)) return Date.UTC(Number(v), 0, 1);
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}

interface ParsedVersion {
  readonly numbers: number[];
  readonly pre: string | null;
}

function parseVersion(v: string): ParsedVersion | null {
  const m = /^(\d+(?:\.\d+)*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(v);
  if (!m) return null;
  return { numbers: (m[1] as string).split(".").map(Number), pre: m[2] ?? null };
}

/** Elasticsearch's `version` field order: semantic versions first (pre-releases before releases), then others. */
function compareVersions(a: string, b: string): number {
  const va = parseVersion(a);
  const vb = parseVersion(b);
  if (!va || !vb) {
    if (va) return -1;
    if (vb) return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const len = Math.max(va.numbers.length, vb.numbers.length);
  for (let i = 0; i < len; i++) {
    const d = (va.numbers[i] ?? 0) - (vb.numbers[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  if (va.pre === vb.pre) return 0;
  if (va.pre === null) return 1;
  if (vb.pre === null) return -1;
  return va.pre < vb.pre ? -1 : 1;
}

/**
 * Orders two non-null values, or returns null when they cannot be compared (different types).
 * `type` is the type of the field on either side, when known.
 */
export function compareValues(a: Value, b: Value, type?: FieldType): number | null {
  if (a === null || b === null) return null;
  if (type === "date") {
    const x = toEpochMillis(a);
    const y = toEpochMillis(b);
    return x === null || y === null ? null : Math.sign(x - y);
  }
  if (type === "version" && typeof a === "string" && typeof b === "string") return compareVersions(a, b);
  if (isNumber(a) && isNumber(b)) return a < b ? -1 : a > b ? 1 : 0;
  // a number against numeric text compares as numbers, as Elasticsearch coerces a literal to a numeric field's type
  if (isNumber(a) && typeof b === "string" && NUMERIC.test(b)) return compareValues(a, Number(b));
  if (typeof a === "string" && isNumber(b) && NUMERIC.test(a)) return compareValues(Number(a), b);
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "boolean" && typeof b === "boolean") return a === b ? 0 : a ? 1 : -1;
  return null;
}

/** A stable text key of a join-key value: equal values (as Elasticsearch compares keys) give equal keys. */
export function keyOf(v: Value): string {
  if (v === null) return "n";
  if (typeof v === "number") return `d${v}`;
  if (typeof v === "boolean") return `b${v}`;
  return `s${v}`;
}

/** Total order of join-key values for sorting samples: null first, then by type, then by value. */
export function compareKeyValues(a: Value, b: Value): number {
  const rank = (v: Value) => (v === null ? 0 : typeof v === "boolean" ? 1 : typeof v === "number" ? 2 : 3);
  const d = rank(a) - rank(b);
  if (d !== 0) return d;
  return compareValues(a, b) ?? 0;
}
