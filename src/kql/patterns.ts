/**
 * EQL wildcard patterns (`:`, `like`) as KQL: the cheapest KQL string operator that keeps their meaning, or an
 * RE2 regex (Lucene regular expressions are printed by lucene-re2.ts).
 */
import { isControl } from "./literals.js";

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
  if (isControl(c) || c === '"') return `\\x{${(c.codePointAt(0) ?? 0).toString(16)}}`;
  return RE2_META.test(c) ? `\\${c}` : c;
}

/** An anchored RE2 pattern with flags: `(?s)^(?:...)$`, `(?is)` when case-insensitive. */
export function anchored(source: string, caseInsensitive: boolean): string {
  return `(?${caseInsensitive ? "i" : ""}s)^(?:${source})$`;
}
