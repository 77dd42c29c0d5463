/**
 * Encodes an arbitrary string into a name safe as a file name and as an Azure Table PartitionKey/RowKey
 * (which forbid `/ \ # ?` and control characters): everything outside `[A-Za-z0-9._-]` becomes `%XX` (UTF-8),
 * and a leading `.` is encoded too so no name is hidden or special.
 */
export function encodeName(value: string): string {
  if (value.length === 0) return "%";
  let out = "";
  for (const byte of Buffer.from(value, "utf8")) {
    const ch = String.fromCharCode(byte);
    const safe = /[A-Za-z0-9_-]/.test(ch) || (ch === "." && out.length > 0);
    out += safe ? ch : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

export function decodeName(name: string): string {
  if (name === "%") return "";
  const bytes: number[] = [];
  for (let i = 0; i < name.length; i++) {
    if (name[i] === "%") {
      bytes.push(Number.parseInt(name.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(name.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}
