/**
 * Reads events for the evaluator from a file: a JSON array or NDJSON (one event per line). Blank lines and lines
 * starting with // are skipped. Bad JSON is an error naming the file and line.
 */
import { createReadStream } from "node:fs";
import { Codes, DiagnosticError, fileSystemReason, jsonSyntaxError, LineMap } from "../diagnostics/index.js";
import { EQL_FILE_LIMITS } from "./limits.js";

/** Reads events from a file, or from standard input when `file` is "-". */
export async function readEvents(file: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<unknown[]> {
  let text: string;
  try {
    text = await readAll(file === "-" ? stdin : createReadStream(file), file === "-" ? "<stdin>" : file);
  } catch (error) {
    if (error instanceof DiagnosticError) throw error;
    throw new DiagnosticError([
      { code: Codes.EqlSyntax, severity: "error", message: `cannot read events: ${fileSystemReason(error)}`, file },
    ]);
  }
  return parseEvents(text, file === "-" ? "<stdin>" : file);
}

/**
 * A stream's text, read until EQL_FILE_LIMITS.fileBytes: a longer one is refused naming `file` and the limit as
 * the reader passes the limit (leaving the loop destroys the stream), before it is all in memory.
 */
async function readAll(stream: NodeJS.ReadableStream, file: string): Promise<string> {
  const limit = EQL_FILE_LIMITS.fileBytes;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.length;
    if (size > limit) {
      throw new DiagnosticError([
        {
          code: Codes.EqlSyntax,
          severity: "error",
          message: `the file is over the limit of ${limit} bytes (EQL_FILE_LIMITS.fileBytes)`,
          file,
        },
      ]);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Reads one JSON document (e.g. an Elasticsearch mapping); `#` comment lines are skipped. */
export async function readJsonDocument(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readAll(createReadStream(file), file);
  } catch (error) {
    if (error instanceof DiagnosticError) throw error;
    throw new DiagnosticError([
      { code: Codes.EqlSyntax, severity: "error", message: `cannot read the file: ${fileSystemReason(error)}`, file },
    ]);
  }
  const body = text
    .split("\n")
    .map((line) => (line.trimStart().startsWith("#") ? "" : line))
    .join("\n");
  try {
    return JSON.parse(body);
  } catch (error) {
    throw badJson(body, body, file, error as Error, 0);
  }
}

function parseEvents(text: string, file?: string): unknown[] {
  const body = text.replace(/^\uFEFF/, "");
  const trimmed = body.trimStart();
  if (trimmed.startsWith("[")) {
    // `//` comment lines (as in Elasticsearch's test data) are blanked, keeping line numbers
    const json = body
      .split("\n")
      .map((line) => (line.trimStart().startsWith("//") ? "" : line))
      .join("\n");
    try {
      const value: unknown = JSON.parse(json);
      if (!Array.isArray(value)) throw new Error("expected an array of events");
      return value;
    } catch (error) {
      throw badJson(body, json, file, error as Error, 0);
    }
  }
  const events: unknown[] = [];
  let offset = 0;
  for (const line of body.split("\n")) {
    const content = line.trim();
    if (content !== "" && !content.startsWith("//")) {
      try {
        events.push(JSON.parse(content));
      } catch (error) {
        throw badJson(body, content, file, error as Error, offset + line.indexOf(content));
      }
    }
    offset += line.length + 1;
  }
  return events;
}

/**
 * Bad JSON at the first bad character of `parsed` (which starts at `parsedOffset` in `text`), found by a scan:
 * JSON.parse gives no position for some errors and quotes a multi-line excerpt of the input instead. The message is
 * one line: the scan's reason, or JSON.parse's first line when the text is JSON (a value that is not an array).
 */
function badJson(
  text: string,
  parsed: string,
  file: string | undefined,
  error: Error,
  parsedOffset: number,
): DiagnosticError {
  const lines = new LineMap(text);
  const syntax = jsonSyntaxError(parsed);
  const offset = parsedOffset + (syntax?.offset ?? 0);
  const reason = syntax?.reason ?? error.message.split("\n")[0] ?? "";
  return new DiagnosticError([
    {
      code: Codes.EqlSyntax,
      severity: "error",
      message: `not valid JSON: ${reason}`,
      ...(file ? { file } : {}),
      span: lines.span(offset, offset),
    },
  ]);
}
