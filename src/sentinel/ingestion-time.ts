/**
 * Whether a query's result rows still carry their table's ingestion time, so `ingestion_time()` can be applied to
 * them. Kusto's `ingestion_time()` reads the hidden ingestion-time column of a table's rows ("the approximate
 * datetime in UTC format indicating when the current record was ingested", learn.microsoft.com/kusto/query/
 * ingestion-time-function); operators that build new rows (project, summarize, join, union, parser functions such as
 * ASIM's `_Im_*` or shmhunt's `ShmhuntAuditd()`) drop it. So only a query that reads one table and keeps its rows
 * (where / extend / take / order) is windowed on ingestion time; any other keeps the event-time window, and
 * late rows beyond its overlap can be missed (say so where that matters: docs/service.md).
 */

const ROW_KEEPING = new Set(["where", "filter", "extend", "take", "limit", "order", "sort"]);

/** The text with string literals blanked and comments removed (so `|`, `;` and parentheses are the query's own). */
function code(query: string): string {
  let out = "";
  let i = 0;
  while (i < query.length) {
    const ch = query[i] ?? "";
    if (ch === "/" && query[i + 1] === "/") {
      while (i < query.length && query[i] !== "\n") i++;
      continue;
    }
    const verbatim = ch === "@" && (query[i + 1] === '"' || query[i + 1] === "'");
    if (ch === '"' || ch === "'" || verbatim) {
      const quote = verbatim ? query[i + 1] : ch;
      i += verbatim ? 2 : 1;
      while (i < query.length && query[i] !== quote) i += !verbatim && query[i] === "\\" ? 2 : 1;
      i++;
      out += '""';
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

/** Splits at `sep` outside parentheses, brackets and braces. */
function splitTop(text: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "(" || ch === "[" || ch === "{") depth++;
    else if (ch === ")" || ch === "]" || ch === "}") depth--;
    else if (ch === sep && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

export function keepsIngestionTime(query: string): boolean {
  const statements = splitTop(code(query), ";")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const lets = new Set(statements.flatMap((s) => /^let\s+([A-Za-z_][A-Za-z0-9_]*)/.exec(s)?.[1] ?? []));
  const body = statements.at(-1);
  if (body === undefined || body.startsWith("let ")) return false;
  const [source, ...operators] = splitTop(body, "|").map((s) => s.trim());
  if (!source || !/^[A-Za-z][A-Za-z0-9_]*$/.test(source) || lets.has(source)) return false;
  return operators.every((op) => ROW_KEEPING.has(/^[a-z-]+/.exec(op)?.[0] ?? ""));
}
