/**
 * An exact prefilter derived from the rule source: for a rule set whose every rule can only be true when some fixed
 * bytes are in the sample (and, optionally, when a fixed-width integer at a fixed offset has a given value), a sample
 * without them cannot match, and its YARA-X scan can be skipped with the very verdict YARA-X would give (no match).
 *
 * It is derived only when it is provably exact, and abandoned (undefined: every sample goes to YARA-X) as soon as
 * the source holds anything outside the small grammar below. The rules have already compiled with YARA-X when this
 * runs, so the source is valid YARA; the grammar here only has to read valid YARA correctly, never to reject bad
 * YARA. A rule is understood when:
 *
 * - its condition is a conjunction (only `and`, parentheses allowed) of terms, each one of
 *   `any of them`, `all of them`, `<n> of them` (n ≥ 1), `$name`, `true`, and
 *   `uint8|16|32[be](<offset>) == <value>` (integer literals); no `or`, `not`, `at`, `in`, arithmetic, regex,
 *   module call or rule reference can appear, so no term can make the condition true without the others;
 * - every string the string term needs is a text string (escapes `\" \\ \t \n \r \xHH`; modifiers `ascii`,
 *   `fullword`, `private` only: `nocase`, `wide`, `xor`, `base64` change the bytes searched) or a hex string
 *   (bytes, `??`, nibble masks, `~`, jumps, alternatives) with at least one run of fixed bytes outside any
 *   alternative. A hex pattern matches only where its fixed bytes sit in order, so each run is in every match; a
 *   text string is its own bytes. Regular expressions are never understood.
 *
 * Why these terms are exact (YARA's and YARA-X's semantics): `any of them`, `<n> of them` with n ≥ 1, `all of them`
 * and `$name` are false unless at least one string matched; `uintN(k)` reads N bits little-endian at offset k (`be`:
 * big-endian) and is undefined past the end of the data, which makes `==` false; a conjunction is false when a term
 * is. A rule set matches when one of its rules does (global rules can only take matches away), so a sample is a
 * candidate when, for some rule, every integer check holds and one literal of that rule's string term is present.
 * `include` files are not followed: a source with `include` is not understood.
 */

/** `uintN(offset) == value`: `width` bytes at `offset`, little-endian unless `bigEndian`. */
export interface IntegerCheck {
  readonly offset: number;
  readonly width: 1 | 2 | 4;
  readonly bigEndian: boolean;
  readonly value: number;
}

/** What one rule needs to be true: every check, and (when `literals` is given) at least one of these byte strings. */
export interface RuleNeed {
  readonly rule: string;
  readonly checks: readonly IntegerCheck[];
  readonly literals?: readonly Uint8Array[];
}

/** The prefilter of a rule set: a sample is a candidate when at least one rule's need is met. */
export interface Prefilter {
  readonly needs: readonly RuleNeed[];
  /** Bytes the first read must hold to decide every integer check. */
  readonly headBytes: number;
  /** The longest literal's length (a search over chunks keeps this many bytes minus one between two chunks). */
  readonly longestLiteral: number;
}

/** Above this many distinct literals the search would cost more than it saves: no prefilter then. */
const MAX_LITERALS = 8;
/** Integer checks beyond this offset are not used (the first read of a sample must decide them). */
const MAX_CHECK_OFFSET = 4096;

/** The prefilter for this rule source, or undefined when it cannot be proved exact. */
export function derivePrefilter(source: string): Prefilter | undefined {
  let needs: RuleNeed[];
  try {
    needs = new Reader(source).ruleNeeds();
  } catch (error) {
    if (error instanceof NotUnderstood) return undefined;
    throw error;
  }
  if (needs.length === 0) return undefined;
  if (needs.some((need) => need.checks.length === 0 && need.literals === undefined)) return undefined;
  const distinct = new Set(needs.flatMap((need) => need.literals ?? []).map((l) => Buffer.from(l).toString("hex")));
  if (distinct.size > MAX_LITERALS) return undefined;
  const headBytes = Math.max(0, ...needs.flatMap((need) => need.checks.map((c) => c.offset + c.width)));
  const longestLiteral = Math.max(0, ...needs.flatMap((need) => (need.literals ?? []).map((l) => l.length)));
  return { needs, headBytes, longestLiteral };
}

