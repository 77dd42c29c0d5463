/**
 * Pattern languages of EQL, compiled to anchored JavaScript regular expressions:
 * - wildcards (`:` and `like`): `*` any run of characters, `?` one character; everything else, backslash
 *   included, is literal (as in Elasticsearch, so Windows paths need no escaping beyond the string's own);
 * - `regex`: Lucene regular expression syntax (Elasticsearch's regexp query, flags ALL), which always matches the
 *   whole string. Translated piece by piece: `.` (any character, newline included), `@` (any string), `#` (the
 *   empty language), `"..."` (a literal string), `()` (the empty string), `<n-m>` (a decimal integer range),
 *   `\d \s \w` and their negations (Lucene 9), classes `[a-z]` / `[^...]`, and stacked repetitions (`a*?` is
 *   `(a*)?` in Lucene, not a lazy star). No anchors, no lookaround, no backreferences exist in Lucene: `^` and `$`
 *   are literal characters. Intersection `&` and complement `~` have no regular JavaScript form and are refused.
 */
import { Codes, type Span } from "../diagnostics/index.js";
import { syntaxError } from "./lexer.js";

const cache = new Map<string, RegExp>();

const JS_SYNTAX = /[\^$\\.*+?()[\]{}|/]/;
const escapeChar = (c: string) => (JS_SYNTAX.test(c) ? `\\${c}` : c);
const escapeClassChar = (c: string) => (/[\\\]^[-]/.test(c) ? `\\${c}` : c);

export function wildcardToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  const key = `w${caseInsensitive ? "i" : ""}:${pattern}`;
  let re = cache.get(key);
  if (!re) {
    let source = "";
    for (const c of pattern) source += c === "*" ? "[^]*" : c === "?" ? "[^]" : escapeChar(c);
    re = new RegExp(`^${source}$`, caseInsensitive ? "iu" : "u");
    remember(key, re);
  }
  return re;
}

/** Thrown (as a DiagnosticError, EQL120) for Lucene syntax with no JavaScript translation or bad syntax. */
export function luceneToRegExp(pattern: string, caseInsensitive: boolean, span?: Span): RegExp {
  const key = `r${caseInsensitive ? "i" : ""}:${pattern}`;
  let re = cache.get(key);
  if (!re) {
    const source = new LuceneTranslator(pattern, span).translate();
    try {
      re = new RegExp(`^(?:${source})$`, caseInsensitive ? "isu" : "su");
    } catch (error) {
      throw syntaxError(
        Codes.EqlUnsupported,
        `regex ${JSON.stringify(pattern)} cannot be translated: ${(error as Error).message}`,
        span ?? NO_SPAN,
      );
    }
    remember(key, re);
  }
  return re;
}

function remember(key: string, re: RegExp): void {
  if (cache.size > 5000) cache.clear();
  cache.set(key, re);
}

const NO_SPAN: Span = { start: { line: 1, column: 1, offset: 0 }, end: { line: 1, column: 1, offset: 0 } };

class LuceneTranslator {
  private readonly chars: string[];
  private pos = 0;

  constructor(
    private readonly pattern: string,
    private readonly span: Span | undefined,
  ) {
    this.chars = [...pattern];
  }

  translate(): string {
    const out = this.union();
    if (this.pos < this.chars.length) this.fail(`unexpected "${this.chars[this.pos]}"`);
    return out;
  }

