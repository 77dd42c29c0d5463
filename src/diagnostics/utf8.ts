/** Where a file's bytes stop being UTF-8: for the rule loaders (TOML rules, YARA rules), which refuse such a file. */
import { LineMap, type Span } from "./span.js";

/**
 * The first byte sequence of `bytes` that is not UTF-8: its byte offset and its position (line and column of the
 * text before it; a leading byte order mark is not a column), or undefined when all of it is UTF-8.
 */
export function firstNotUtf8(bytes: Uint8Array): { readonly offset: number; readonly span: Span } | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = buffer.toString("utf8");
  if (!text.includes("\uFFFD")) return undefined; // the common case: nothing was replaced
  // The text written out again gives the file's bytes up to the first sequence that is not UTF-8.
  const again = Buffer.from(text, "utf8");
  let offset = 0;
  while (offset < buffer.length && buffer[offset] === again[offset]) offset++;
  if (offset === buffer.length && again.length === buffer.length) return undefined; // U+FFFD written as itself
  const whole = buffer.subarray(0, offset).toString("utf8");
  const before = whole.startsWith("\uFEFF") ? whole.slice(1) : whole;
  return { offset, span: new LineMap(before).span(before.length, before.length) };
}
