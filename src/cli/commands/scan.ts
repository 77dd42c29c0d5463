import type { Command } from "commander";
import { readDuration, SCAN_TIMEOUT_BOUNDS } from "../../app/setting-duration.js";
import { countSamples, createScanner, defaultRulesDir, SCAN_POOL_LIMITS, type Verdict } from "../../yara/index.js";
import { CliError, coalescing, createOutput, type Output, watchedSink } from "../output.js";
import { clearingLine, type Progress, startProgress } from "../progress.js";

interface ScanOptions {
  rules?: string[];
  json?: boolean;
  failOnMatch?: boolean;
  maxSize?: number;
  timeout?: number;
  workers?: number;
  hash?: boolean;
}

/**
 * Without the bar (stderr not a terminal, or --json) a scan writes no progress as it goes: only, at the end of a
 * scan of more files than this, one summary line on stderr (not with --json).
 */
const SUMMARY_ABOVE_FILES = 500;

export function registerScan(program: Command): void {
  program
    .command("scan")
    .description("scan files and directories (recursively) with the YARA rules; one verdict per file")
    .argument("<paths...>", "files or directories to scan")
    .option("--rules <file|dir>", "YARA rule file or directory (repeatable; default: rules/*.yar)", collect)
    .option("--json", "one JSON verdict per line (NDJSON)")
    .option("--fail-on-match", "exit 1 when any file matched")
    .option("--max-size <bytes>", "skip samples larger than this (K, M, G suffixes; default 1G)", parseSize)
    .option(
      "--timeout <duration>",
      "per-sample scan timeout in whole seconds (YARA-X's unit), as SHMHUNT_SCAN_TIMEOUT takes it (30s, 5m, 1h) or in milliseconds that make whole seconds (30000); default SHMHUNT_SCAN_TIMEOUT, or 60s; at least 1s, at most 24d",
      parseTimeout,
    )
    .option(
      "--workers <n>",
      `scan worker processes, at most ${SCAN_POOL_LIMITS.maxWorkers} (default: available CPUs)`,
      parsePositiveInt,
    )
    .option("--hash", "SHA-256 of every file (inventories); by default only matching files are hashed")
    .action(async (paths: string[], options: ScanOptions) => {
      const timeoutMs = options.timeout ?? settingTimeout(process.env);
      const scanner = await createScanner({
        rules: options.rules ?? [defaultRulesDir()],
        ...(options.maxSize !== undefined ? { maxSampleSize: options.maxSize } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        ...(options.workers !== undefined ? { workers: options.workers } : {}),
        sha256: options.hash ? "always" : "on-match",
        // A one-shot run: workers start while the rules compile here (no event loop to keep free meanwhile).
        startWorkersNow: true,
        compileOnThisThread: true,
        // … and reads the files here when the rules have an exact prefilter: only candidates reach a worker.
        prefilterOnThisThread: true,
        // … and takes the compiled rules from the user's private cache when the same rules compiled before.
        cacheCompiledRules: true,
      });
      // On a terminal, a progress bar on stderr (done / total, rate, time left); verdict lines written to the same
      // terminal first clear the bar's line, and the bar redraws below them.
      const bar = progressBar(paths, options.json);
      // A reader that goes away (`| head`) stops the scan: its verdicts would have nowhere to go.
      const stdout = watchedSink(process.stdout, "the scan");
      const batched = bar && process.stdout.isTTY ? undefined : coalescing(stdout);
      const out = createOutput(options, batched ?? clearingLine(process.stdout));
      const tally = { match: 0, "no-match": 0, skipped: 0, error: 0, bytes: 0 };
      let firstError: Verdict | undefined;
      try {
        let seen = 0;
        for await (const verdict of scanner.scanPaths(paths)) {
          if (stdout.failure) break;
          tally[verdict.verdict]++;
          tally.bytes += verdict.verdict === "skipped" ? 0 : verdict.size;
          if (verdict.verdict === "error") firstError ??= verdict;
          out.record(verdict, out.json ? undefined : describe(verdict));
          seen++;
          bar?.tick(1, { mb: (tally.bytes / 1e6).toFixed(0), matched: tally.match });
        }
        if (!bar && seen > SUMMARY_ABOVE_FILES) summary(out, seen, tally);
      } finally {
        batched?.close();
        bar?.stop();
        await scanner.close();
        stdout.release();
      }
      if (stdout.failure) throw new CliError(`${stdout.failure}; scan stopped`, 1);
      if (firstError) {
        throw new CliError(
          `${tally.error} file(s) could not be scanned; first: ${firstError.path ?? "?"}: ${firstError.error?.message ?? "error"}`,
          2,
        );
      }
      if (options.failOnMatch && tally.match > 0)
        throw new CliError(`${tally.match} file(s) matched (--fail-on-match)`, 1);
    });
}

function progressBar(paths: readonly string[], json: boolean | undefined): Progress | undefined {
  const bar = startProgress(json, {
    label: "scanning",
    unit: "files",
    detail: "{mb} MB, {matched} matched",
    payload: { mb: "0", matched: 0 },
  });
  // The total comes from a second walk (names only, nothing opened) that runs beside the scan.
  if (bar) {
    countSamples(paths).then(
      (total) => bar.setTotal(total),
      () => {},
    );
  }
  return bar;
}

function describe(v: Verdict): string {
  const where = v.path ?? "(sample)";
  switch (v.verdict) {
    case "match":
      return `match     ${where}  ${v.matches.map((m) => m.rule).join(",")}  sha256=${v.sha256}`;
    case "no-match":
      return `no-match  ${where}`;
    default:
      return `${v.verdict.padEnd(9)} ${where}: ${v.error?.message ?? ""}`;
  }
}

function summary(out: Output, seen: number, t: { match: number; skipped: number; error: number; bytes: number }): void {
  const mb = (t.bytes / 1e6).toFixed(0);
  out.info(`scanned ${seen} files (${mb} MB): ${t.match} matched, ${t.skipped} skipped, ${t.error} errors`);
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function parseSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?$/i.exec(value.trim());
  if (!m) throw new CliError(`--max-size: not a size: '${value}' (e.g. 1048576, 512M, 1G)`);
  const unit = (m[2] ?? "").toLowerCase()[0];
  const factor = unit === "k" ? 1024 : unit === "m" ? 1024 ** 2 : unit === "g" ? 1024 ** 3 : 1;
  return Math.floor(Number(m[1]) * factor);
}

/** What SHMHUNT_SCAN_TIMEOUT takes, read by the settings' own reader within its bounds; or whole milliseconds. */
function parseTimeout(value: string): number {
  const read = readDuration(value.trim(), { ...SCAN_TIMEOUT_BOUNDS, bareMilliseconds: true });
  if ("problem" in read) throw new CliError(`--timeout: ${read.problem}`);
  return read.ms;
}

/**
 * SHMHUNT_SCAN_TIMEOUT, which --timeout stands for, when the option is not given: read as the configuration reads it
 * (without loading the rest of it, which a scan does not use); unset: undefined, the scanner's default (60s).
 */
function settingTimeout(env: NodeJS.ProcessEnv): number | undefined {
  const value = env.SHMHUNT_SCAN_TIMEOUT?.trim();
  if (value === undefined || value === "") return undefined;
  const read = readDuration(value, SCAN_TIMEOUT_BOUNDS);
  if ("problem" in read) throw new CliError(`SHMHUNT_SCAN_TIMEOUT: ${read.problem}`);
  return read.ms;
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--workers: not a positive integer: '${value}'`);
  if (n > SCAN_POOL_LIMITS.maxWorkers)
    throw new CliError(`--workers: at most ${SCAN_POOL_LIMITS.maxWorkers}, not '${value}'`);
  return n;
}
