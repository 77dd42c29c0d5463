import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/main.js";
import { CliError, createOutput, reasonOf } from "../../src/cli/output.js";
import { DiagnosticError } from "../../src/diagnostics/index.js";

describe("cli", () => {
  it("registers every command with a --json option", async () => {
    const program = await buildProgram();
    const names = program.commands.map((c) => c.name());
    expect(names).toEqual(
      expect.arrayContaining(["validate", "translate", "eql", "kql", "scan", "deploy", "hunt", "serve"]),
    );
    for (const command of program.commands) {
      expect(
        command.options.map((o) => o.long),
        command.name(),
      ).toContain("--json");
    }
  });

  it("reduces any error to one line naming file, line and column", () => {
    const error = new DiagnosticError([
      {
        code: "RULE201",
        severity: "error",
        message: "unknown key 'foo'",
        file: "rules/x.toml",
        span: { start: { line: 3, column: 1, offset: 20 }, end: { line: 3, column: 4, offset: 23 } },
        field: "shmhunt.foo",
      },
      { code: "RULE202", severity: "error", message: "second" },
    ]);
    expect(reasonOf(error)).toBe("rules/x.toml:3:1: error RULE201: unknown key 'foo' (shmhunt.foo) (+1 more)");
    expect(reasonOf(new CliError("first\nsecond"))).toBe("first");
  });

  it("writes NDJSON records with --json and drops human text", () => {
    const chunks: string[] = [];
    const sink = { write: (s: string) => chunks.push(s) };
    const out = createOutput({ json: true }, sink, sink);
    out.record({ a: 1 }, "a is 1");
    out.text("hidden");
    out.info("hidden too");
    expect(chunks).toEqual(['{"a":1}\n']);
  });
});
