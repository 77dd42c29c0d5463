/**
 * Built-in scalar functions. Each takes the compiled arguments and returns a closure, or undefined when the
 * function is not supported (the caller then reports WS500 naming it).
 */
import type { Ctx, Fn } from "./context.js";
import { ipv4InRange, ipv6InRange, parseIpv4, parseIpv6 } from "./ip.js";
import { parsePath, parseWindowsCommandLine, regexQuote } from "./parsing.js";
import { regexMatch, regexMatchAll, regexReplaceAll } from "./regex.js";
import type { Compiled } from "./scalars.js";
import {
  formatTimespan,
  isEmpty,
  parseDatetime,
  parseJsonValue,
  parseTimespan,
  type ScalarType,
  toKqlString,
  type Value,
} from "./values.js";

/** Milliseconds from 0001-01-01 to 1970-01-01: datetimes bin on .NET ticks, as Kusto does. */
const YEAR1_OFFSET_MS = 62_135_596_800_000;

type Builder = (args: readonly Compiled[], out: ScalarType, ctx: Ctx) => Fn | undefined;

const str = (c: Compiled | undefined): ((row: Value[]) => string) => {
  if (!c) return () => "";
  const f = c.fn;
  const t = c.type;
  return (row) => toKqlString(f(row), t);
};

const num = (c: Compiled | undefined): ((row: Value[]) => number | null) => {
  if (!c) return () => null;
  const f = c.fn;
  return (row) => {
    const v = f(row);
    if (typeof v === "number") return v;
    if (typeof v === "string" && v.trim() !== "") {
      const n = Number(v);
      return Number.isNaN(n) ? null : n;
    }
    if (typeof v === "boolean") return v ? 1 : 0;
    return null;
  };
};

function toNumber(v: Value, t: ScalarType): number | null {
  if (v === null) return null;
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") {
    if (t === "datetime") return parseDatetime(v);
    const s = v.trim();
    if (s === "") return null;
    const n = Number(s);
    return Number.isNaN(n) ? null : n;
  }
  return null;
}

function convert(v: Value, from: ScalarType, to: string): Value {
  switch (to) {
    case "string":
      return toKqlString(v, from);
    case "int":
    case "long": {
      const n = toNumber(v, from);
      return n === null ? null : Math.trunc(n);
    }
    case "real":
    case "double":
    case "decimal":
      return toNumber(v, from);
    case "bool":
    case "boolean": {
      if (typeof v === "boolean") return v;
      if (typeof v === "number") return v !== 0;
      if (typeof v === "string")
        return /^(true|1)$/i.test(v.trim()) ? true : /^(false|0)$/i.test(v.trim()) ? false : null;
      return null;
    }
    case "datetime":
      if (typeof v === "number" && from === "datetime") return v;
      return typeof v === "string" ? parseDatetime(v) : null;
    case "timespan":
      if (typeof v === "number") return from === "timespan" ? v : v / 10_000;
      return typeof v === "string" ? parseTimespan(v) : null;
    case "guid":
      return typeof v === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v.trim())
        ? v.trim().toLowerCase()
        : null;
    case "dynamic":
      return typeof v === "string" && from !== "string" ? parseJsonValue(v) : v;
    default:
      return null;
  }
}

function converter(to: string): Builder {
  return ([a]) => {
    if (!a) return undefined;
    const f = a.fn;
    const t = a.type;
    return (row) => convert(f(row), t, to);
  };
}

function codePoints(s: string): string[] {
  return Array.from(s);
}

/**
 * The number of code points in `s` (Kusto's strlen), as `Array.from(s).length` counts them without building that
 * array (over a 64 MiB value it took ~1.9 GB): a surrogate pair is one code point, a lone surrogate is one too.
 */
function codePointCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++, n++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}

function flattenArgs(args: readonly Compiled[], row: Value[]): Value[] {
  const out: Value[] = [];
  for (const a of args) {
    const v = a.fn(row);
    if (Array.isArray(v)) out.push(...(v as Value[]));
    else out.push(v);
  }
  return out;
}

function binNumber(v: number, size: number): number {
  return Math.floor(v / size) * size;
}

