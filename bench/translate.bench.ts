/**
 * `npm run bench:translate`: translates every EQL rule of Elastic's Linux rules (../shared/corpus/
 * elastic-rules-linux: rules_linux and rules_building_block_linux) for each target, checks each query with
 * Kusto.Language, and prints valid / refused (by reason) / invalid per target and the time taken.
 *
 *   npm run bench:translate [-- --all-reasons]
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { formatReport, tomlFilesUnder, translateCorpus } from "../src/kql/corpus-report.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const corpus = path.resolve(root, "../shared/corpus/elastic-rules-linux");
const files = [
  ...(await tomlFilesUnder(path.join(corpus, "rules_linux"))),
  ...(await tomlFilesUnder(path.join(corpus, "rules_building_block_linux"))),
];
const report = await translateCorpus(files);
console.log(formatReport(report, process.argv.includes("--all-reasons") ? Number.POSITIVE_INFINITY : 12));
const invalid = report.tallies.reduce((n, t) => n + t.invalid, 0);
if (invalid > 0) process.exitCode = 1;
