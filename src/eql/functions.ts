/**
 * The EQL function library of Elasticsearch: signatures (checked by the parser) and implementations (used by the
 * evaluator). Names are case-insensitive; `~` variants are case-insensitive versions of the string functions.
 * Every function returns null when a value argument is null (Elasticsearch's null propagation).
 */
import { arithmetic, isNumber, javaIntValue, toText, type Value } from "./values.js";

/** What a literal argument at a position must be; checked at parse time when the argument is a literal. */
/**
 * Functions Elasticsearch runs as queries (not scripts) when their first argument is a field and the others
 * constants: a missing field then does not match, and the negation matches (bool must_not).
 */
export const QUERY_FUNCTIONS: ReadonlySet<string> = new Set(["startswith", "endswith", "stringcontains", "cidrmatch"]);

export type ParamType = "string" | "number" | "integer" | "boolean" | "any";

interface FunctionSignature {
  /** Canonical name as Elasticsearch documents it (`cidrMatch`). */
  readonly name: string;
  readonly minArgs: number;
  /** Infinity for variadic functions. */
  readonly maxArgs: number;
  /** Type of each parameter; the last one repeats for variadic functions. */
  readonly params: readonly ParamType[];
  /** Whether a `~` (case-insensitive) variant exists. */
  readonly caseInsensitiveVariant: boolean;
  /** Parameter positions that must be constants (literals) in Elasticsearch. */
  readonly constantParams?: readonly number[];
}

const sig = (
  name: string,
  minArgs: number,
  maxArgs: number,
  params: ParamType[],
  caseInsensitiveVariant = false,
  constantParams?: number[],
): FunctionSignature => ({
  name,
  minArgs,
  maxArgs,
  params,
  caseInsensitiveVariant,
  ...(constantParams ? { constantParams } : {}),
});

/** Every function of the Elasticsearch EQL reference, keyed by lower-case name. */
export const FUNCTIONS: ReadonlyMap<string, FunctionSignature> = new Map(
  [
    sig("add", 2, 2, ["number", "number"]),
    sig("between", 3, 4, ["string", "string", "string", "boolean"], true, [3]),
    sig("cidrMatch", 2, Number.POSITIVE_INFINITY, ["any", "string"], false, [1]),
    sig("concat", 1, Number.POSITIVE_INFINITY, ["any"]),
    sig("divide", 2, 2, ["number", "number"]),
    sig("endsWith", 2, 2, ["string", "string"], true),
    sig("indexOf", 2, 3, ["string", "string", "integer"], true),
    sig("length", 1, 1, ["string"]),
    sig("modulo", 2, 2, ["number", "number"]),
    sig("multiply", 2, 2, ["number", "number"]),
    sig("number", 1, 2, ["string", "integer"], false, [1]),
    sig("startsWith", 2, 2, ["string", "string"], true),
    sig("string", 1, 1, ["any"]),
    sig("stringContains", 2, 2, ["string", "string"], true),
    sig("substring", 2, 3, ["string", "integer", "integer"]),
    sig("subtract", 2, 2, ["number", "number"]),
  ].map((s) => [s.name.toLowerCase(), s]),
);

/** Calls a function by canonical lower-case name on evaluated arguments. */
export function callFunction(name: string, caseInsensitive: boolean, args: readonly Value[], decimal: boolean): Value {
  const fold = (s: string) => (caseInsensitive ? s.toLowerCase() : s);
  const str = (i: number): string | null => {
    const v = args[i];
    return v === null || v === undefined ? null : toText(v);
  };
  switch (name) {
    case "add":
      return arithmetic("+", args[0] ?? null, args[1] ?? null, decimal);
    case "subtract":
      return arithmetic("-", args[0] ?? null, args[1] ?? null, decimal);
    case "multiply":
      return arithmetic("*", args[0] ?? null, args[1] ?? null, decimal);
    case "divide":
      return arithmetic("/", args[0] ?? null, args[1] ?? null, decimal);
    case "modulo":
      return arithmetic("%", args[0] ?? null, args[1] ?? null, decimal);
    case "between": {
      const source = str(0);
      const left = str(1);
      const right = str(2);
      if (source === null || left === null || right === null) return null;
      const greedy = args[3] === true;
      const s = fold(source);
      const l = fold(left);
      const r = fold(right);
      const at = s.indexOf(l);
      if (at === -1) return "";
      const from = at + l.length;
      const end = greedy ? s.lastIndexOf(r) : s.indexOf(r, from);
      if (end === -1 || end < from) return "";
      return source.slice(from, end);
    }
    case "cidrmatch": {
      // "`<cidr_block>` (Required, string or `null`) CIDR block you wish to search. If `null`, the function returns
      // `null`." (EQL function reference), as a null address does
      const ip = str(0);
      const cidrs = args.slice(1);
      if (ip === null || cidrs.some((c) => c === null || c === undefined)) return null;
      return cidrs.some((c) => typeof c === "string" && cidrContains(c, ip));
    }
    case "concat": {
      let out = "";
      for (let i = 0; i < args.length; i++) {
        const s = str(i);
        if (s === null) return null;
        out += s;
      }
      return out;
    }
    case "endswith": {
      const s = str(0);
      const x = str(1);
      return s === null || x === null ? null : fold(s).endsWith(fold(x));
    }
    case "startswith": {
      const s = str(0);
      const x = str(1);
      return s === null || x === null ? null : fold(s).startsWith(fold(x));
    }
    case "stringcontains": {
      const s = str(0);
      const x = str(1);
      if (s === null || x === null) return null;
      // "stringContains("", "") // returns false", "stringContains(process.command_line, "") // returns false" (EQL
      // function reference): an empty source or substring contains nothing, where JavaScript's includes says true.
      // (A field against a constant is a query, not this: compile-expr.ts.)
      return s !== "" && x !== "" && fold(s).includes(fold(x));
    }
    case "indexof": {
      const s = str(0);
      const x = str(1);
      if (s === null || x === null) return null;
      const start = args[2];
      // "`<start_pos>` (Optional, integer or `null`) ... If this argument is `null` ... the function returns `null`"
      // (EQL function reference; `indexOf(url.domain, ".", null) // returns null`)
      if (args.length > 2 && (start === null || start === undefined)) return null;
      // Elasticsearch takes the start's intValue() and Java's indexOf reads a negative start as 0
      // (IndexOfFunctionProcessor.doProcess)
      const from = isNumber(start) ? Math.max(0, javaIntValue(start)) : 0;
      const at = fold(s).indexOf(fold(x), from);
      return at === -1 ? null : at;
    }
    case "length": {
      const s = str(0);
      return s === null ? null : s.length; // UTF-16 code units, as Java's String.length
    }
    case "number": {
      const s = str(0);
      if (s === null) return null;
      // "Strings that begin with `0x` are auto-detected as hexadecimal and use a default <base_num> of 16" (also
      // when the base is an explicit null: "If this argument is explicitly null, the default value is used")
      const base = isNumber(args[1]) ? args[1] : s.trim().startsWith("0x") ? 16 : 10;
      return parseNumber(s, base);
    }
    case "string":
      return str(0);
    case "substring": {
      const s = str(0);
      if (s === null) return null;
      const start = isNumber(args[1]) ? Math.trunc(args[1]) : 0;
      const end = isNumber(args[2]) ? Math.trunc(args[2]) : undefined;
      return pySlice(s, start, end);
    }
    default:
      throw new Error(`unknown EQL function ${name}`);
  }
}

