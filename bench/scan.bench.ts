/**
 * `npm run bench:scan`: shmhunt's scanner against Debian's `yara` CLI over the same corpus (≥ 1 GiB) and rules.
 * Prints MB/s, files/s, matches and peak RSS for each, and the throughput ratio. Not part of `npm test`.
 *
 *   npm run bench:scan [-- --size-gib 1.5 --keep]
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createScanner, defaultRulesDir, resolveYaraPaths } from "../src/yara/index.js";
import { buildCorpus, type Corpus } from "./scan/corpus.js";

interface Run {
  readonly tool: string;
  readonly seconds: number;
  readonly files: number;
  readonly bytes: number;
  readonly matches: number;
  readonly peakRssMiB: number;
  readonly note?: string;
}

const args = process.argv.slice(2);
const sizeGiB = Number(args[args.indexOf("--size-gib") + 1] ?? "") || 1.25;
const keep = args.includes("--keep");
const rounds = 2;
const workers = os.availableParallelism();
const rulesDir = defaultRulesDir();
const ruleFiles = resolveYaraPaths([rulesDir]);

async function main(): Promise<void> {
  const dir = path.join(os.tmpdir(), "shmhunt-bench-scan");
  console.log(`building corpus (≥ ${sizeGiB} GiB) in ${dir} …`);
  const corpus = await buildCorpus(dir, sizeGiB * 1024 ** 3);
  for (const [part, p] of Object.entries(corpus.parts)) {
    console.log(
      `  ${part.padEnd(14)} ${String(p.files).padStart(6)} files ${(p.bytes / 1e6).toFixed(0).padStart(7)} MB`,
    );
  }
  console.log(
    `  ${"total".padEnd(14)} ${String(corpus.files).padStart(6)} files ${(corpus.bytes / 1e6).toFixed(0).padStart(7)} MB`,
  );
  console.log(`rules: ${ruleFiles.join(", ")}; ${workers} CPUs; best of ${rounds} rounds, warm page cache\n`);
  warmCache(corpus);

  const haveYara = spawnSync("yara", ["--version"]).status === 0;
  const best = new Map<string, Run>();
  const keepBest = (run: Run) => {
    const previous = best.get(run.tool);
    if (!previous || run.seconds < previous.seconds) best.set(run.tool, run);
  };
  for (let round = 0; round < rounds; round++) {
    keepBest(await runShmhunt(corpus, "always"));
    keepBest(await runShmhunt(corpus, "on-match"));
    if (haveYara) keepBest(await runYara(corpus));
  }
  const runs = [...best.values()];
  print(runs);
  const yara = best.get("yara CLI");
  if (!haveYara || !yara) {
    console.log("\nDebian's yara CLI is not installed (apt-get install -y yara): no comparison this run.");
    return finish(dir);
  }
  console.log("");
  for (const run of runs.filter((r) => r !== yara)) {
    console.log(`ratio ${run.tool} / yara CLI (MB/s): ${(mbps(run) / mbps(yara)).toFixed(2)}x  (target ≥ 3x)`);
  }
  for (const run of runs) {
    if (run.matches !== corpus.expectedMatches) {
      console.log(`WARNING: ${run.tool} reported ${run.matches} matches, expected ${corpus.expectedMatches}`);
    }
  }
  await finish(dir);
}

async function finish(dir: string): Promise<void> {
  if (!keep) await rm(dir, { recursive: true, force: true });
}

async function runShmhunt(corpus: Corpus, sha256: "always" | "on-match"): Promise<Run> {
  const boot = performance.now();
  const scanner = await createScanner({ rules: [rulesDir], workers, sha256 });
  await scanner.warmUp();
  const startupMs = performance.now() - boot;
  const started = performance.now();
  let files = 0;
  let bytes = 0;
  let matches = 0;
  let errors = 0;
  let workerPeakKiB = 0;
  const sampler = setInterval(() => {
    workerPeakKiB = Math.max(workerPeakKiB, sumRssKiB(scanner.workerPids()));
  }, 50);
  for await (const verdict of scanner.scanPaths([corpus.dir])) {
    files++;
    bytes += verdict.size;
    if (verdict.verdict === "match") matches++;
    if (verdict.verdict === "error" || verdict.verdict === "skipped") errors++;
  }
  const workerHwmKiB = sumHwmKiB(scanner.workerPids());
  clearInterval(sampler);
  await scanner.close();
  const seconds = (performance.now() - started) / 1000;
  const parentMiB = process.resourceUsage().maxRSS / 1024;
  const workersMiB = Math.max(workerPeakKiB, workerHwmKiB) / 1024;
  return {
    tool: sha256 === "always" ? "shmhunt" : "shmhunt*",
    seconds,
    files,
    bytes,
    matches,
    peakRssMiB: parentMiB + workersMiB,
    note: `parent ${parentMiB.toFixed(0)} MiB + ${workers} workers ${workersMiB.toFixed(0)} MiB; pool start ${startupMs.toFixed(0)} ms (not timed)${errors ? `; ${errors} not scanned` : ""}; ${sha256 === "always" ? "SHA-256 of every file" : "* SHA-256 of matching files only"}`,
  };
}

function runYara(corpus: Corpus): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // -r recursive, -p threads (same parallelism as shmhunt's pool), -N do not follow symlinks.
    const child = spawn(
      "/usr/bin/time",
      ["-f", "%M", "yara", "-r", "-N", "-p", String(workers), ...ruleFiles, corpus.dir],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      out += c;
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      err += c;
    });
    child.on("error", reject);
    child.on("close", () => {
      const seconds = (performance.now() - started) / 1000;
      const maxKiB = Number(err.trim().split("\n").at(-1));
      resolve({
        tool: "yara CLI",
        seconds,
        files: corpus.files,
        bytes: corpus.bytes,
        matches: out.split("\n").filter((l) => l.trim() !== "").length,
        peakRssMiB: Number.isFinite(maxKiB) ? maxKiB / 1024 : Number.NaN,
        note: `yara ${spawnSync("yara", ["--version"]).stdout.toString().trim()}, -p ${workers}`,
      });
    });
  });
}

function warmCache(corpus: Corpus): void {
  spawnSync("sh", ["-c", `find '${corpus.dir}' -type f -exec cat {} + > /dev/null`]);
}

function sumRssKiB(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + statusKiB(pid, "VmRSS"), 0);
}

function sumHwmKiB(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + statusKiB(pid, "VmHWM"), 0);
}

function statusKiB(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function mbps(run: Run): number {
  return run.bytes / 1e6 / run.seconds;
}

function print(runs: readonly Run[]): void {
  console.log("tool       files      MB   seconds    MB/s   files/s  matches  peak RSS MiB  notes");
  for (const r of runs) {
    console.log(
      [
        r.tool.padEnd(9),
        String(r.files).padStart(6),
        (r.bytes / 1e6).toFixed(0).padStart(7),
        r.seconds.toFixed(2).padStart(9),
        mbps(r).toFixed(0).padStart(7),
        (r.files / r.seconds).toFixed(0).padStart(9),
        String(r.matches).padStart(8),
        r.peakRssMiB.toFixed(0).padStart(13),
        ` ${r.note ?? ""}`,
      ].join(" "),
    );
  }
}

await main();
