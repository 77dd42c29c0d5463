/**
 * Bad JSON in `shmhunt eql --events` is one line at the file:line:column of the first bad character, also where
 * JSON.parse gives no position (an unexpected token: its message quotes a multi-line excerpt of the input instead).
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DiagnosticError, formatDiagnostic } from "../../src/diagnostics/index.js";
import { readJsonDocument } from "../../src/eql/event-file.js";
import { runCli } from "../support/cli-in-process.js";
import { tempDirs } from "../support/temp-dirs.js";

const temp = tempDirs("event-file-errors");
afterEach(() => {
  process.exitCode = undefined;
});

async function refusal(name: string, text: string): Promise<{ file: string; stderr: string }> {
  const file = path.join(temp(), name);
  writeFileSync(file, text);
  const r = await runCli(["eql", "any where true", "--events", file]);
  expect(r.code).toBe(1);
  return { file, stderr: r.stderr };
}

describe("bad JSON in an events file", () => {
  it("a JSON array file: at the unexpected token's line:column, in one line", async () => {
    const { file, stderr } = await refusal("events.json", '[{"a":1},\n  {"c": x}]');
    expect(stderr).toBe(`shmhunt: ${file}:2:9: error EQL100: not valid JSON: unexpected "x", expected a value\n`);
  });

  it("an NDJSON line: at the unexpected token's column on its line, in one line", async () => {
    const { file, stderr } = await refusal("events.ndjson", '{"a": 1}\n\n   {"b": [1, 2,, 3]}\n{"c": 1}\n');
    expect(stderr).toBe(`shmhunt: ${file}:3:16: error EQL100: not valid JSON: unexpected ",", expected a value\n`);
  });

  it("where JSON.parse gives a position, the same place", async () => {
    const { file, stderr } = await refusal("events.ndjson", '{"a": 1}\n{"a" 1}\n');
    expect(stderr).toBe(`shmhunt: ${file}:2:6: error EQL100: not valid JSON: unexpected "1", expected ':'\n`);
  });

  it("a mapping document: at its line:column", async () => {
    const file = path.join(temp(), "mapping.json");
    writeFileSync(file, '# comment\n{"mappings": {\n  "properties": {"a": {"type": keyword}}}}\n');
    const error = await readJsonDocument(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DiagnosticError);
    const [first] = (error as DiagnosticError).diagnostics;
    expect(first && formatDiagnostic(first)).toBe(
      `${file}:3:32: error EQL100: not valid JSON: unexpected "k", expected a value`,
    );
  });
});
