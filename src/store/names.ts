/**
 * Encodes an arbitrary string into a name safe as a file name and as an Azure Table PartitionKey/RowKey
 * (which forbid `/ \ # ?` and control characters): everything outside `[A-Za-z0-9._-]` becomes `%XX` (UTF-8),
 * and a leading `.` is encoded too so no name is hidden or special. A lone surrogate (a UTF-16 unit UTF-8 cannot
 * carry: it would become U+FFFD, and `"a\uD800"`, `"a\uDC00"` and `"a\uFFFD"` one name) becomes `%uXXXX`, its unit
 * in hex: `%u` is never in the encoding of anything else (`%` is always followed by two hex digits there, or by `%`
 * in a hashed key's marker), so every well-formed name keeps the encoding it always had.
 */
export function encodeName(value: string): string {
  if (value.length === 0) return "%";
  if (!hasLoneSurrogate(value)) return encodeUtf8(value, false);
  let out = "";
  let run = 0;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    const paired =
      unit <= 0xdbff && i + 1 < value.length && value.charCodeAt(i + 1) >= 0xdc00 && value.charCodeAt(i + 1) <= 0xdfff;
    if (paired) {
      i++;
      continue;
    }
    if (i > run) out += encodeUtf8(value.slice(run, i), out.length > 0);
    out += `%u${unit.toString(16).toUpperCase()}`;
    run = i + 1;
  }
  if (run < value.length) out += encodeUtf8(value.slice(run), out.length > 0);
  return out;
}

/** A UTF-16 unit of a surrogate pair without its other half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Does the string hold a lone surrogate (UTF-8 cannot carry it: encoded, it would read back as U+FFFD)? */
export function hasLoneSurrogate(value: string): boolean {
  return LONE_SURROGATE.test(value);
}

/** A well-formed string's bytes as in encodeName; `after`: something comes before it (a `.` is then safe). */
function encodeUtf8(value: string, after: boolean): string {
  let out = "";
  for (const byte of Buffer.from(value, "utf8")) {
    const ch = String.fromCharCode(byte);
    const safe = /[A-Za-z0-9_-]/.test(ch) || (ch === "." && (after || out.length > 0));
    out += safe ? ch : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

export function decodeName(name: string): string {
  if (name === "%") return "";
  let out = "";
  const bytes: number[] = [];
  const flush = () => {
    if (bytes.length === 0) return;
    out += Buffer.from(bytes).toString("utf8");
    bytes.length = 0;
  };
  for (let i = 0; i < name.length; i++) {
    if (name[i] === "%" && name[i + 1] === "u") {
      flush();
      out += String.fromCharCode(Number.parseInt(name.slice(i + 2, i + 6), 16));
      i += 5;
    } else if (name[i] === "%") {
      bytes.push(Number.parseInt(name.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(name.charCodeAt(i));
    }
  }
  flush();
  return out;
}
