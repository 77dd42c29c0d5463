/**
 * Runs a Node process for a benchmark and measures it: wall-clock seconds (what the targets are about) and the
 * CPU seconds the process used (user + system, reported by the process itself at exit, with those of the child
 * processes it waited for: `shmhunt translate` runs in a child started from the Kusto.Language snapshot), so a
 * figure taken on a busy shared machine can be read beside the load average printed with it.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface Timed {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly stdout: string;
}

const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-bench-cpu-"));
const preload = path.join(dir, "cpu.cjs");
const report = path.join(dir, "cpu.txt");
// Children's CPU: fields 16 and 17 (cutime, cstime) of /proc/self/stat, in clock ticks (100 per second on Linux).
writeFileSync(
  preload,
  `process.on("exit", () => {
  const fs = require("node:fs");
  const u = process.cpuUsage();
  let children = 0;
  try {
    const f = fs.readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
    children = (Number(f[13]) + Number(f[14])) / 100;
  } catch {}
  fs.writeFileSync(${JSON.stringify(report)}, String((u.user + u.system) / 1e6 + children));
});\n`,
);
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

export function timedNode(args: readonly string[], cwd: string, stdout: "ignore" | "pipe" = "ignore"): Timed {
  const started = performance.now();
  const out = execFileSync(process.execPath, ["--require", preload, ...args], {
    cwd,
    stdio: ["ignore", stdout, "inherit"],
    maxBuffer: 1 << 28,
  });
  const seconds = (performance.now() - started) / 1000;
  return { seconds, cpuSeconds: Number(readFileSync(report, "utf8")), stdout: out ? out.toString() : "" };
}
