/**
 * Regular expressions as KQL reads them (../shared/reference/kusto-docs/regex.md), run through the `re2` binding;
 * compiled once per pattern. Where KQL's syntax and RE2's differ, the pattern is rewritten first:
 * - `\d` is "Digit (`\p{Nd}`)", and `\s`, `\w` are Unicode too (RE2 reads all three as ASCII);
 * - inside `[...]`, `&&`, `--`, `~~` are set operations and `[` opens a nested class (RE2 reads them as
 *   members): this engine does not compute class set operations, and refuses them by name (WS500) rather than
 *   match differently from Kusto;
 * - `\b` and `\B` are Unicode word boundaries (`\w` as above on one side); RE2's are ASCII, which is the same
 *   boundary in ASCII text, so a pattern holding them runs on ASCII text only and is refused (WS500) on other text;
 * - of the flags (`(?flags)`, `(?flags:exp)`) RE2 has `i`, `m`, `s` and `U`: `u` (Unicode, on by default) is
 *   dropped where it is set, and clearing it, verbose mode `x` and CRLF mode `R` are refused by name (WS500).
 */
import RE2 from "re2";
import { unsupported } from "./errors.js";

/** Unicode White_Space (Rust regex's `\s`, as KQL documents). */
const SPACE =
  "\\t\\n\\x{B}\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";
/**
 * Unicode word characters, regex.md's `\w`: "`\p{Alphabetic}` + `\p{M}` + `\d` + `\p{Pc}` + `\p{Join_Control}`".
 * RE2 has no `\p{Alphabetic}`: it is the letters and letter numbers (L, Nl) plus Other_Alphabetic, which is marks
 * (M) but for the enclosed Latin letters, symbols (So) listed by code point (Ⓐ-ⓩ, 🄰-🅉, 🅐-🅩, 🅰-🆉; as of Unicode 17).
 */
const WORD =
  "\\p{L}\\p{M}\\p{Nd}\\p{Nl}\\p{Pc}\\x{200C}\\x{200D}\\x{24B6}-\\x{24E9}\\x{1F130}-\\x{1F149}\\x{1F150}-\\x{1F169}\\x{1F170}-\\x{1F189}";
const OUTSIDE: Readonly<Record<string, string>> = {
  d: "\\p{Nd}",
  D: "\\P{Nd}",
  s: `[${SPACE}]`,
  S: `[^${SPACE}]`,
  w: `[${WORD}]`,
  W: `[^${WORD}]`,
};
const INSIDE: Readonly<Record<string, string>> = { d: "\\p{Nd}", D: "\\P{Nd}", s: SPACE, w: WORD };

/** A KQL regex as an RE2 pattern of the same meaning (see above), or an unsupported error. */
function kqlRegexToRe2(pattern: string): { readonly source: string; readonly asciiTextOnly: boolean } {
  let out = "";
  let asciiTextOnly = false;
  let inClass = false;
  let classStart = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "\\") {
      const d = pattern[i + 1] ?? "";
      const mapped = inClass ? INSIDE[d] : OUTSIDE[d];
      if (mapped !== undefined) out += mapped;
      else if (d === "U") {
        // regex.md: "`\U0000007F` Hex character code (exactly eight digits)", "`\U{7F}`": RE2 spells both `\x{..}`
        const braced = pattern[i + 2] === "{";
        const end = braced ? pattern.indexOf("}", i) : i + 10;
        const hex = end < 0 ? "" : pattern.slice(i + (braced ? 3 : 2), end);
        if (!/^[0-9A-Fa-f]+$/.test(hex) || (!braced && hex.length !== 8))
          throw new Error("invalid escape sequence: \\U");
        out += `\\x{${hex}}`;
        i = braced ? end : end - 1;
        continue;
      } else if (!inClass && (d === "<" || d === ">" || (d === "b" && pattern[i + 2] === "{"))) {
        // regex.md: "`\b{start}`, `\<`" and "`\b{end}`, `\>`" are word-boundary assertions (and `\b{start-half}`,
        // `\b{end-half}`); RE2 reads `\<` as a literal `<` and `\b{start}` as `\b` then text: refused by name
        throw unsupported(`the word-boundary assertion \\${d}${d === "b" ? "{...}" : ""} (regex ${pattern})`);
      } else if (!inClass && (d === "b" || d === "B")) {
        out += c + d;
        asciiTextOnly = true;
      } else if (inClass && (d === "S" || d === "W"))
        throw unsupported(`\\${d} inside a character class (regex ${pattern})`);
      else if ((d === "p" || d === "P" || d === "x") && pattern[i + 2] === "{") {
        const end = pattern.indexOf("}", i);
        // Left open (no `}`): not a pattern RE2 reads, and the walk must not go back to the start.
        if (end < 0) throw new Error(`invalid escape sequence: \\${d}{ without its }`);
        out += pattern.slice(i, end + 1);
        i = end;
        continue;
      } else out += c + d;
      i++;
      continue;
    }
    if (!inClass) {
      const flags = c === "(" ? FLAG_GROUP.exec(pattern.slice(i)) : null;
      if (flags) {
        out += re2Flags(flags[1] as string, flags[2] as string, flags[3] as string, pattern);
        i += (flags[0] as string).length - 1;
        continue;
      }
      if (c === "[") {
        inClass = true;
        classStart = i + 1 + (pattern[i + 1] === "^" ? 1 : 0);
        out += pattern.slice(i, classStart);
        i = classStart - 1;
        // a `]` first in a class is a member
        if (pattern[classStart] === "]") {
          out += "\\]";
          i++;
        }
        continue;
      }
      out += c;
      continue;
    }
    if (c === "]") {
      inClass = false;
      out += c;
    } else if (c === "[" && pattern[i + 1] === ":") {
      const end = pattern.indexOf(":]", i);
      out += pattern.slice(i, end + 2);
      i = end + 1;
    } else if (c === "[") {
      throw unsupported(`a nested character class (regex ${pattern})`);
    } else if ((c === "&" || c === "-" || c === "~") && pattern[i + 1] === c) {
      throw unsupported(`the character class set operation ${c}${c} (regex ${pattern})`);
    } else out += c;
  }
  return { source: out, asciiTextOnly };
}

