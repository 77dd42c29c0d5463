/**
 * Lucene regular expressions (Elasticsearch's `regexp`, flags ALL, as EQL's `regex` runs them), read once into a
 * small tree, and printed as JavaScript (the evaluator, here) or as RE2 for KQL (src/kql/lucene-re2.ts).
 *
 * The language, from Lucene's `RegExp` (org.apache.lucene.util.automaton) grammar and javadoc:
 * - union `|` < intersection `&` < concatenation < repetition (`?`, `*`, `+`, `{n}`, `{n,}`, `{n,m}`, stackable:
 *   `a*?` is `(a*)?`, never a lazy star) < complement `~` < classes and simple expressions;
 * - `.` any character, `@` any string, `#` the empty language, `"..."` a literal string, `()` the empty string;
 * - `<n-m>` a decimal interval: "if n and m have the same number of digits, then the conforming strings must
 *   have that length (i.e. prefixed by 0's)"; otherwise any number of leading zeros is accepted;
 * - `\d` = [0-9], `\s` = [ \t\n\r], `\w` = [a-zA-Z_0-9] (ASCII), `\D \S \W` their complements; `\` before any
 *   other letter is an error; before anything else it makes that character literal;
 * - `[...]`, `[^...]`: a first character is always a member (even `]`), `x-y` is a range, and every other
 *   character (`&`, `~`, `[`, a second `-` after a range) is a literal member: classes have no set operators;
 * - no anchors: the whole string must match, and `^`, `$` are literal characters.
 * Intersection and complement are read but have no regular-expression form in either dialect: printers refuse
 * them by name.
 */

/** A set of code points, as sorted, disjoint, inclusive ranges. */
export type CodeRanges = readonly (readonly [number, number])[];

export type LuceneNode =
  | { readonly k: "union" | "intersection"; readonly parts: readonly LuceneNode[] }
  | { readonly k: "concat"; readonly items: readonly LuceneNode[] }
  | { readonly k: "repeat"; readonly node: LuceneNode; readonly min: number; readonly max: number | null }
  | { readonly k: "complement"; readonly node: LuceneNode }
  | { readonly k: "char"; readonly c: number }
  /** A class: the code points it matches (a negated class is already complemented). */
  | { readonly k: "class"; readonly ranges: CodeRanges }
  | { readonly k: "any" }
  | { readonly k: "anystring" }
  | { readonly k: "nothing" }
  | { readonly k: "interval"; readonly low: string; readonly high: string; readonly fixed: boolean };

/** Bad Lucene syntax, or a construct a printer cannot express (`construct` names it). */
export class LuceneRegexError extends Error {
  constructor(
    readonly construct: "syntax" | "intersection" | "complement" | "repetition",
    message: string,
  ) {
    super(message);
    this.name = "LuceneRegexError";
  }
}

/** All Unicode scalar values (surrogates are not characters, and RE2 refuses them in classes). */
const ANY_CHAR: CodeRanges = [
  [0, 0xd7ff],
  [0xe000, 0x10ffff],
];

const ASCII_SPACE: CodeRanges = [
  [0x09, 0x0a],
  [0x0d, 0x0d],
  [0x20, 0x20],
];
const ASCII_DIGIT: CodeRanges = [[0x30, 0x39]];
const ASCII_WORD: CodeRanges = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];

/** Lucene's predefined classes (RegExp.expandPredefined): ASCII only. */
const PREDEFINED: Readonly<Record<string, CodeRanges>> = {
  d: ASCII_DIGIT,
  D: complement(ASCII_DIGIT),
  s: ASCII_SPACE,
  S: complement(ASCII_SPACE),
  w: ASCII_WORD,
  W: complement(ASCII_WORD),
};

