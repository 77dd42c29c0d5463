/** Regular expressions with RE2 semantics (as Kusto uses), through the `re2` binding; compiled once per pattern. */
import RE2 from "re2";

const cache = new Map<string, RE2 | Error>();

export function compileRegex(pattern: string): RE2 {
  let re = cache.get(pattern);
  if (!re) {
    try {
      re = new RE2(pattern, "u");
    } catch (error) {
      re = error instanceof Error ? error : new Error(String(error));
    }
    if (cache.size > 1000) cache.clear();
    cache.set(pattern, re);
  }
  if (re instanceof Error) throw new Error(`invalid regular expression '${pattern}': ${re.message}`);
  return re;
}

/** `text matches regex pattern`: unanchored, case-sensitive unless the pattern says `(?i)`. */
export function regexTest(pattern: string, text: string): boolean {
  const re = compileRegex(pattern);
  re.lastIndex = 0;
  return re.test(text);
}

/** The capture groups of the first match, or null. */
export function regexMatch(pattern: string, text: string): (string | undefined)[] | null {
  const re = compileRegex(pattern);
  re.lastIndex = 0;
  const m = re.exec(text);
  return m ? Array.from(m) : null;
}