/** The rules whose integer checks hold on this head (the sample's first bytes; a check past its end fails). */
export function needsMetBy(prefilter: Prefilter, head: Uint8Array, size: number): RuleNeed[] {
  const bytes = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  return prefilter.needs.filter((need) =>
    need.checks.every((check) => {
      if (check.offset + check.width > size || check.offset + check.width > bytes.length) return false;
      const value = check.bigEndian
        ? bytes.readUIntBE(check.offset, check.width)
        : bytes.readUIntLE(check.offset, check.width);
      return value === check.value;
    }),
  );
}

/**
 * The literals still to look for once the integer checks are known: undefined when some rule needs no literal (the
 * sample is a candidate as it is), an empty list when no rule is left (it cannot match).
 */
export function literalsToFind(met: readonly RuleNeed[]): Buffer[] | undefined {
  const found = new Map<string, Buffer>();
  for (const need of met) {
    if (need.literals === undefined) return undefined;
    for (const literal of need.literals) {
      const bytes = Buffer.from(literal.buffer, literal.byteOffset, literal.byteLength);
      found.set(bytes.toString("hex"), bytes);
    }
  }
  return [...found.values()];
}

/** Whether a sample held wholly in memory may match (false: YARA-X would report no match). */
export function mayMatch(prefilter: Prefilter, data: Uint8Array): boolean {
  const literals = literalsToFind(needsMetBy(prefilter, data, data.length));
  if (literals === undefined) return true;
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return literals.some((literal) => bytes.indexOf(literal) >= 0);
}

class NotUnderstood extends Error {}

const fail = (why: string): never => {
  throw new NotUnderstood(why);
};

interface Token {
  readonly kind: "word" | "string-id" | "number" | "text" | "punct";
  readonly text: string;
  /** Numbers: the value. Text strings: the bytes. */
  readonly value?: number;
  readonly bytes?: Uint8Array;
}

/** Reads rule declarations one token at a time; throws NotUnderstood on anything outside the grammar above. */
class Reader {
  private at = 0;

  constructor(private readonly src: string) {}

  ruleNeeds(): RuleNeed[] {
    const needs: RuleNeed[] = [];
    for (;;) {
      this.skipSpace();
      if (this.at >= this.src.length) return needs;
      const word = this.word();
      if (word === "import") {
        this.text();
        continue;
      }
      let keyword = word;
      while (keyword === "private" || keyword === "global") keyword = this.word();
      if (keyword !== "rule") fail(`unexpected ${keyword}`);
      needs.push(this.rule());
    }
  }

  private rule(): RuleNeed {
    const name = this.word();
    this.skipSpace();
    if (this.peek() === ":") {
      this.at++;
      for (this.skipSpace(); this.peek() !== "{"; this.skipSpace()) this.word();
    }
    this.expect("{");
    let section = this.word();
    this.expect(":");
    if (section === "meta") {
      section = this.meta();
    }
    const strings = new Map<string, Uint8Array | undefined>();
    if (section === "strings") {
      section = this.strings(strings);
    }
    if (section !== "condition") fail(`section ${section}`);
    return this.condition(name, strings);
  }

  /** `name = value` pairs up to the next section; returns that section's name. */
  private meta(): string {
    for (;;) {
      const key = this.word();
      this.skipSpace();
      if (this.peek() === ":") {
        this.at++;
        return key;
      }
      this.expect("=");
      this.skipSpace();
      if (this.peek() === '"') this.text();
      else if (this.peek() === "-") {
        this.at++;
        this.number();
      } else if (/[0-9]/.test(this.peek())) this.number();
      else {
        const value = this.word();
        if (value !== "true" && value !== "false") fail(`meta value ${value}`);
      }
    }
  }