export function normalizeRanges(ranges: readonly (readonly [number, number])[]): CodeRanges {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

/** The code points of ANY_CHAR not in `ranges`. */
export function complement(ranges: CodeRanges): CodeRanges {
  const out: [number, number][] = [];
  const set = normalizeRanges(ranges);
  for (const [ulo, uhi] of ANY_CHAR) {
    let from = ulo;
    for (const [lo, hi] of set) {
      if (hi < from || lo > uhi) continue;
      if (lo > from) out.push([from, lo - 1]);
      from = Math.max(from, hi + 1);
    }
    if (from <= uhi) out.push([from, uhi]);
  }
  return out;
}

/** Reads a Lucene regular expression (flags ALL); throws LuceneRegexError on bad syntax. */
export function parseLuceneRegex(pattern: string): LuceneNode {
  return new Reader(pattern).read();
}

const DIGITS = /^[0-9]+$/;

/** The deepest group nesting read (deeper patterns are refused, so that printing cannot exhaust the stack). */
const MAX_REGEX_NESTING = 256;

class Reader {
  private readonly chars: readonly string[];
  private pos = 0;
  private depth = 0;

  constructor(private readonly pattern: string) {
    this.chars = [...pattern];
  }

  read(): LuceneNode {
    if (this.chars.length === 0) return { k: "concat", items: [] };
    const node = this.union();
    if (this.pos < this.chars.length) this.fail(`unexpected "${this.chars[this.pos]}"`);
    return node;
  }

  private fail(what: string): never {
    throw new LuceneRegexError("syntax", `regex ${JSON.stringify(this.pattern)}: ${what} at character ${this.pos + 1}`);
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string {
    const c = this.chars[this.pos++];
    if (c === undefined) this.fail("unexpected end of pattern");
    return c;
  }

  private union(): LuceneNode {
    const parts = [this.intersection()];
    while (this.peek() === "|") {
      this.pos++;
      parts.push(this.intersection());
    }
    return parts.length === 1 ? (parts[0] as LuceneNode) : { k: "union", parts };
  }

  private intersection(): LuceneNode {
    const parts = [this.concat()];
    while (this.peek() === "&") {
      this.pos++;
      parts.push(this.concat());
    }
    return parts.length === 1 ? (parts[0] as LuceneNode) : { k: "intersection", parts };
  }

  private concat(): LuceneNode {
    const items: LuceneNode[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === ")" || c === "|" || c === "&") break;
      items.push(this.repeat());
    }
    return items.length === 1 ? (items[0] as LuceneNode) : { k: "concat", items };
  }

  private repeat(): LuceneNode {
    let node = this.complement();
    for (;;) {
      const c = this.peek();
      if (c === "?") node = { k: "repeat", node, min: 0, max: 1 };
      else if (c === "*") node = { k: "repeat", node, min: 0, max: null };
      else if (c === "+") node = { k: "repeat", node, min: 1, max: null };
      else if (c === "{") {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.chars.slice(this.pos, this.pos + 24).join(""));
        if (!m) this.fail('expected a repetition {n}, {n,} or {n,m} after "{"');
        const min = Number(m[1]);
        const max = m[2] === undefined ? min : m[3] ? Number(m[3]) : null;
        if (max !== null && max < min) this.fail("repetition {n,m} with m < n");
        this.pos += m[0].length - 1;
        node = { k: "repeat", node, min, max };
      } else return node;
      this.pos++;
    }
  }

  private complement(): LuceneNode {
    let count = 0;
    for (; this.peek() === "~"; this.pos++) count++;
    let node = this.charClassOrSimple();
    for (let i = 0; i < count; i++) node = { k: "complement", node };
    return node;
  }

  private charClassOrSimple(): LuceneNode {
    if (this.peek() !== "[") return this.simple();
    this.pos++;
    const negated = this.peek() === "^";
    if (negated) this.pos++;
    const ranges: (readonly [number, number])[] = [];
    do {
      ranges.push(...this.classMember());
    } while (this.peek() !== undefined && this.peek() !== "]");
    if (this.peek() !== "]") this.fail('unterminated character class: expected "]"');
    this.pos++;
    const set = normalizeRanges(ranges);
    return { k: "class", ranges: negated ? complement(set) : set };
  }

  /** One class member: a predefined class, a character, or a range `x-y`. */
  private classMember(): CodeRanges {
    const predefined = this.predefined();
    if (predefined) return predefined;
    const from = this.charExp();
    if (this.peek() !== "-") return [[from, from]];
    this.pos++;
    if (this.peek() === undefined) this.fail('unterminated character class: expected "]"');
    const to = this.charExp();
    if (from > to) {
      this.fail(`invalid range ${String.fromCodePoint(from)}-${String.fromCodePoint(to)} in a character class`);
    }
    return [[from, to]];
  }

  /** `\d \D \s \S \w \W`, or null (leaving a `\` before anything else to charExp). */
  private predefined(): CodeRanges | null {
    if (this.peek() !== "\\") return null;
    const c = this.chars[this.pos + 1];
    if (c === undefined) return null;
    const ranges = PREDEFINED[c];
    if (ranges) {
      this.pos += 2;
      return ranges;
    }
    if (/[a-zA-Z]/.test(c)) this.fail(`invalid escape \\${c} (only \\d \\D \\s \\S \\w \\W are classes)`);
    return null;
  }

  /** A character, possibly escaped. */
  private charExp(): number {
    if (this.peek() === "\\") {
      this.pos++;
      if (this.peek() === undefined) this.fail("pattern ends with a lone backslash");
    }
    return this.next().codePointAt(0) as number;
  }

  private simple(): LuceneNode {
    const c = this.peek();
    switch (c) {
      case ".":
        this.pos++;
        return { k: "any" };
      case "#":
        this.pos++;
        return { k: "nothing" };
      case "@":
        this.pos++;
        return { k: "anystring" };
      case '"': {
        this.pos++;
        const end = this.chars.indexOf('"', this.pos);
        if (end === -1) this.fail('unterminated "..." literal');
        const items = this.chars
          .slice(this.pos, end)
          .map((ch): LuceneNode => ({ k: "char", c: ch.codePointAt(0) as number }));
        this.pos = end + 1;
        return { k: "concat", items };
      }
      case "(": {
        this.pos++;
        if (this.peek() === ")") {
          this.pos++;
          return { k: "concat", items: [] };
        }
        if (++this.depth > MAX_REGEX_NESTING) this.fail(`groups nested deeper than ${MAX_REGEX_NESTING}`);
        const inner = this.union();
        this.depth--;
        if (this.peek() !== ")") this.fail('expected ")"');
        this.pos++;
        return inner;
      }
      case "<":
        return this.interval();
      case "*":
      case "+":
      case "?":
      case "{":
        return this.fail(`nothing to repeat before "${c}"`);
      default: {
        const predefined = this.predefined();
        if (predefined) return { k: "class", ranges: predefined };
        return { k: "char", c: this.charExp() };
      }
    }
  }

  /** `<n-m>` (Lucene: non-negative decimal integers, both ends included; swapped when n > m). */
  private interval(): LuceneNode {
    this.pos++;
    const end = this.chars.indexOf(">", this.pos);
    if (end === -1) this.fail('expected ">" closing a numeric interval (escape "<" as \\< for a literal <)');
    const body = this.chars.slice(this.pos, end).join("");
    const [low, high, ...rest] = body.split("-");
    if (rest.length > 0 || !low || !high || !DIGITS.test(low) || !DIGITS.test(high) || body.length > 20) {
      this.fail(`numeric interval <${body}>: expected <n-m> with decimal n and m`);
    }
    this.pos = end + 1;
    const fixed = low.length === high.length;
    return BigInt(low) <= BigInt(high)
      ? { k: "interval", low, high, fixed }
      : { k: "interval", low: high, high: low, fixed };
  }
}

