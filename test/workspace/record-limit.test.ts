/**
 * One record of a `.json` (top-level array) or `.csv` workspace table file is at most WORKSPACE_LIMITS.recordBytes
 * (64 MiB), as an NDJSON line is (ndjson-line-limit.test.ts): the readers built a record one character at a time
 * with no bound. A record past the limit is refused as the reader passes it, WS502 at the file:line it starts on.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openWorkspace } from "../../src/workspace/index.js";
import { WORKSPACE_LIMITS } from "../../src/workspace/limits.js";
import { refusal } from "../support/refusal.js";
import { tempDirs } from "../support/temp-dirs.js";

const LIMIT = WORKSPACE_LIMITS.recordBytes;
const temp = tempDirs("record-limit");

/** `bytes` bytes: `prefix`, then 'x' to fill, then `suffix`. */
function filled(bytes: number, prefix: string, suffix: string): Buffer {
  const out = Buffer.alloc(bytes, "x");
  out.write(prefix, 0, "latin1");
  out.write(suffix, bytes - suffix.length, "latin1");
  return out;
}

// Each test writes and reads a file of 64 MiB and more: about 50 s each at load 10 on 2 cores (one ran out of a
// 60 s timeout there); the timeouts below are a safety net, not a speed target.
const message = `a record longer than 64 MiB (${LIMIT} bytes), the limit of one record; it is not read`;

describe("a record over the limit", () => {
  it("an object of a .json array is refused at the line and column of its '{'", async () => {
    const ws = temp();
    const file = path.join(ws, "T.json");
    const big = filled(LIMIT + 1, '{"A":"', '"}');
    writeFileSync(file, Buffer.concat([Buffer.from('[{"A":"row 1"},\n  '), big, Buffer.from(',\n{"A":"row 3"}]\n')]));
    expect(await refusal(openWorkspace(ws))).toBe(`${file}:2:3: error WS502: ${message}`);
  }, 300_000);

  it("a CSV record is refused at the line it starts on (a quoted newline inside it counts)", async () => {
    const ws = temp();
    const file = path.join(ws, "T.csv");
    const big = filled(LIMIT + 1, 'big,"a\nb', '"');
    writeFileSync(file, Buffer.concat([Buffer.from("A,B\nrow,2\n"), big, Buffer.from("\nrow,4\n")]));
    expect(await refusal(openWorkspace(ws))).toBe(`${file}:3:1: error WS502: ${message}`);
  }, 300_000);
});