  private fail(what: string): never {
    throw syntaxError(
      Codes.EqlUnsupported,
      `regex ${JSON.stringify(this.pattern)}: ${what} at character ${this.pos + 1}`,
      this.span ?? NO_SPAN,
    );
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private union(): string {
    const alternatives = [this.concat()];
    while (this.peek() === "|") {
      this.pos++;
      alternatives.push(this.concat());
    }
    return alternatives.join("|");
  }

  private concat(): string {
    let out = "";
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === ")" || c === "|") return out;
      if (c === "&") this.fail("intersection (&) cannot be translated; escape it as \\& for a literal &");
      out += this.repeat();
    }
  }

  private repeat(): string {
    let atom = this.complement();
    for (;;) {
      const c = this.peek();
      if (c === "?" || c === "*" || c === "+") {
        this.pos++;
        atom = `(?:${atom})${c}`;
      } else if (c === "{") {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.chars.slice(this.pos, this.pos + 24).join(""));
        if (!m) this.fail('expected a repetition {n}, {n,} or {n,m} after "{"');
        if (m[3] && Number(m[3]) < Number(m[1])) this.fail("repetition {n,m} with m < n");
        this.pos += m[0].length;
        atom = `(?:${atom})${m[0]}`;
      } else return atom;
    }
  }

  private complement(): string {
    if (this.peek() === "~") this.fail("complement (~) cannot be translated; escape it as \\~ for a literal ~");
    return this.simple();
  }

  private simple(): string {
    const c = this.chars[this.pos++];
    switch (c) {
      case undefined:
        return this.fail("unexpected end of pattern");
      case ".":
        return ".";
      case "@":
        return "[^]*";
      case "#":
        return "(?!)";
      case "[":
        return this.charClass();
      case '"': {
        const end = this.chars.indexOf('"', this.pos);
        if (end === -1) this.fail('unterminated "..." literal');
        const literal = this.chars.slice(this.pos, end).map(escapeChar).join("");
        this.pos = end + 1;
        return `(?:${literal})`;
      }
      case "(": {
        if (this.peek() === ")") {
          this.pos++;
          return "(?:)";
        }
        const inner = this.union();
        if (this.peek() !== ")") this.fail('expected ")"');
        this.pos++;
        return `(?:${inner})`;
      }
      case "<":
        return this.interval();
      case "\\":
        return this.escape(false);
      default:
        return escapeChar(c);
    }
  }

  private escape(inClass: boolean): string {
    const c = this.chars[this.pos++];
    if (c === undefined) return this.fail("pattern ends with a lone backslash");
    if ("dDsSwW".includes(c)) return `\\${c}`;
    return inClass ? escapeClassChar(c) : escapeChar(c);
  }

  /** One class member: its literal character (null for a shorthand such as \\d) and its JavaScript form. */
  private classChar(): { char: string | null; out: string } {
    const c = this.chars[this.pos++];
    if (c === undefined) return this.fail('unterminated character class: expected "]"');
    if (c !== "\\") return { char: c, out: escapeClassChar(c) };
    const e = this.chars[this.pos];
    const out = this.escape(true);
    return { char: e !== undefined && "dDsSwW".includes(e) ? null : (e ?? null), out };
  }

  private charClass(): string {
    let out = "[";
    if (this.peek() === "^") {
      this.pos++;
      out += "^";
    }
    let first = true;
    while (this.peek() !== "]" || first) {
      if (this.peek() === undefined) this.fail('unterminated character class: expected "]"');
      first = false;
      const from = this.classChar();
      if (this.peek() === "-" && this.chars[this.pos + 1] !== "]" && this.chars[this.pos + 1] !== undefined) {
        this.pos++;
        const to = this.classChar();
        if (from.char === null || to.char === null) this.fail("a class shorthand cannot be a range bound");
        if ((from.char.codePointAt(0) as number) > (to.char.codePointAt(0) as number)) {
          this.fail(`invalid range ${from.char}-${to.char} in a character class`);
        }
        out += `${from.out}-${to.out}`;
      } else out += from.out;
    }
    this.pos++; // ]
    return `${out}]`;
  }

  /** `<n-m>`: decimal integers from n to m (fixed width when n and m are written with the same width). */
  private interval(): string {
    const m = /^(\d+)-(\d+)>/.exec(this.chars.slice(this.pos, this.pos + 48).join(""));
    if (!m) this.fail('expected a numeric interval <n-m> after "<" (escape it as \\< for a literal <)');
    this.pos += m[0].length;
    let low = m[1] as string;
    let high = m[2] as string;
    if (BigInt(low) > BigInt(high)) [low, high] = [high, low];
    if (low.length === high.length) return `(?:${rangeSameWidth(low, high)})`;
    const min = BigInt(low);
    const max = BigInt(high);
    const parts: string[] = [];
    for (let width = String(min).length; width <= String(max).length; width++) {
      const lo = width === String(min).length ? min : 10n ** BigInt(width - 1);
      const hi = width === String(max).length ? max : 10n ** BigInt(width) - 1n;
      if (lo <= hi) parts.push(rangeSameWidth(String(lo), String(hi)));
    }
    return `0*(?:${parts.join("|")})`;
  }
}

/** A regex for every decimal string of the same width between `low` and `high` (inclusive). */
function rangeSameWidth(low: string, high: string): string {
  if (low.length === 0) return "";
  const rest = low.length - 1;
  const lo = Number(low[0]);
  const hi = Number(high[0]);
  const lowRest = low.slice(1);
  const highRest = high.slice(1);
  if (lo === hi) return `${lo}(?:${rangeSameWidth(lowRest, highRest)})`;
  const allLow = lowRest === "0".repeat(rest);
  const allHigh = highRest === "9".repeat(rest);
  const any = rest === 0 ? "" : `[0-9]{${rest}}`;
  const parts: string[] = [];
  let from = lo;
  let to = hi;
  if (!allLow) {
    parts.push(`${lo}(?:${rangeSameWidth(lowRest, "9".repeat(rest))})`);
    from = lo + 1;
  }
  if (!allHigh) to = hi - 1;
  if (from <= to) parts.push(`${from === to ? from : `[${from}-${to}]`}${any}`);
  if (!allHigh) parts.push(`${hi}(?:${rangeSameWidth("0".repeat(rest), highRest)})`);
  return parts.join("|");
}
