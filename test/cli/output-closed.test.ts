/**
 * `shmhunt <command> --json | head -1`: the reader of stdout goes away while the command still writes. README: every
 * command "exits non-zero on error with a one-line reason on stderr"; it was a Node stack trace ("Unhandled 'error'
 * event … EPIPE") for every command but `scan`, and `hunt --once` died in the middle of its run.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { shmhunt } from "../support/cli-process.js";
import { tempDirs } from "../support/temp-dirs.js";

const temp = tempDirs("output-closed");

/** Runs `shmhunt args`, closes its stdout after the first chunk, and gives its stderr and exit code. */
async function closedAfterFirstChunk(args: readonly string[]): Promise<{ err: string; code: number | null }> {
  const child = shmhunt(args, {});
  let err = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.once("exit", resolve));
  await new Promise((resolve) => child.stdout?.once("data", resolve));
  child.stdout?.destroy();
  const stop = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const code = await exit;
  clearTimeout(stop);
  return { err, code };
}

describe("a command whose output is closed before it ends", () => {
  // ~2 MB of output: far more than a pipe holds, so the command is still writing when the reader leaves.
  const rows = Array.from({ length: 20_000 }, (_, i) =>
    JSON.stringify({ "@timestamp": "2026-01-01T00:00:00Z", event: { category: "process" }, pad: "x".repeat(80), i }),
  ).join("\n");

  it("kql --json (NDJSON written in chunks, waiting for the pipe to drain): one line on stderr, exit 1", async () => {
    const ws = temp();
    writeFileSync(path.join(ws, "T.ndjson"), rows);
    const { err, code } = await closedAfterFirstChunk(["kql", "T", "--workspace", ws, "--json"]);
    expect(err).not.toMatch(/Unhandled|\n\s+at /);
    expect(err).toBe("shmhunt: the output was closed before the command ended (EPIPE)\n");
    expect(code).toBe(1);
  }, 60_000);

  it("eql (one write per record): one line on stderr, exit 1", async () => {
    const file = path.join(temp(), "events.ndjson");
    writeFileSync(file, rows);
    const { err, code } = await closedAfterFirstChunk(["eql", "process where true", "--events", file, "--json"]);
    expect(err).not.toMatch(/Unhandled|\n\s+at /);
    expect(err).toBe("shmhunt: the output was closed before the command ended (EPIPE)\n");
    expect(code).toBe(1);
  }, 60_000);
});