/** Python-style slicing, as EQL's substring: negative positions count from the end. */
function pySlice(s: string, start: number, end: number | undefined): string {
  const len = s.length;
  const norm = (i: number) => (i < 0 ? Math.max(0, len + i) : Math.min(len, i));
  const from = norm(start);
  const to = end === undefined ? len : norm(end);
  return to <= from ? "" : s.slice(from, to);
}

function parseNumber(text: string, base: number): number | null {
  const s = text.trim();
  if (base === 10) {
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return null;
    return Number(s);
  }
  if (base < 2 || base > 36) return null;
  let digits = s;
  let sign = 1;
  if (digits.startsWith("-")) {
    sign = -1;
    digits = digits.slice(1);
  } else if (digits.startsWith("+")) digits = digits.slice(1);
  if (base === 16 && /^0x/i.test(digits)) digits = digits.slice(2);
  const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz".slice(0, base);
  if (digits === "" || [...digits.toLowerCase()].some((d) => !alphabet.includes(d))) return null;
  return sign * Number.parseInt(digits, base);
}

// ── CIDR ─────────────────────────────────────────────────────────────────────

/** Parses an IPv4 or IPv6 address to its bytes, or null. */
function parseIp(text: string): number[] | null {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const parts = text.split(".").map(Number);
    return parts.every((p) => p <= 255) ? parts : null;
  }
  if (!text.includes(":")) return null;
  let head = text;
  let tailV4: number[] = [];
  const v4 = /(\d{1,3}(\.\d{1,3}){3})$/.exec(text);
  if (v4) {
    const bytes = parseIp(v4[1] as string);
    if (!bytes) return null;
    tailV4 = bytes;
    head = text.slice(0, text.length - (v4[1] as string).length);
    if (head.endsWith(":") && !head.endsWith("::")) head = head.slice(0, -1);
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const left = groups(halves[0] as string);
  const right = halves.length === 2 ? groups(halves[1] as string) : [];
  const wanted = 8 - tailV4.length / 2;
  const missing = wanted - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...right];
  const bytes: number[] = [];
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const v = Number.parseInt(g, 16);
    bytes.push(v >> 8, v & 0xff);
  }
  return [...bytes, ...tailV4];
}

function cidrContains(cidr: string, ip: string): boolean {
  const slash = cidr.indexOf("/");
  const net = parseIp(slash === -1 ? cidr : cidr.slice(0, slash));
  const addr = parseIp(ip);
  if (!net || !addr) return false;
  const bits = slash === -1 ? net.length * 8 : Number(cidr.slice(slash + 1));
  if (!Number.isInteger(bits) || bits < 0 || bits > net.length * 8) return false;
  // Elasticsearch's ip type keeps every address in 16 bytes, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d), and an
  // IPv4 prefix as that prefix + 96 bits: so ::ffff:10.1.2.3 is in 10.0.0.0/8, and 10.1.2.3 in ::ffff:0:0/96
  const a = to16(addr);
  const n = to16(net);
  return prefixEquals(a, n, net.length === 4 ? bits + 96 : bits);
}

const to16 = (bytes: readonly number[]): readonly number[] =>
  bytes.length === 4 ? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...bytes] : bytes;

function prefixEquals(a: readonly number[], net: readonly number[], bits: number): boolean {
  for (let b = 0; b < bits; b++) {
    const byte = b >> 3;
    const mask = 0x80 >> (b & 7);
    if (((a[byte] as number) & mask) !== ((net[byte] as number) & mask)) return false;
  }
  return true;
}

/** Whether a CIDR literal is well-formed (checked at parse time). */
export function isValidCidr(cidr: string): boolean {
  const slash = cidr.indexOf("/");
  const net = parseIp(slash === -1 ? cidr : cidr.slice(0, slash));
  if (!net) return false;
  if (slash === -1) return true;
  const bits = cidr.slice(slash + 1);
  return /^\d+$/.test(bits) && Number(bits) <= net.length * 8;
}
