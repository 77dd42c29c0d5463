/**
 * `npm run bench:translate`: the two figures users wait on, each beside its target, then the corpus report.
 *
 * 1. One rule from a cold process: `shmhunt translate rules/shm-execution.toml --target defender` (the built CLI,
 *    `npm run build` first), median of 3 runs. Target: under 1.5 s.
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
import { formatReport, tomlFilesUnder, translateCorpus } from "../src/kql/corpus-report.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const corpus = path.resolve(root, "../shared/corpus/elastic-rules-linux");
const cli = path.join(root, "bin/shmhunt.js");

execFileSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: "inherit" });

/** Wall-clock seconds of one `shmhunt` run in a fresh process. */
function timed(args: readonly string[]): number {
  const started = performance.now();
  execFileSync(process.execPath, [cli, ...args], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  return (performance.now() - started) / 1000;
}

const singles = [0, 1, 2].map(() => timed(["translate", "rules/shm-execution.toml", "--target", "defender"]));
const single = [...singles].sort((a, b) => a - b)[1] ?? Number.NaN;
const out = mkdtempSync(path.join(tmpdir(), "shmhunt-bench-translate-"));
let whole: number;
try {
  whole = timed(["translate", corpus, "--target", "defender", "--out", out]);
} finally {
  rmSync(out, { recursive: true, force: true });
}
const verdict = (met: boolean) => (met ? "met" : "NOT met");
console.log(
  [
    `one rule, cold process (median of ${singles.map((s) => s.toFixed(2)).join(", ")}): ${single.toFixed(2)} s   target < 1.5 s: ${verdict(single < 1.5)}`,
    `whole corpus, one target (defender), one command: ${whole.toFixed(2)} s   target < 30 s: ${verdict(whole < 30)}`,
    "",
  ].join("\n"),
);

if (!process.argv.includes("--figures-only")) {
  const files = [
    ...(await tomlFilesUnder(path.join(corpus, "rules_linux"))),
    ...(await tomlFilesUnder(path.join(corpus, "rules_building_block_linux"))),
  ];
  const report = await translateCorpus(files);
  console.log(formatReport(report, process.argv.includes("--all-reasons") ? Number.POSITIVE_INFINITY : 12));
  const invalid = report.tallies.reduce((n, t) => n + t.invalid, 0);
  if (invalid > 0) process.exitCode = 1;
}
