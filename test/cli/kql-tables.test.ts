/**
 * `shmhunt kql` over a workspace whose NDJSON table is malformed. docs/workspace.md: the engine gives "never a wrong
 * or partial answer", and "Errors print one line on stderr … and exit 1"; the project's rule: bad input "gets a
 * clear error naming the file, line and column".
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { collect, shmhunt } from "../support/cli-process.js";
import { tempDirs } from "../support/temp-dirs.js";

const temp = tempDirs("kql-tables");

describe("kql over a malformed NDJSON table", () => {
  it("refuses a line that is not UTF-8 at its file:line:column (its bytes were read as U+FFFD, exit 0)", async () => {
    const ws = temp();
    const file = path.join(ws, "T.ndjson");
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from('{"A":"ok"}\n\n{"A":"ünï"}\n{"A":"ab'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}\n{"A":"later"}\n'),
      ]),
    );
    const run = collect(shmhunt(["kql", "T", "--workspace", ws], {}));
    expect(await run.exit).toBe(1);
    expect(run.out()).toBe("");
    expect(run.err().trim().split("\n")).toEqual([
      `shmhunt: ${file}:4:9: error WS502: not valid UTF-8 (byte 0xFF); a table file must be UTF-8`,
    ]);
  }, 60_000);

  it("names the line and column of a line that is not JSON", async () => {
    const ws = temp();
    const file = path.join(ws, "T.ndjson");
    writeFileSync(file, '{"A":1}\n{"A": 2,\n');
    const run = collect(shmhunt(["kql", "T", "--workspace", ws], {}));
    expect(await run.exit).toBe(1);
    expect(run.err().trim().split("\n")).toEqual([
      expect.stringMatching(new RegExp(`^shmhunt: ${file.replace(/[.]/g, "\\.")}:2:9: error WS502: invalid JSON`)),
    ]);
  }, 60_000);
});