// ── Shared printing of numeric intervals (the same text in JavaScript and RE2) ──

/**
 * `<low-high>` as a regular expression over digits: exactly `low.length` digits when fixed, otherwise any number
 * of leading zeros before the shortest decimal form.
 */
function intervalSource(
  node: { readonly low: string; readonly high: string; readonly fixed: boolean },
  counts?: number[],
): string {
  if (node.fixed) return `(?:${rangeSameWidth(node.low, node.high, counts)})`;
  const min = BigInt(node.low);
  const max = BigInt(node.high);
  const parts: string[] = [];
  for (let width = String(min).length; width <= String(max).length; width++) {
    const lo = width === String(min).length ? min : 10n ** BigInt(width - 1);
    const hi = width === String(max).length ? max : 10n ** BigInt(width) - 1n;
    if (lo <= hi) parts.push(rangeSameWidth(String(lo), String(hi), counts));
  }
  return `0*(?:${parts.join("|")})`;
}

/**
 * Every decimal string of the same width between `low` and `high` (inclusive); `counts`, when given, receives the
 * count of each digit run `[0-9]{k}` printed.
 */
function rangeSameWidth(low: string, high: string, counts?: number[]): string {
  if (low.length === 0) return "";
  const rest = low.length - 1;
  const lo = Number(low[0]);
  const hi = Number(high[0]);
  const lowRest = low.slice(1);
  const highRest = high.slice(1);
  if (lo === hi) return rest === 0 ? `${lo}` : `${lo}(?:${rangeSameWidth(lowRest, highRest, counts)})`;
  const allLow = lowRest === "0".repeat(rest);
  const allHigh = highRest === "9".repeat(rest);
  const any = rest === 0 ? "" : `[0-9]{${rest}}`;
  const parts: string[] = [];
  let from = lo;
  let to = hi;
  if (!allLow) {
    parts.push(`${lo}(?:${rangeSameWidth(lowRest, "9".repeat(rest), counts)})`);
    from = lo + 1;
  }
  if (!allHigh) to = hi - 1;
  if (from <= to) {
    parts.push(`${from === to ? from : `[${from}-${to}]`}${any}`);
    if (rest > 0) counts?.push(rest);
  }
  if (!allHigh) parts.push(`${hi}(?:${rangeSameWidth("0".repeat(rest), highRest, counts)})`);
  return parts.join("|");
}

