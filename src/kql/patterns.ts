/**
 * EQL patterns as KQL: wildcards (`:`, `like`) to the cheapest KQL string operator that keeps their meaning, and
 * Lucene regular expressions (`regex`) to anchored RE2.
 */
import { Refusal } from "./refusal.js";

/** How a wildcard pattern is matched: whole string, prefix, suffix, infix, any non-empty value, or a regex. */
export type WildcardShape =
  | { readonly kind: "equals"; readonly text: string }
  | { readonly kind: "startswith" | "endswith" | "contains"; readonly text: string }
  | { readonly kind: "any" }
  | { readonly kind: "regex"; readonly source: string };

/** Classifies an EQL wildcard pattern (`*` any run, `?` one character; nothing else is special). */
export function wildcardShape(pattern: string): WildcardShape {
  if (!/[*?]/.test(pattern)) return { kind: "equals", text: pattern };
  if (/^\*+$/.test(pattern)) return { kind: "any" };
  if (!pattern.includes("?")) {
    const inner = pattern.replace(/^\*+/, "").replace(/\*+$/, "");
    if (!inner.includes("*")) {
      const lead = pattern.startsWith("*");
      const trail = pattern.endsWith("*");
      if (lead && trail) return { kind: "contains", text: inner };
      if (trail) return { kind: "startswith", text: inner };
      if (lead) return { kind: "endswith", text: inner };
    }
  }
  return { kind: "regex", source: wildcardToRe2(pattern) };
}

/** The RE2 source (unanchored) of a wildcard pattern. */
export function wildcardToRe2(pattern: string, star = ".*", one = "."): string {
  let out = "";
  for (const c of pattern) out += c === "*" ? star : c === "?" ? one : re2Literal(c);
  return out;
}

const RE2_META = /[\\^$.|?*+()[\]{}]/;

/** One character as an RE2 literal: metacharacters escaped, controls and non-ASCII spaces as `\x{..}`. */
export function re2Literal(c: string): string {
  const n = c.codePointAt(0) ?? 0;
  if (n < 0x20 || (n >= 0x7f && n < 0xa0) || c === '"') return `\\x{${n.toString(16)}}`;
  return RE2_META.test(c) ? `\\${c}` : c;
}

/** An anchored RE2 pattern with flags: `(?s)^(?:...)$`, `(?is)` when case-insensitive. */
export function anchored(source: string, caseInsensitive: boolean): string {
  return `(?${caseInsensitive ? "i" : ""}s)^(?:${source})$`;
}

/**
 * Lucene regular expression syntax (Elasticsearch `regexp`, flags ALL) to RE2. Lucene always matches the whole
 * string and has no anchors: `^` and `$` are literals. Supported: literals and `\` escapes, `.`, `?`, `*`, `+`,
 * `{n}`, `{n,}`, `{n,m}`, `|`, groups, classes `[...]` with ranges and `^`, `"..."` literal strings, `@` (any
 * string), `#` (the empty language), `<n-m>` numeric ranges, `\d \s \w` and their negations. Refused (naming the
 * construct): intersection `&` and complement `~`, which RE2 cannot express.
 */
export function luceneToRe2(pattern: string): string {
  return new LuceneReader([...pattern]).read();
}

class LuceneReader {
  private pos = 0;
  constructor(private readonly chars: readonly string[]) {}

  read(): string {
    const out = this.alternation();
    if (this.pos < this.chars.length) this.fail(`unexpected '${this.chars[this.pos]}'`);
    return out;
  }

  private fail(message: string): never {
    throw new Refusal("construct", "regex syntax", `Lucene regex: ${message} at character ${this.pos + 1}`);
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private alternation(): string {
    const parts = [this.sequence()];
    while (this.peek() === "|") {
      this.pos++;
      parts.push(this.sequence());
    }
    return parts.join("|");
  }

  private sequence(): string {
    let out = "";
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === "|" || c === ")") return out;
      if (c === "&") throw new Refusal("construct", "regex intersection", "Lucene intersection (&) has no RE2 form");
      out += this.repeated();
    }
  }

  private repeated(): string {
    let atom = this.atom();
    for (;;) {
      const c = this.peek();
      if (c === "*" || c === "+" || c === "?") {
        this.pos++;
        atom = `(?:${atom})${c}`;
      } else if (c === "{") {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.chars.slice(this.pos).join(""));
        if (!m) this.fail("bad repetition");
        this.pos += m[0].length;
        atom = `(?:${atom})${m[0]}`;
      } else return atom;
    }
  }

  private atom(): string {
    const c = this.peek();
    if (c === undefined) this.fail("unexpected end");
    this.pos++;
    switch (c) {
      case "~":
        throw new Refusal("construct", "regex complement", "Lucene complement (~) has no RE2 form");
      case ".":
        return ".";
      case "@":
        return ".*";
      case "#":
        return "[^\\x{0}-\\x{10FFFF}]";
      case "(": {
        if (this.peek() === ")") {
          this.pos++;
          return "(?:)";
        }
        const inner = this.alternation();
        if (this.peek() !== ")") this.fail("missing )");
        this.pos++;
        return `(?:${inner})`;
      }
      case "[":
        return this.charClass();
      case '"': {
        let lit = "";
        while (this.peek() !== '"') {
          const d = this.peek();
          if (d === undefined) this.fail("unterminated string");
          this.pos++;
          lit += re2Literal(d);
        }
        this.pos++;
        return `(?:${lit})`;
      }
      case "<": {
        const m = /^(\d+)-(\d+)>/.exec(this.chars.slice(this.pos).join(""));
        if (!m) this.fail("bad numeric range");
        this.pos += m[0].length;
        return numericRange(Number(m[1]), Number(m[2]));
      }
      case "\\": {
        const d = this.peek();
        if (d === undefined) this.fail("trailing backslash");
        this.pos++;
        if ("dDsSwW".includes(d)) return `\\${d}`;
        return re2Literal(d);
      }
      case "*":
      case "+":
      case "?":
      case "{":
        this.fail(`nothing to repeat before '${c}'`);
        break;
      default:
        return re2Literal(c);
    }
    return "";
  }

  private charClass(): string {
    let out = "[";
    if (this.peek() === "^") {
      out += "^";
      this.pos++;
    }
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail("unterminated character class");
      this.pos++;
      if (c === "]" && !first) return `${out}]`;
      first = false;
      if (c === "\\") {
        const d = this.peek();
        if (d === undefined) this.fail("trailing backslash");
        this.pos++;
        out += "dDsSwW".includes(d) ? `\\${d}` : classLiteral(d);
      } else if (c === "-" && out.length > 1 && this.peek() !== "]") out += "-";
      else out += classLiteral(c);
    }
  }
}

function classLiteral(c: string): string {
  const n = c.codePointAt(0) ?? 0;
  if (n < 0x20 || (n >= 0x7f && n < 0xa0) || c === '"') return `\\x{${n.toString(16)}}`;
  return /[\\\]^[-]/.test(c) ? `\\${c}` : c;
}

/** `<lo-hi>`: decimal integers in the range (leading zeros allowed, as in Lucene), as an RE2 alternation. */
function numericRange(lo: number, hi: number): string {
  if (lo > hi) [lo, hi] = [hi, lo];
  if (hi - lo > 2000) throw new Refusal("construct", "regex numeric range", `<${lo}-${hi}> is too wide to expand`);
  const alts: string[] = [];
  for (let n = lo; n <= hi; n++) alts.push(String(n));
  return `0*(?:${alts.join("|")})`;
}