  /** `$name = "text" | { hex }` with modifiers, up to the condition; the literal of each string (undefined: none). */
  private strings(into: Map<string, Uint8Array | undefined>): string {
    for (;;) {
      this.skipSpace();
      if (this.peek() !== "$") {
        const section = this.word();
        this.expect(":");
        return section;
      }
      const id = this.stringId();
      this.expect("=");
      this.skipSpace();
      let literal: Uint8Array | undefined;
      let allowed: readonly string[];
      if (this.peek() === '"') {
        literal = this.text();
        if (literal.length === 0) literal = undefined;
        allowed = ["ascii", "fullword", "private"];
      } else if (this.peek() === "{") {
        literal = this.hex();
        allowed = ["private"];
      } else {
        return fail("a regular expression");
      }
      // Modifiers: words up to the next `$`, or the `condition:` that ends the section.
      for (;;) {
        this.skipSpace();
        if (this.peek() === "$") break;
        const save = this.at;
        const word = this.word();
        this.skipSpace();
        if (this.peek() === ":") {
          this.at = save;
          break;
        }
        if (!allowed.includes(word)) fail(`modifier ${word}`);
      }
      if (id !== "$") into.set(id, literal);
      else into.set(`$#${into.size}`, literal);
    }
  }

  private condition(rule: string, strings: ReadonlyMap<string, Uint8Array | undefined>): RuleNeed {
    const tokens: Token[] = [];
    for (;;) {
      this.skipSpace();
      const c = this.peek();
      if (c === "}") {
        this.at++;
        break;
      }
      tokens.push(this.conditionToken());
    }
    const checks: IntegerCheck[] = [];
    let literals: Uint8Array[] | undefined;
    const needStrings = (ids: readonly string[]): void => {
      if (literals !== undefined) return; // one string term is enough; the first one found is used
      const found = ids.map((id) => strings.get(id));
      if (found.length === 0 || found.some((l) => l === undefined)) return; // a string without a literal: no need
      literals = found as Uint8Array[];
    };
    let i = 0;
    const next = (): Token => tokens[i++] ?? fail("unexpected end of condition");
    const isWord = (t: Token | undefined, w: string) => t?.kind === "word" && t.text === w;
    const punct = (t: Token, p: string) => (t.kind === "punct" && t.text === p ? t : fail(`expected ${p}`));
    let expectTerm = true;
    let depth = 0;
    while (i < tokens.length) {
      const t = next();
      if (!expectTerm) {
        if (isWord(t, "and")) expectTerm = true;
        else if (t.kind === "punct" && t.text === ")" && depth > 0) depth--;
        else fail(`unexpected ${t.text}`);
        continue;
      }
      if (t.kind === "punct" && t.text === "(") {
        depth++;
        continue;
      }
      expectTerm = false;
      if (t.kind === "string-id") {
        if (t.text === "$" || !strings.has(t.text)) fail(`string ${t.text}`);
        needStrings([t.text]);
      } else if (t.kind === "word" && (t.text === "any" || t.text === "all")) {
        if (!isWord(next(), "of") || !isWord(next(), "them")) fail("of them");
        needStrings([...strings.keys()]);
      } else if (t.kind === "number") {
        if ((t.value ?? 0) < 1 || !isWord(next(), "of") || !isWord(next(), "them")) fail("n of them");
        needStrings([...strings.keys()]);
      } else if (isWord(t, "true")) {
        // no need
      } else if (t.kind === "word" && /^uint(8|16|32)(be)?$/.test(t.text)) {
        punct(next(), "(");
        const offset = next();
        punct(next(), ")");
        punct(next(), "==");
        const value = next();
        if (offset.kind !== "number" || value.kind !== "number") fail("integer check");
        const width = (Number(/\d+/.exec(t.text)?.[0]) / 8) as 1 | 2 | 4;
        if ((offset.value as number) > MAX_CHECK_OFFSET) fail("integer check offset");
        checks.push({
          offset: offset.value as number,
          width,
          bigEndian: t.text.endsWith("be"),
          value: value.value as number,
        });
      } else {
        fail(`term ${t.text}`);
      }
      // `$a at 0`, `any of them in (…)` and the like are caught here: a term must be followed by `and` or `)`.
    }
    if (expectTerm || depth !== 0) fail("incomplete condition");
    return { rule, checks, ...(literals !== undefined ? { literals } : {}) };
  }

