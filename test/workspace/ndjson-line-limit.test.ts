/**
 * One NDJSON line of a workspace table file is at most WORKSPACE_LIMITS.recordBytes (64 MiB). The project's
 * rules: bad input "gets a clear error naming the file, line and column", and "every request has limits"; a line
 * over the limit is refused at its file:line, naming the limit, as the reader reaches the limit: not after reading
 * the whole line into memory (a 300 MB line took 30–50 s, then `strlen` over it failed naming no file).
 */
import { execFileSync } from "node:child_process";
import { createWriteStream, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openWorkspace } from "../../src/workspace/index.js";
import { WORKSPACE_LIMITS } from "../../src/workspace/limits.js";
import { typedBatches } from "../../src/workspace/load.js";
import { refusal } from "../support/refusal.js";
import { tempDirs } from "../support/temp-dirs.js";

const LIMIT = WORKSPACE_LIMITS.recordBytes;
const temp = tempDirs("ndjson-line-limit");

/** A record line `{"A":"xxx…"}` of exactly `bytes` bytes (no newline). */
function recordLine(bytes: number): Buffer {
  const line = Buffer.alloc(bytes, "x");
  line.write('{"A":"', 0, "latin1");
  line.write('"}', bytes - 2, "latin1");
  return line;
}

const short = (i: number) => Buffer.from(`{"A":"row ${i}"}\n`);

describe("an NDJSON line over the limit", () => {
  it("is refused at its file:line, naming the limit, when the workspace is opened (its first records)", async () => {
    const ws = temp();
    const file = path.join(ws, "T.ndjson");
    writeFileSync(file, Buffer.concat([short(1), short(2), recordLine(LIMIT + 1), Buffer.from("\n"), short(4)]));
    expect(await refusal(openWorkspace(ws))).toBe(
      `${file}:3:1: error WS502: a line longer than 64 MiB (${LIMIT} bytes), the limit of one record; it is not read`,
    );
  });

  it("is refused at its file:line by a query reading past the first records (strlen over it)", async () => {
    const ws = temp();
    const file = path.join(ws, "T.ndjson");
    // The workspace samples the first 200 records for its columns; the long line comes after them, so only the
    // query reads it.
    const head = Buffer.concat(Array.from({ length: 200 }, (_, i) => short(i + 1)));
    writeFileSync(file, Buffer.concat([head, recordLine(LIMIT + 1), Buffer.from("\n"), short(202)]));
    const workspace = await openWorkspace(ws);
    expect(await refusal(workspace.query("T | summarize max(strlen(A))"))).toMatch(
      new RegExp(`^${file.replaceAll(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:201:1: error WS502: .*${LIMIT} bytes`),
    );
  });

  it("a line of exactly the limit is read, followed by a newline or ending the file", async () => {
    // The table reader itself (what a query reads), not a query: a query's result over a 64 MiB value is slow to
    // make and compare, and the reader is what the limit is about.
    const ws = temp();
    for (const [name, after] of [
      ["ended.ndjson", Buffer.from("\n")],
      ["last.ndjson", Buffer.alloc(0)],
    ] as const) {
      const file = path.join(ws, name);
      writeFileSync(file, Buffer.concat([short(1), recordLine(LIMIT), after]));
      const lengths: number[] = [];
      for await (const batch of typedBatches(file, "ndjson", [{ name: "A", type: "string" }])) {
        for (const row of batch) lengths.push((row[0] as string).length);
      }
      // The value is the line without `{"A":"` and `"}`.
      expect(lengths, name).toEqual(["row 1".length, LIMIT - 8]);
    }
  }, 300_000);

  it("is refused while the line is still being written: the reader does not wait for its end", async () => {
    // The table file is a FIFO: the test writes the start of one line past the limit, then neither ends the line
    // nor closes the pipe. A reader that held the whole line before judging it would wait for ever.
    const ws = temp();
    const file = path.join(ws, "T.ndjson");
    execFileSync("mkfifo", [file]);
    const writer = createWriteStream(file);
    writer.on("error", () => undefined); // EPIPE once the reader has stopped
    let written = 0;
    const writing = (async () => {
      const piece = Buffer.alloc(1 << 20, "x");
      piece.write('{"A":"', 0, "latin1");
      for (let sent = 0; sent <= LIMIT + 2 * piece.length && !writer.destroyed; sent += piece.length) {
        if (!writer.write(piece)) {
          await new Promise<void>((resolve) => {
            writer.once("drain", () => resolve());
            writer.once("close", () => resolve());
          });
        }
        written = sent + piece.length;
        piece.fill("x", 0, 6);
      }
    })();
    try {
      const opened = openWorkspace(ws);
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`no refusal while the line is open (${written} bytes written)`)), 240_000),
      );
      expect(await refusal(Promise.race([opened, timeout]))).toBe(
        `${file}:1:1: error WS502: a line longer than 64 MiB (${LIMIT} bytes), the limit of one record; it is not read`,
      );
      // The pipe is still open and the line unfinished: the refusal came from the bytes up to the limit.
      expect(writer.closed).toBe(false);
      expect(written).toBeLessThanOrEqual(LIMIT + 3 * (1 << 20));
    } finally {
      writer.destroy();
      await writing;
    }
  }, 300_000);
});