/** The parts of a printer that differ between dialects. */
export interface RegexDialect {
  /** One literal character outside a class. */
  readonly char: (c: number) => string;
  /** A class of the given ranges (never empty in input: `nothing` is printed for an empty set). */
  readonly charClass: (ranges: CodeRanges) => string;
  /** The empty language (matches nothing). */
  readonly nothing: string;
  /** The largest count `{n}`, `{n,}`, `{n,m}` may hold; a larger one is refused. */
  readonly maxRepeat?: number;
}

/**
 * Prints a tree in a dialect; intersection and complement are refused by name, and so are repetitions the dialect's
 * engine does not read (`maxRepeat`: see checkRepetitions).
 */
export function printRegex(node: LuceneNode, dialect: RegexDialect): string {
  if (dialect.maxRepeat !== undefined) checkRepetitions(node, dialect.maxRepeat);
  return print(node, dialect);
}

function print(node: LuceneNode, dialect: RegexDialect): string {
  switch (node.k) {
    case "union":
      return node.parts.map((n) => print(n, dialect)).join("|");
    case "intersection":
      throw new LuceneRegexError(
        "intersection",
        "intersection (&) cannot be translated; escape it as \\& for a literal &",
      );
    case "complement":
      throw new LuceneRegexError("complement", "complement (~) cannot be translated; escape it as \\~ for a literal ~");
    case "concat":
      return node.items.map((n) => group(n, dialect)).join("");
    case "repeat": {
      const q =
        node.max === null
          ? node.min === 0
            ? "*"
            : node.min === 1
              ? "+"
              : `{${node.min},}`
          : node.min === 0 && node.max === 1
            ? "?"
            : node.min === node.max
              ? `{${node.min}}`
              : `{${node.min},${node.max}}`;
      return `(?:${print(node.node, dialect)})${q}`;
    }
    case "char":
      return dialect.char(node.c);
    case "class":
      return node.ranges.length === 0 ? dialect.nothing : dialect.charClass(node.ranges);
    case "any":
      return ".";
    case "anystring":
      return ".*";
    case "nothing":
      return dialect.nothing;
    case "interval":
      return intervalSource(node);
  }
}