  private conditionToken(): Token {
    const c = this.peek();
    if (c === "$") return { kind: "string-id", text: this.stringId() };
    if (c === "(" || c === ")") {
      this.at++;
      return { kind: "punct", text: c };
    }
    if (c === "=" && this.src[this.at + 1] === "=") {
      this.at += 2;
      return { kind: "punct", text: "==" };
    }
    if (/[0-9]/.test(c)) {
      const value = this.number();
      return { kind: "number", text: String(value), value };
    }
    if (/[A-Za-z_]/.test(c)) return { kind: "word", text: this.word() };
    return fail(`character ${c}`);
  }

  /** An integer literal: decimal or 0x hex, no size suffix (a suffix or a dot is not understood). */
  private number(): number {
    const m = /^(0x[0-9a-fA-F]+|[0-9]+)(?![0-9A-Za-z_.])/.exec(this.src.slice(this.at, this.at + 40));
    if (!m?.[1]) return fail("number");
    this.at += m[1].length;
    const value = Number(m[1]);
    if (!Number.isSafeInteger(value)) fail("number too large");
    return value;
  }

  private word(): string {
    this.skipSpace();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.at, this.at + 200));
    if (!m) return fail(`word at ${this.at}`);
    this.at += m[0].length;
    return m[0];
  }

  private stringId(): string {
    this.skipSpace();
    const m = /^\$[A-Za-z0-9_]*/.exec(this.src.slice(this.at, this.at + 200));
    if (!m) return fail("string identifier");
    this.at += m[0].length;
    if (this.peek() === "*") fail("string wildcard");
    return m[0];
  }

  /** A double-quoted text string; its bytes (UTF-8, escapes decoded). */
  private text(): Uint8Array {
    this.skipSpace();
    if (this.peek() !== '"') fail("text string");
    this.at++;
    const bytes: number[] = [];
    for (;;) {
      const c = this.src[this.at++];
      if (c === undefined || c === "\n") return fail("unterminated text string");
      if (c === '"') return Uint8Array.from(bytes);
      if (c !== "\\") {
        const code = this.src.codePointAt(this.at - 1) as number;
        if (code > 0xffff) this.at++;
        bytes.push(...Buffer.from(String.fromCodePoint(code), "utf8"));
        continue;
      }
      const e = this.src[this.at++];
      if (e === '"' || e === "\\") bytes.push(e.charCodeAt(0));
      else if (e === "t") bytes.push(9);
      else if (e === "n") bytes.push(10);
      else if (e === "r") bytes.push(13);
      else if (e === "x" && /^[0-9a-fA-F]{2}$/.test(this.src.slice(this.at, this.at + 2))) {
        bytes.push(Number.parseInt(this.src.slice(this.at, this.at + 2), 16));
        this.at += 2;
      } else fail(`escape \\${e}`);
    }
  }

  /**
   * A hex string `{ … }`: the longest run of fixed bytes outside any alternative (the most selective when runs tie
   * in length: fewest 0x00 and 0xFF bytes), or undefined when there is none.
   */
  private hex(): Uint8Array | undefined {
    this.expect("{");
    const runs: number[][] = [];
    let run: number[] = [];
    let depth = 0;
    const cut = () => {
      if (run.length > 0) runs.push(run);
      run = [];
    };
    for (;;) {
      const c = this.src[this.at] ?? fail("unterminated hex string");
      if (c === "}") {
        this.at++;
        break;
      }
      if (/\s/.test(c)) {
        this.at++;
        continue;
      }
      if (c === "[") {
        const end = this.src.indexOf("]", this.at);
        if (end < 0 || !/^\[[0-9\s-]*\]$/.test(this.src.slice(this.at, end + 1))) fail("jump");
        this.at = end + 1;
        cut();
        continue;
      }
      if (c === "(" || c === "|" || c === ")") {
        depth += c === "(" ? 1 : c === ")" ? -1 : 0;
        if (depth < 0) fail("alternative");
        this.at++;
        cut();
        continue;
      }
      if (c === "~") {
        this.at++;
        const pair = this.src.slice(this.at, this.at + 2);
        if (!/^[0-9a-fA-F?]{2}$/.test(pair)) fail("negated byte");
        this.at += 2;
        cut();
        continue;
      }
      const pair = this.src.slice(this.at, this.at + 2);
      if (/^[0-9a-fA-F]{2}$/.test(pair)) {
        this.at += 2;
        if (depth === 0) run.push(Number.parseInt(pair, 16));
        else cut();
        continue;
      }
      if (/^[0-9a-fA-F?]{2}$/.test(pair)) {
        this.at += 2;
        cut();
        continue;
      }
      fail(`hex ${pair}`); // comments inside hex strings, among others, are not understood
    }
    if (depth !== 0) fail("alternative");
    cut();
    const score = (r: number[]) => r.filter((b) => b !== 0x00 && b !== 0xff).length * 1000 + r.length;
    let best: number[] | undefined;
    for (const r of runs) if (!best || score(r) > score(best)) best = r;
    return best ? Uint8Array.from(best) : undefined;
  }

  private expect(c: string): void {
    this.skipSpace();
    if (!this.src.startsWith(c, this.at)) fail(`expected ${c}`);
    this.at += c.length;
  }

  private peek(): string {
    return this.src[this.at] ?? "";
  }

  /** Whitespace and comments (`// …` to the end of the line, `/* … *\/`). */
  private skipSpace(): void {
    for (;;) {
      const c = this.src[this.at];
      if (c === undefined) return;
      if (/\s/.test(c)) this.at++;
      else if (this.src.startsWith("//", this.at)) {
        const end = this.src.indexOf("\n", this.at);
        this.at = end < 0 ? this.src.length : end + 1;
      } else if (this.src.startsWith("/*", this.at)) {
        const end = this.src.indexOf("*/", this.at + 2);
        if (end < 0) fail("unterminated comment");
        this.at = end + 2;
      } else return;
    }
  }
}

/**
 * Looks for any of a few literals in data that arrives in chunks: each chunk is searched, and so is the seam
 * between two chunks (the last `longest - 1` bytes of the one before and the first ones of the next).
 */
export class LiteralSearch {
  private tail: Buffer = Buffer.alloc(0);
  private readonly keep: number;

  constructor(private readonly literals: readonly Buffer[]) {
    this.keep = Math.max(0, ...literals.map((l) => l.length)) - 1;
  }

  /** Searches the next chunk; true once a literal is found. */
  push(chunk: Buffer): boolean {
    if (this.tail.length > 0) {
      const seam = Buffer.concat([this.tail, chunk.subarray(0, this.keep)]);
      if (this.literals.some((l) => seam.indexOf(l) >= 0)) return true;
    }
    if (this.literals.some((l) => chunk.indexOf(l) >= 0)) return true;
    if (this.keep > 0) {
      this.tail =
        chunk.length >= this.keep
          ? Buffer.from(chunk.subarray(chunk.length - this.keep))
          : Buffer.concat([this.tail, chunk]).subarray(-this.keep);
    }
    return false;
  }
}