const BUILDERS: Readonly<Record<string, Builder>> = {
  tostring: converter("string"),
  toint: converter("int"),
  tolong: converter("long"),
  todouble: converter("real"),
  toreal: converter("real"),
  todecimal: converter("decimal"),
  tobool: converter("bool"),
  toboolean: converter("bool"),
  todatetime: converter("datetime"),
  totimespan: converter("timespan"),
  toguid: converter("guid"),
  todynamic: ([a]) => (a ? (row) => (a.type === "string" ? parse(a.fn(row)) : a.fn(row)) : undefined),
  parse_json: ([a]) => (a ? (row) => (a.type === "string" ? parse(a.fn(row)) : a.fn(row)) : undefined),
  tolower: ([a]) => {
    const s = str(a);
    return (row) => s(row).toLowerCase();
  },
  toupper: ([a]) => {
    const s = str(a);
    return (row) => s(row).toUpperCase();
  },
  /**
   * countof(text, search, kind): Microsoft's countof() reference: "normal" counts every occurrence, overlapping
   * ones included ("aa" in "aaaa" is 3); "regex" counts non-overlapping matches of an RE2 expression.
   */
  countof: ([a, b, kind]) => {
    const s = str(a);
    const n = str(b);
    const k = str(kind);
    return (row) => {
      const text = s(row);
      const search = n(row);
      if (kind && k(row) === "regex") return regexMatchAll(search, text).length;
      if (search === "") return 0;
      let count = 0;
      for (let i = text.indexOf(search); i >= 0; i = text.indexOf(search, i + 1)) count++;
      return count;
    };
  },
  strlen: ([a]) => {
    const s = str(a);
    return (row) => codePointCount(s(row));
  },
  substring: ([a, b, c]) => {
    const s = str(a);
    const start = num(b);
    const len = num(c);
    return (row) => {
      const cps = codePoints(s(row));
      const s0 = start(row) ?? 0;
      const from = s0 < 0 ? Math.max(0, cps.length + s0) : s0;
      const n = c ? len(row) : cps.length;
      if (n === null) return "";
      return cps.slice(from, from + Math.max(0, n)).join("");
    };
  },
  /** Ordinal comparison (.NET `string.CompareOrdinal`, UTF-16 code units, as JavaScript's `<`): -1, 0 or 1. */
  strcmp: ([a, b]) => {
    const x = str(a);
    const y = str(b);
    return (row) => {
      const l = x(row);
      const r = y(row);
      return l < r ? -1 : l > r ? 1 : 0;
    };
  },
  strcat: (args) => {
    const parts = args.map((a) => str(a));
    return (row) => parts.map((p) => p(row)).join("");
  },
  indexof: ([a, b, c, d, e]) => {
    const s = str(a);
    const n = str(b);
    const start = num(c);
    const length = num(d);
    const occurrence = num(e);
    return (row) => {
      const hay = s(row);
      const needle = n(row);
      let from = start(row) ?? 0;
      if (from < 0) from = Math.max(0, hay.length + from);
      const len = d ? (length(row) ?? -1) : -1;
      const nth = e ? (occurrence(row) ?? 1) : 1;
      // indexof-function.md, Returns: null when "*occurrence* is less than 0" or "*length* is less than -1" (a
      // negative *start* counts from the end, as the page's example idx5 shows, though its prose says null).
      if (nth < 0 || len < -1) return null;
      // Each further occurrence is searched from just after the previous one, over the same length.
      let at = -1;
      for (let k = 0; k < Math.max(1, nth); k++) {
        at = hay.indexOf(needle, from);
        const end = len < 0 ? hay.length : Math.min(hay.length, from + len);
        if (at < 0 || at + needle.length > end) return -1;
        from = at + 1;
      }
      return at;
    };
  },
  replace_string: ([a, b, c]) => {
    const s = str(a);
    const f = str(b);
    const t = str(c);
    return (row) => s(row).split(f(row)).join(t(row));
  },
  trim: ([p, a]) => {
    const s = str(a);
    const pat = str(p);
    return (row) => {
      const re = pat(row);
      let v = s(row);
      const m1 = regexMatch(`^(?:${re})+`, v);
      if (m1?.[0]) v = v.slice(m1[0].length);
      const m2 = regexMatch(`(?:${re})+$`, v);
      if (m2?.[0]) v = v.slice(0, v.length - m2[0].length);
      return v;
    };
  },
  split: ([a, b, c]) => {
    const s = str(a);
    const d = str(b);
    const idx = num(c);
    return (row) => {
      const parts = s(row).split(d(row));
      if (!c) return parts;
      const i = idx(row);
      if (i === null || i < 0 || i >= parts.length) return [];
      return [parts[i] as string];
    };
  },
  extract: ([re, group, source, type]) => {
    const pattern = str(re);
    const g = num(group);
    const s = str(source);
    const to = type ? String(type.fn([])) : "string";
    return (row) => {
      const m = regexMatch(pattern(row), s(row));
      const v = m ? m[g(row) ?? 0] : undefined;
      if (v === undefined) return to === "string" ? "" : null;
      return convert(v, "string", to);
    };
  },
  isempty: ([a]) => (a ? (row) => isEmpty(a.fn(row)) : undefined),
  isnotempty: ([a]) => (a ? (row) => !isEmpty(a.fn(row)) : undefined),
  isnull: ([a]) => (a ? (row) => a.fn(row) === null : undefined),
  isnotnull: ([a]) => (a ? (row) => a.fn(row) !== null : undefined),
  not: ([a]) =>
    a
      ? (row) => {
          const v = a.fn(row);
          return v === null ? null : !v;
        }
      : undefined,
  coalesce: (args, out) => (row) => {
    for (const a of args) {
      const v = a.fn(row);
      if (v !== null && !(out === "string" && v === "")) return v;
    }
    return out === "string" ? "" : null;
  },
  iff: ([c, a, b]) => (c && a && b ? (row) => (c.fn(row) === true ? a.fn(row) : b.fn(row)) : undefined),
  iif: ([c, a, b]) => (c && a && b ? (row) => (c.fn(row) === true ? a.fn(row) : b.fn(row)) : undefined),
  case: (args) => (row) => {
    for (let i = 0; i + 1 < args.length; i += 2) {
      if ((args[i] as Compiled).fn(row) === true) return (args[i + 1] as Compiled).fn(row);
    }
    return (args[args.length - 1] as Compiled).fn(row);
  },
  now: ([offset], _out, ctx) => {
    const o = num(offset);
    return (row) => ctx.now + (o(row) ?? 0);
  },
  ago: ([span], _out, ctx) => {
    const s = num(span);
    return (row) => {
      const v = s(row);
      return v === null ? null : ctx.now - v;
    };
  },
  bin: ([a, b]) => binBuilder(a, b),
  floor: ([a, b]) => binBuilder(a, b),
  abs: ([a]) => {
    const n = num(a);
    return (row) => {
      const v = n(row);
      return v === null ? null : Math.abs(v);
    };
  },
  round: ([a, b]) => {
    const n = num(a);
    const p = num(b);
    return (row) => {
      const v = n(row);
      if (v === null) return null;
      const f = 10 ** (p(row) ?? 0);
      return Math.round(v * f) / f;
    };
  },
  array_length: ([a]) => (a ? (row) => (Array.isArray(a.fn(row)) ? (a.fn(row) as unknown[]).length : null) : undefined),
  pack_array: (args) => (row) => args.map((a) => a.fn(row)),
  // KQL docs (array-index-of-function): "Zero-based index position of lookup. Returns -1 if the value isn't found
  // in the array. Returns null for irrelevant inputs"; the value is compared with the elements' own values.
  array_index_of: ([a, v]) => {
    if (!a || !v) return undefined;
    return (row) => {
      const arr = a.fn(row);
      const x = v.fn(row);
      if (!Array.isArray(arr) || x === null) return null;
      return arr.findIndex((e) => e === x || (typeof e === "object" && JSON.stringify(e) === JSON.stringify(x)));
    };
  },
  set_has_element: ([a, b]) =>
    a && b
      ? (row) => {
          const arr = a.fn(row);
          const v = b.fn(row);
          return Array.isArray(arr) ? arr.some((x) => x === v) : null;
        }
      : undefined,
  range: ([a, b, c]) => {
    if (!a || !b) return undefined;
    const type = a.type;
    const step = c ? c.fn : () => (type === "datetime" || type === "timespan" ? 3_600_000 : 1);
    return (row) => {
      const from = a.fn(row);
      const to = b.fn(row);
      const by = step(row);
      if (typeof from !== "number" || typeof to !== "number" || typeof by !== "number" || by === 0) return null;
      const out: Value[] = [];
      for (let v = from; by > 0 ? v <= to : v >= to; v += by) {
        // Datetimes and timespans inside dynamic values are their JSON text, as Kusto serialises them.
        out.push(type === "datetime" ? new Date(v).toISOString() : type === "timespan" ? formatTimespan(v) : v);
        if (out.length >= 1_048_576) break;
      }
      return out;
    };
  },
  replace_regex: ([a, b, c]) => {
    const s = str(a);
    const re = str(b);
    const rewrite = str(c);
    return (row) => regexReplaceAll(re(row), s(row), rewrite(row));
  },
  extract_all: (args) => {
    const [re, groups, source] = args.length >= 3 ? args : [args[0], undefined, args[1]];
    const pattern = str(re);
    const s = str(source);
    const wanted = groups?.fn;
    return (row) => {
      const all = regexMatchAll(pattern(row), s(row));
      if (all.length === 0) return null;
      const g = wanted ? (wanted(row) as unknown) : undefined;
      // extract-all-function, captureGroups: group numbers, and "Named capture groups are allowed as well"
      const pick = Array.isArray(g) ? (g as (number | string)[]) : undefined;
      return all.map((m) => {
        const caps = pick ?? (m.length > 1 ? m.slice(1).map((_, i) => i + 1) : [0]);
        const vals = caps.map((i) => (typeof i === "string" ? m.groups?.[i] : m[i]) ?? "");
        return (vals.length === 1 ? vals[0] : vals) as Value;
      });
    };
  },
  strcat_array: ([a, d]) => {
    const delim = str(d);
    return (row) => {
      const arr = a?.fn(row);
      if (!Array.isArray(arr)) return "";
      return arr.map((x) => toKqlString(x as Value, "dynamic")).join(delim(row));
    };
  },
  url_decode: ([a]) => {
    const s = str(a);
    return (row) => {
      try {
        return decodeURIComponent(s(row));
      } catch {
        return "";
      }
    };
  },
  regex_quote: ([a]) => {
    const s = str(a);
    return (row) => regexQuote(s(row));
  },
  parse_command_line: ([a, kind]) => {
    const s = str(a);
    const k = str(kind);
    return (row) => (k(row).toLowerCase() === "windows" ? parseWindowsCommandLine(s(row)) : null);
  },
  parse_path: ([a]) => {
    const s = str(a);
    return (row) => ({ ...parsePath(s(row)) });
  },
  ipv4_is_in_range: ([ip, range]) => {
    const i = str(ip);
    const r = str(range);
    return (row) => ipv4InRange(i(row), r(row));
  },
  ipv4_is_in_any_range: ([ip, ...ranges]) => {
    const i = str(ip);
    return (row) => anyRange(i(row), flattenArgs(ranges, row), ipv4InRange, (a) => parseIpv4(a) !== null);
  },
  has_any_ipv4_prefix: ([text, ...prefixes]) => {
    const t = str(text);
    return (row) => hasIpv4Prefix(t(row), flattenArgs(prefixes, row));
  },
  has_ipv4_prefix: ([text, prefix]) => {
    const t = str(text);
    const p = str(prefix);
    return (row) => hasIpv4Prefix(t(row), [p(row)]);
  },
  ipv6_is_in_range: ([ip, range]) => {
    const i = str(ip);
    const r = str(range);
    return (row) => ipv6InRange(i(row), r(row));
  },
  ipv6_is_in_any_range: ([ip, ...ranges]) => {
    const i = str(ip);
    return (row) => anyRange(i(row), flattenArgs(ranges, row), ipv6InRange, (a) => parseIpv6(a) !== null);
  },
};

