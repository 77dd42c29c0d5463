/**
 * Where JSON text stops being JSON: JSON.parse says "at position N" for some errors and, for others (an unexpected
 * token), only quotes a multi-line excerpt of the input. This scan finds the first bad character itself, by the
 * grammar JSON.parse reads (RFC 8259: whitespace is space, tab, CR, LF), without recursion (nesting is a stack).
 */

/** The first syntax error in `text` as JSON: its offset (code units) and a one-line reason; undefined when valid. */
export function jsonSyntaxError(text: string): { offset: number; reason: string } | undefined {
  const n = text.length;
  let i = 0;
  const stack: ("]" | "}")[] = [];
  let opened = false; // the value just read opened a container
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      i++;
    }
  };
  const bad = (expected: string) =>
    i >= n
      ? { offset: n, reason: `unexpected end of input, expected ${expected}` }
      : {
          offset: i,
          reason: `unexpected ${JSON.stringify(String.fromCodePoint(text.codePointAt(i) ?? 0))}, expected ${expected}`,
        };
  /** A string at i (text[i] is '"'): its end, or the error. */
  const string = (): { offset: number; reason: string } | undefined => {
    i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return undefined;
      }
      if (c < 0x20) return { offset: i, reason: "control character in a string, expected it escaped" };
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === "u") {
          for (let k = 2; k < 6; k++) {
            if (!/[0-9a-fA-F]/.test(text[i + k] ?? "")) {
              i += k;
              return bad("a hex digit of a \\u escape");
            }
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else {
          i++;
          return bad('an escape (one of "\\/bfnrtu)');
        }
      } else i++;
    }
    return bad('the closing "');
  };
  const digits = (): boolean => {
    const from = i;
    while (i < n && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
    return i > from;
  };
  /** A value at i: after it, or the error. */
  const value = (): { offset: number; reason: string } | undefined => {
    ws();
    const c = text[i];
    if (c === "{" || c === "[") {
      stack.push(c === "{" ? "}" : "]");
      opened = true;
      i++;
      return undefined; // the container's members are read by the loop below
    }
    if (c === '"') return string();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) {
      if (c === "-") i++;
      if (text[i] === "0") i++;
      else if (!digits()) return bad("a digit");
      if (text[i] === ".") {
        i++;
        if (!digits()) return bad("a digit");
      }
      if (text[i] === "e" || text[i] === "E") {
        i++;
        if (text[i] === "+" || text[i] === "-") i++;
        if (!digits()) return bad("a digit");
      }
      return undefined;
    }
    for (const word of ["true", "false", "null"]) {
      if (c === word[0]) {
        for (let k = 0; k < word.length; k++, i++) if (text[i] !== word[k]) return bad(`"${word}"`);
        return undefined;
      }
    }
    return bad("a value");
  };
  /** A member of the object at the top of the stack: `"key": value`, the value's container opened if it is one. */
  const member = (): { offset: number; reason: string } | undefined => {
    ws();
    if (text[i] !== '"') return bad("a property name");
    const e = string();
    if (e) return e;
    ws();
    if (text[i] !== ":") return bad("':'");
    i++;
    return value();
  };

  let error = value();
  while (!error && stack.length > 0) {
    const close = stack[stack.length - 1];
    const first = opened;
    opened = false;
    ws();
    if (first && text[i] === close) {
      // an empty container, just opened
      stack.pop();
      i++;
    } else if (first) {
      error = close === "}" ? member() : value();
    } else if (text[i] === close) {
      stack.pop();
      i++;
    } else if (text[i] === ",") {
      i++;
      error = close === "}" ? member() : value();
    } else error = bad(`',' or '${close}'`);
  }
  if (error) return error;
  ws();
  return i < n ? bad("the end of input") : undefined;
}
