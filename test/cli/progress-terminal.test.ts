/**
 * The progress bar as a person at a terminal sees it: the CLI runs under a real pty (python3's pty module,
 * test/support/pty-run.ts) and the bytes it wrote are replayed on a model of the screen (test/support/vt-screen.ts).
 */
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runOnTerminal } from "../support/pty-run.js";
import { tempDirs } from "../support/temp-dirs.js";
import { renderScreen } from "../support/vt-screen.js";

const root = path.resolve(import.meta.dirname, "../..");
const temp = tempDirs("progress-tty");

describe("progress on a terminal", () => {
  let tree: string;
  let files: string[];
  let many: string;
  beforeAll(() => {
    // Enough verdicts to scroll a 12-row screen many times, one of them longer than the screen is wide.
    tree = temp();
    const deep = path.join(tree, "a-folder-with-a-rather-long-name", "and-another-one-below-it");
    mkdirSync(deep, { recursive: true });
    files = [];
    for (let i = 0; i < 40; i++) {
      const file = path.join(i === 7 ? deep : tree, `sample-${String(i).padStart(2, "0")}.bin`);
      writeFileSync(file, `not an elf ${i}\n`);
      files.push(file);
    }
    // A scan that runs long enough to be interrupted: the same 2000 files, named 40 times (80,000 scans). Named 8
    // times, 16,000 scans come to about 0.3 s at the rate scan-review measured (40,000 small files in 0.7 s): on a
    // fast machine, close to the 0.2 s the interrupt waits once the bar shows. Interrupted, the rest costs nothing.
    many = temp();
    for (let i = 0; i < 2000; i++) writeFileSync(path.join(many, `f${i}`), "x".repeat(256));
  });

  it("scan with stdout and stderr on one terminal: every verdict stays whole and readable, the bar leaves nothing behind", async () => {
    const rows = 12;
    const cols = 60;
    const run = await runOnTerminal(["scan", tree], { rows, cols });
    expect(run.code).toBe(0);
    const screen = renderScreen(run.tty, rows, cols);
    // Each verdict on a line of its own, whole (the long one wrapped, not cut at the right edge).
    for (const file of files) expect(screen.lines).toContain(`no-match  ${file}`);
    // The bar is gone from the screen, the last verdict is the last line, and the cursor sits below it.
    expect(screen.rows.filter((r) => r.includes("scanning |"))).toEqual([]);
    expect(screen.lines.findLast((l) => l !== "")).toMatch(/^no-match {2}\//);
    expect(screen.cursor).toEqual({ row: screen.rows.findLastIndex((r) => r !== "") + 1, col: 0 });
    expect(screen.cursorVisible).toBe(true);
    expect(screen.autowrap).toBe(true);
  });

  it("Ctrl-C during a scan with the bar showing leaves the terminal as it was (cursor shown, lines wrapping)", async () => {
    const rows = 24;
    const cols = 80;
    const run = await runOnTerminal(["scan", ...Array.from({ length: 40 }, () => many)], {
      rows,
      cols,
      interruptOn: "scanning |",
      interruptDelay: 0.2,
    });
    expect(run.interrupted).toBe(true);
    // Ended by the signal (as the shell reports it: 130), not by finishing the scan.
    expect(run.code).toBe(-2);
    const screen = renderScreen(run.tty, rows, cols);
    expect(screen.cursorVisible).toBe(true);
    expect(screen.autowrap).toBe(true);
  });

  it("scan --json on a terminal writes JSON lines only, no progress", async () => {
    const run = await runOnTerminal(["scan", "--json", tree], { stdout: "pipe" });
    expect(run.code).toBe(0);
    expect(run.tty).toBe("");
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines.map((l) => (JSON.parse(l) as { path: string }).path).sort()).toEqual([...files].sort());
  });

  it("translate over a folder: a rule file that fails is reported on a line of its own, readable, and the bar leaves nothing behind", async () => {
    const rules = temp();
    for (const name of readdirSync(path.join(root, "rules"))) {
      if (/\.(toml|yar)$/.test(name)) copyFileSync(path.join(root, "rules", name), path.join(rules, name));
    }
    const broken = path.join(rules, "aaa-broken.toml");
    writeFileSync(broken, "[metadata]\n[rule\nname = broken\n");
    const rows = 24;
    const cols = 100;
    const out = temp();
    const run = await runOnTerminal(["translate", rules, "--target", "defender", "--out", out], { rows, cols });
    expect(run.code).toBe(1);
    const screen = renderScreen(run.tty, rows, cols);
    const reason = screen.lines.filter((l) => l.includes("aaa-broken.toml:"));
    // Once where it happened, once in the one-line reason at the end; both whole, from the start of their line.
    expect(reason).toHaveLength(2);
    expect(reason[0]).toMatch(
      new RegExp(`^${broken.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: error RULE\\d+`),
    );
    expect(reason[1]).toMatch(/^shmhunt: 1 failed; first: .*aaa-broken\.toml:\d+:\d+: error RULE\d+/);
    expect(screen.lines).toContain(
      `4 rule files: 3 translated, 0 refused, 1 failed (rule × target); wrote 3 .kql files to ${out}`,
    );
    expect(screen.rows.filter((r) => r.includes("translating |"))).toEqual([]);
    expect(screen.cursorVisible).toBe(true);
    expect(screen.autowrap).toBe(true);
  });
});
