/**
 * The progress bars of `deploy --apply` and of a catch-up `hunt` as a person at a terminal sees them (a real pty,
 * test/support/pty-run.ts, replayed on a screen model, test/support/vt-screen.ts), and their absence with --json or
 * when stderr is a pipe. The three runs of each command go at once (each its own process, emulator or data folder).
 */
import type { ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { collect, moduleProcess, shmhunt } from "../support/cli-process.js";
import { deployScript } from "../support/deploy-on-emulator.js";
import { shmExecutionNdjson } from "../support/hunt-fixtures.js";
import { runOnTerminal, runScriptOnTerminal } from "../support/pty-run.js";
import { tempDirs } from "../support/temp-dirs.js";
import { renderScreen, type Screen } from "../support/vt-screen.js";

const root = path.resolve(import.meta.dirname, "../..");
const temp = tempDirs("progress-deploy-hunt");

/** Nothing left of the bar, the cursor shown below the last line, lines wrapping: the terminal as it was. */
function expectClean(screen: Screen, label: string): void {
  expect(screen.rows.filter((r) => r.includes(`${label} |`))).toEqual([]);
  expect(screen.cursor).toEqual({ row: screen.rows.findLastIndex((r) => r !== "") + 1, col: 0 });
  expect(screen.cursorVisible).toBe(true);
  expect(screen.autowrap).toBe(true);
}

/** Bytes of a progress display: a carriage return or an escape sequence (plain lines have neither). */
const PROGRESS_BYTES = /[\r\x1b]/;

describe("deploy --apply: a bar over the plan's changes on a terminal, none with --json or a pipe", () => {
  it("on a terminal the bar counts the changes applied (done / total) and leaves every step's line whole; --json and a piped stderr write no progress byte", async () => {
    const rows = 24;
    const cols = 100;
    const [tty, json, pipe] = await Promise.all([
      runScriptOnTerminal(deployScript({ apply: true }), { rows, cols }),
      runScriptOnTerminal(deployScript({ apply: true, json: true }), { stdout: "pipe" }),
      finished(moduleProcess(deployScript({ apply: true }))),
    ]);

    expect(tty.code).toBe(0);
    const screen = renderScreen(tty.tty, rows, cols);
    const summary = screen.lines.find((l) => l.startsWith("applied for "));
    const total = Number(/: (\d+) create, 0 update, 0 unchanged, 0 delete/.exec(summary ?? "")?.[1]);
    expect(total).toBeGreaterThan(10);
    // The bar showed, from none done to all of them.
    expect(tty.tty).toContain(`applying |`);
    expect(tty.tty).toContain(`| 0/${total} changes |`);
    expect(tty.tty).toContain(`| ${total}/${total} changes |`);
    // Then every step on a line of its own, whole, and the summary last: nothing else on the screen.
    const written = screen.lines.filter((l) => l !== "");
    expect(written.filter((l) => /^create {4}\S+ +\S+ .*\[done\]$/.test(l))).toHaveLength(total);
    expect(written).toHaveLength(total + 1);
    expect(written.at(-1)).toBe(summary);
    expectClean(screen, "applying");

    // --json: JSON lines on stdout, and not one byte on the terminal (stderr).
    expect(json.code).toBe(0);
    expect(json.tty).toBe("");
    const records = json.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { status: string });
    expect(records).toHaveLength(total);
    expect(records.every((r) => r.status === "done")).toBe(true);

    // stderr a pipe: the summary alone, no bar.
    expect(pipe.code).toBe(0);
    expect(pipe.err).toBe(`${summary}\n`);
    expect(pipe.err).not.toMatch(PROGRESS_BYTES);
    expect(pipe.out.trimEnd().split("\n")).toHaveLength(total);
  }, 120_000);
});

/** The seed rules' three EQL rules (three hunt plans on defender), their generated queries, and `rows` events. */
function huntSetting(rows: number): Record<string, string> {
  const dir = temp();
  const rules = path.join(dir, "rules");
  const workspace = path.join(dir, "workspace");
  for (const folder of [rules, workspace]) mkdirSync(folder, { recursive: true });
  for (const name of ["shm-creation.toml", "shm-creation.yar", "shm-execution.toml", "shm-execution-upstream.toml"])
    copyFileSync(path.join(root, "rules", name), path.join(rules, name));
  // Root running a binary under /dev/shm/, each on a host of its own, in the last minutes: both execution rules'
  // windows hold them all.
  const start = Date.now() - 6 * 60_000;
  writeFileSync(path.join(workspace, "DeviceProcessEvents.ndjson"), shmExecutionNdjson(rows, start));
  return {
    SHMHUNT_DATA_DIR: path.join(dir, "data"),
    SHMHUNT_RULES_DIR: rules,
    SHMHUNT_KQL_DIR: path.join(root, "kql"),
    SHMHUNT_WORKSPACE_DIR: workspace,
    SHMHUNT_HUNT_TARGETS: "defender",
    SHMHUNT_TMP_DIR: path.join(dir, "tmp"),
  };
}

describe("a catch-up hunt: a bar over the runs on a terminal, none with --json or a pipe", () => {
  it("on a terminal the bar counts the runs (done / total) and the rows settled, then leaves every run's line whole; --json and a piped stderr write no progress byte", async () => {
    const rows = 24;
    const cols = 120;
    const events = 20;
    const [tty, json, pipe] = await Promise.all([
      runOnTerminal(["hunt", "--once", "--force"], { rows, cols, env: huntSetting(events) }),
      runOnTerminal(["hunt", "--once", "--force", "--json"], { stdout: "pipe", env: huntSetting(events) }),
      finished(shmhunt(["hunt", "--once", "--force"], huntSetting(events))),
    ]);

    expect(tty.code).toBe(0);
    // The bar showed: three runs (one per rule on defender, each over its window), from none to all, with the rows
    // the two execution rules' queries returned, all settled.
    expect(tty.tty).toContain("hunting |");
    expect(tty.tty).toContain("| 0/3 runs |");
    expect(tty.tty).toContain(`| 3/3 runs | ${2 * events}/${2 * events} rows settled |`);
    const screen = renderScreen(tty.tty, rows, cols);
    const written = screen.lines.filter((l) => l !== "");
    const runLines = written.filter((l) => /^\S+ defender: \d+ rows, .* over max_signals \(\S+ \.\. \S+\)$/.test(l));
    expect(runLines).toHaveLength(3);
    expect(runLines.filter((l) => l.includes(`: ${events} rows, ${events} new,`))).toHaveLength(2);
    expect(written).toEqual([...runLines, expect.stringMatching(/^pending hits: /)]);
    expectClean(screen, "hunting");

    // --json: one JSON line per run and the sweep on stdout, not one byte on the terminal.
    expect(json.code).toBe(0);
    expect(json.tty).toBe("");
    const types = json.stdout
      .trimEnd()
      .split("\n")
      .map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types).toEqual(["run", "run", "run", "sweep"]);

    // stderr a pipe: nothing on it.
    expect(pipe.code).toBe(0);
    expect(pipe.err).toBe("");
    expect(pipe.out).not.toMatch(PROGRESS_BYTES);
    expect(pipe.out.trimEnd().split("\n")).toHaveLength(4);
  }, 120_000);
});

/** A piped child's exit code and what it wrote, once it has exited. */
async function finished(child: ChildProcess): Promise<{ code: number | null; out: string; err: string }> {
  const io = collect(child);
  const code = await io.exit;
  return { code, out: io.out(), err: io.err() };
}