interface Compiled {
  readonly re: RE2;
  /** The pattern holds `\b` or `\B`, whose RE2 meaning is Kusto's on ASCII text only. */
  readonly asciiTextOnly: boolean;
}

/** `(?flags)` or `(?flags:`: the flags set, those cleared, and how the group goes on. */
const FLAG_GROUP = /^\(\?([A-Za-z]*)(?:-([A-Za-z]*))?(\)|:)/;

/** A flag group as RE2 reads it: `u` is the default and dropped; clearing it, `x` and `R` are refused. */
function re2Flags(set: string, cleared: string | undefined, end: string, pattern: string): string {
  for (const f of ["x", "R"])
    if (set.includes(f) || cleared?.includes(f)) throw unsupported(`the regex flag ${f} (regex ${pattern})`);
  if (cleared?.includes("u")) throw unsupported(`clearing the regex flag u (regex ${pattern})`);
  const on = set.replaceAll("u", "");
  const flags = cleared ? `${on}-${cleared}` : on;
  if (flags === "") return end === ":" ? "(?:" : "";
  return `(?${flags}${end}`;
}

const cache = new Map<string, Compiled | Error>();
const NON_ASCII = /[^\x00-\x7F]/;

function compiled(pattern: string, global: boolean): Compiled {
  const key = `${global ? "g" : "-"}${pattern}`;
  let re = cache.get(key);
  if (!re) {
    try {
      const { source, asciiTextOnly } = kqlRegexToRe2(pattern);
      re = { re: new RE2(source, global ? "gu" : "u"), asciiTextOnly };
    } catch (error) {
      if (error instanceof Error && error.name === "DiagnosticError") throw error;
      re = error instanceof Error ? error : new Error(String(error));
    }
    if (cache.size > 1000) cache.clear();
    cache.set(key, re);
  }
  if (re instanceof Error) throw new Error(`invalid regular expression '${pattern}': ${re.message}`);
  return re;
}

export function compileRegex(pattern: string, global = false): RE2 {
  return compiled(pattern, global).re;
}

/** The compiled pattern, ready to run on `text` (reset to its start), or an unsupported error (see above). */
function prepared(pattern: string, text: string, global = false): RE2 {
  const { re, asciiTextOnly } = compiled(pattern, global);
  if (asciiTextOnly && NON_ASCII.test(text))
    throw unsupported(`the Unicode word boundary \\b or \\B on text that is not all ASCII (regex ${pattern})`);
  re.lastIndex = 0;
  return re;
}

/** `text matches regex pattern`: unanchored, case-sensitive unless the pattern says `(?i)`. */
export function regexTest(pattern: string, text: string): boolean {
  return prepared(pattern, text).test(text);
}

/** The capture groups of the first match, or null. */
export function regexMatch(pattern: string, text: string): (string | undefined)[] | null {
  const m = prepared(pattern, text).exec(text);
  return m ? Array.from(m) : null;
}

/** The named groups of the first match (a group that took no part is undefined), or null when none. */
export function regexMatchGroups(pattern: string, text: string): Readonly<Record<string, string | undefined>> | null {
  const m = prepared(pattern, text).exec(text);
  return m ? { ...m.groups } : null;
}

/** Every match (its numbered groups, and its named ones as `groups`), non-overlapping, left to right. */
export function regexMatchAll(pattern: string, text: string): RegExpExecArray[] {
  const re = prepared(pattern, text, true);
  const out: RegExpExecArray[] = [];
  for (;;) {
    const m = re.exec(text);
    if (!m) break;
    out.push(m);
    if (m[0] === "") re.lastIndex++;
  }
  return out;
}

/** replace_regex: every match replaced by `rewrite`, where `\\1`..`\\9` are the capture groups. */
export function regexReplaceAll(pattern: string, text: string, rewrite: string): string {
  const re = prepared(pattern, text, true);
  return text.replace(re as unknown as RegExp, (...m: unknown[]) =>
    rewrite.replace(/\\(\d)/g, (_, d: string) => String(m[Number(d)] ?? "")),
  );
}
