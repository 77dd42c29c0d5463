/**
 * `shmhunt eql --events` and `--mapping` read a file of at most EQL_FILE_LIMITS.fileBytes (64 MiB): a larger one
 * is refused naming the file and the limit, as the reader passes the limit, not after holding it all in memory.
 */
import { truncateSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { DiagnosticError, formatDiagnostic } from "../../src/diagnostics/index.js";
import { readEvents } from "../../src/eql/event-file.js";
import { EQL_FILE_LIMITS } from "../../src/eql/limits.js";
import { runCli } from "../support/cli-in-process.js";
import { tempDirs } from "../support/temp-dirs.js";

const LIMIT = EQL_FILE_LIMITS.fileBytes;
const temp = tempDirs("eql-file-limit");
afterEach(() => {
  process.exitCode = undefined;
});

/** A file of `bytes` bytes (sparse: zeros) whose first bytes are `head`. */
function fileOf(name: string, bytes: number, head: string): string {
  const file = path.join(temp(), name);
  writeFileSync(file, head);
  truncateSync(file, bytes);
  return file;
}

const escaped = (s: string) => s.replaceAll(/[.*+?^${}()|[\]\\/]/g, "\\$&");

describe("the size limit of eql's input files", () => {
  it("is 64 MiB", () => {
    expect(LIMIT).toBe(64 * 1024 * 1024);
  });

  it("refuses an events file over it, naming the file and the limit", async () => {
    const file = fileOf("events.ndjson", LIMIT + 1, '{"a": 1}\n');
    const r = await runCli(["eql", "any where true", "--events", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^shmhunt: ${escaped(file)}: error EQL100: the file is over the limit of ${LIMIT} bytes .*\\n$`),
    );
  });

  it("refuses a mapping file over it, naming the file and the limit", async () => {
    const events = path.join(temp(), "events.ndjson");
    writeFileSync(events, '{"a": 1}\n');
    const mapping = fileOf("mapping.json", LIMIT + 1, "{}");
    const r = await runCli(["eql", "any where true", "--events", events, "--mapping", mapping]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^shmhunt: ${escaped(mapping)}: error EQL100: the file is over the limit of ${LIMIT} bytes .*\\n$`),
    );
  });

  it("refuses standard input over it as the reader passes the limit", async () => {
    let sent = 0;
    const piece = Buffer.alloc(1 << 20, 0x20);
    const stdin = Readable.from(
      (function* () {
        while (sent <= 4 * LIMIT) {
          sent += piece.length;
          yield piece;
        }
      })(),
    );
    const error = await readEvents("-", stdin).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DiagnosticError);
    const [first] = (error as DiagnosticError).diagnostics;
    expect(first && formatDiagnostic(first)).toMatch(/^<stdin>: error EQL100: the file is over the limit of/);
    expect(sent).toBeLessThan(LIMIT + 4 * piece.length);
  });

  it("reads a file within it", async () => {
    const file = path.join(temp(), "events.ndjson");
    writeFileSync(file, '{"a": 1}\n{"a": 2}\n');
    expect(await readEvents(file)).toEqual([{ a: 1 }, { a: 2 }]);
  });
});
