/**
 * `npm run bench:translate`: the two figures users wait on, each beside its target, then the corpus report.
 *
 * 1. One rule from a cold process: `shmhunt translate rules/shm-execution.toml --target defender` (the built CLI,
 *    `npm run build` first, and its Kusto.Language startup snapshot as `npm install` builds it), median of 3 runs.
 *    Target: under 1.5 s. The CPU seconds include the child process the CLI starts from the snapshot.
 * 2. Elastic's Linux rules (../shared/corpus/elastic-rules-linux: rules_linux and rules_building_block_linux) for
 *    one target in one command: `shmhunt translate <corpus> --target defender --out <tmp>`. Target: under 30 s.
 * 3. The corpus report: every EQL rule × every target, checked with Kusto.Language: valid / refused (by reason) /
 *    invalid per target, and the time taken (in this process).
 *
 *   npm run bench:translate [-- --all-reasons] [-- --figures-only]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { formatReport, translateCorpus } from "../src/kql/corpus-report.js";
import { ruleFilesUnder } from "../src/rules/loader.js";
import { machineLoad } from "./machine-load.js";
import { type Timed, timedNode } from "./timed-process.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const corpus = path.resolve(root, "../shared/corpus/elastic-rules-linux");
const cli = path.join(root, "bin/shmhunt.js");

execFileSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: "inherit" });
// The Kusto.Language startup snapshot the CLI starts from, as `npm install` builds it (`prepare`); kept when current.
execFileSync(
  process.execPath,
  ["--input-type=module", "-e", `(await import("./dist/src/cli/launch.js")).buildCliSnapshot()`],
  { cwd: root, stdio: "inherit" },
);

const singles = [0, 1, 2].map(() =>
  timedNode([cli, "translate", "rules/shm-execution.toml", "--target", "defender"], root),
);
const single = [...singles].sort((a, b) => a.seconds - b.seconds)[1] ?? singles[0];
// For comparison, one run without the snapshot (what a read-only install or a first run does).
process.env.SHMHUNT_SNAPSHOT = "0";
const unsnapped = timedNode([cli, "translate", "rules/shm-execution.toml", "--target", "defender"], root);
delete process.env.SHMHUNT_SNAPSHOT;
const out = mkdtempSync(path.join(tmpdir(), "shmhunt-bench-translate-"));
let whole: Timed;
try {
  whole = timedNode([cli, "translate", corpus, "--target", "defender", "--out", out], root);
} finally {
  rmSync(out, { recursive: true, force: true });
}
const verdict = (met: boolean) => (met ? "met" : "NOT met");
if (!single) throw new Error("no run");
console.log(
  [
    `one rule, cold process (median of ${singles.map((s) => s.seconds.toFixed(2)).join(", ")}): ${single.seconds.toFixed(2)} s   target < 1.5 s: ${verdict(single.seconds < 1.5)}   (CPU ${single.cpuSeconds.toFixed(2)} s)`,
    `one rule without the startup snapshot (SHMHUNT_SNAPSHOT=0): ${unsnapped.seconds.toFixed(2)} s   (CPU ${unsnapped.cpuSeconds.toFixed(2)} s)`,
    `whole corpus, one target (defender), one command: ${whole.seconds.toFixed(2)} s   target < 30 s: ${verdict(whole.seconds < 30)}   (CPU ${whole.cpuSeconds.toFixed(2)} s)`,
    `(${machineLoad()})`,
    "",
  ].join("\n"),
);

if (!process.argv.includes("--figures-only")) {
  const files = [
    ...(await ruleFilesUnder(path.join(corpus, "rules_linux"))),
    ...(await ruleFilesUnder(path.join(corpus, "rules_building_block_linux"))),
  ];
  const report = await translateCorpus(files);
  console.log(formatReport(report, process.argv.includes("--all-reasons") ? Number.POSITIVE_INFINITY : 12));
  const invalid = report.tallies.reduce((n, t) => n + t.invalid, 0);
  if (invalid > 0) process.exitCode = 1;
}
