import { describe, expect, it, vi } from "vitest";
import { buildProgram, main } from "../../src/cli/main.js";
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

  it("exits 1 on a usage error, whichever command: commander's and deploy's own alike", async () => {
    // README: every command "exits non-zero on error with a one-line reason on stderr"; commander's usage errors
    // (an unknown option, a missing argument) exit 1, and so must a command's own (deploy without --plan/--apply).
    const codes: Record<string, number> = {};
    const lines: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      for (const args of [["deploy", "--bogus"], ["translate"], ["deploy"], ["deploy", "--plan", "--apply"]]) {
        codes[args.join(" ")] = await main(["node", "shmhunt", ...args]);
      }
    } finally {
      vi.restoreAllMocks();
    }
    expect(codes).toEqual({ "deploy --bogus": 1, translate: 1, deploy: 1, "deploy --plan --apply": 1 });
    expect(lines.filter((l) => l.includes("exactly one of --plan or --apply"))).toHaveLength(2);
  });
});