/** A concatenated item: a union inside a concatenation is grouped. */
function group(node: LuceneNode, dialect: RegexDialect): string {
  const text = print(node, dialect);
  return node.k === "union" ? `(?:${text})` : text;
}

/**
 * Refuses the counted repetitions RE2 does not read. Each count is at most `limit` (RE2's syntax: "The counting forms
 * x{n,m}, x{n,}, and x{n} reject forms that create a minimum or maximum repetition count above 1000"), and so is
 * their product along a nesting: RE2's parser (re2/parse.cc, RepetitionWalker, run by PushRepetition) starts from
 * the limit and divides what is left by each nested `{n,m}`'s largest count (m, or n for `{n,}`; a count of 0
 * divides nothing), refusing the regexp ("invalid repetition size") when that leaves 0: `(a{2}){500}` is read,
 * `(a{2}){501}` and `(a{999}){999}` are not. The printers write `?`, `*`, `+` as themselves, which RE2 does not count
 * (their counts, 0 or 1, divide nothing here either), and an interval `<n-m>` as runs of digits `[0-9]{k}`, which it
 * does.
 */
function checkRepetitions(node: LuceneNode, limit: number, left = limit): void {
  const refuse = (what: string): never => {
    throw new LuceneRegexError("repetition", `${what}, the most the target's regex reads`);
  };
  const within = (count: number): number => {
    if (count > limit) refuse(`repetition count over ${limit}`);
    const rest = count > 0 ? Math.floor(left / count) : left;
    if (rest === 0) refuse(`nested repetition counts multiply past ${limit}`);
    return rest;
  };
  switch (node.k) {
    case "repeat":
      checkRepetitions(node.node, limit, within(node.max ?? node.min));
      return;
    case "union":
    case "intersection":
      for (const part of node.parts) checkRepetitions(part, limit, left);
      return;
    case "concat":
      for (const item of node.items) checkRepetitions(item, limit, left);
      return;
    case "complement":
      checkRepetitions(node.node, limit, left);
      return;
    case "interval": {
      const counts: number[] = [];
      intervalSource(node, counts);
      for (const count of counts) within(count);
      return;
    }
    default:
      return;
  }
}

// ── JavaScript ──────────────────────────────────────────────────────────────

const hex = (c: number) => c.toString(16).toUpperCase();
const jsChar = (c: number) =>
  /[A-Za-z0-9_ ]/.test(String.fromCodePoint(c)) ? String.fromCodePoint(c) : `\\u{${hex(c)}}`;

/**
 * The largest repetition count RE2 reads. RE2's syntax: "The counting forms x{n,m}, x{n,} and x{n} reject forms that
 * create a minimum or maximum repetition count above 1000"; and a count too large to read at all makes RE2 take the
 * `{` as a literal (`a{100000000000000000000}` matches that text), so the count is checked here, on the Lucene tree.
 * Both printers are run by RE2: Kusto's `matches regex` (src/kql/lucene-re2.ts) and the local evaluator
 * (src/eql/patterns.ts).
 */
export const RE2_MAX_REPEAT = 1000;

/**
 * JavaScript (flags `su`, `isu` when case-insensitive): every non-alphanumeric character as `\u{..}`. RE2 reads
 * the same text (src/eql/patterns.ts runs it there), so nothing is written as RE2 takes it too (not `[]`).
 */
const JS_DIALECT: RegexDialect = {
  char: jsChar,
  charClass: (ranges) =>
    `[${ranges.map(([lo, hi]) => (lo === hi ? jsChar(lo) : `${jsChar(lo)}-${jsChar(hi)}`)).join("")}]`,
  nothing: "[^\\u{0}-\\u{10FFFF}]",
  maxRepeat: RE2_MAX_REPEAT,
};

/** The unanchored JavaScript source of a Lucene regular expression (for `new RegExp(^(?:…)$, "su")`). */
export function luceneToJsSource(pattern: string): string {
  return printRegex(parseLuceneRegex(pattern), JS_DIALECT);
}
