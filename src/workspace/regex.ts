/** Regular expressions with RE2 semantics (as Kusto uses), through the `re2` binding; compiled once per pattern. */
import RE2 from "re2";

const cache = new Map<string, RE2 | Error>();

export function compileRegex(pattern: string, global = false): RE2 {
  const key = `${global ? "g" : "-"}${pattern}`;
  let re = cache.get(key);
  if (!re) {
    try {
      re = new RE2(pattern, global ? "gu" : "u");
    } catch (error) {
      re = error instanceof Error ? error : new Error(String(error));
    }
    if (cache.size > 1000) cache.clear();
    cache.set(key, re);
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

/** Every match (with its groups), non-overlapping, left to right. */
export function regexMatchAll(pattern: string, text: string): (string | undefined)[][] {
  const re = compileRegex(pattern, true);
  re.lastIndex = 0;
  const out: (string | undefined)[][] = [];
  for (;;) {
    const m = re.exec(text);
    if (!m) break;
    out.push(Array.from(m));
    if (m[0] === "") re.lastIndex++;
  }
  return out;
}

/** replace_regex: every match replaced by `rewrite`, where `\\1`..`\\9` are the capture groups. */
export function regexReplaceAll(pattern: string, text: string, rewrite: string): string {
  const re = compileRegex(pattern, true);
  re.lastIndex = 0;
  return text.replace(re as unknown as RegExp, (...m: unknown[]) =>
    rewrite.replace(/\\(\d)/g, (_, d: string) => String(m[Number(d)] ?? "")),
  );
}