/**
 * ipv4_is_in_any_range / ipv6_is_in_any_range. KQL docs ("Returns"): true if the address is in any of the
 * ranges, false otherwise, null "if conversion for one of the two … strings wasn't successful": an address that
 * does not parse is null whatever the ranges (so `not(...)` does not turn it into a match).
 */
function anyRange(
  ip: string,
  ranges: Value[],
  test: (ip: string, range: string) => boolean | null,
  parses: (ip: string) => boolean,
): boolean | null {
  if (!parses(ip)) return null;
  let sawNull = false;
  for (const r of ranges) {
    const res = typeof r === "string" ? test(ip, r) : null;
    if (res === true) return true;
    if (res === null) sawNull = true;
  }
  return sawNull ? null : false;
}

/**
 * has_ipv4_prefix / has_any_ipv4_prefix. KQL docs (has-any-ipv4-prefix-function): "IP address entrances in a
 * text must be properly delimited with non-alphanumeric characters"; a prefix is "either a complete IPv4 address
 * or a prefix that ends with a period".
 */
function hasIpv4Prefix(text: string, prefixes: readonly Value[]): boolean {
  const addresses = [...text.matchAll(/(?<![A-Za-z0-9.])(\d{1,3}(?:\.\d{1,3}){3})(?![A-Za-z0-9]|\.\d)/g)]
    .map((m) => m[1] ?? "")
    .filter((a) => parseIpv4(a) !== null);
  return prefixes.some(
    (p) => typeof p === "string" && addresses.some((a) => (p.endsWith(".") ? a.startsWith(p) : a === p)),
  );
}

function parse(v: Value): Value {
  return typeof v === "string" ? parseJsonValue(v) : v;
}

function binBuilder(a: Compiled | undefined, b: Compiled | undefined): Fn | undefined {
  if (!a || !b) return undefined;
  const v = a.fn;
  const s = b.fn;
  const isDate = a.type === "datetime";
  return (row) => {
    const x = v(row);
    const size = s(row);
    if (typeof x !== "number" || typeof size !== "number" || size <= 0) return null;
    if (isDate) return binNumber(x + YEAR1_OFFSET_MS, size) - YEAR1_OFFSET_MS;
    return binNumber(x, size);
  };
}

/** The closure of a built-in function call, or undefined when the function is not supported. */
export function callFunction(name: string, args: readonly Compiled[], out: ScalarType, ctx: Ctx): Fn | undefined {
  const builder = Object.hasOwn(BUILDERS, name) ? BUILDERS[name] : undefined;
  return builder?.(args, out, ctx);
}
