/**
 * `shmhunt rescan`: scans the stored samples again with the YARA rules in use now, a batch at a time, settling the
 * hits their verdicts decided (src/hunt/rescan.ts; docs/service.md). The hunt runs do it too, a batch each; this
 * command does it now. Settings from SHMHUNT_* as the service.
 */
import type { Command } from "commander";
import type { RescanReport } from "../../hunt/rescan.js";
import { CliError, cliLogger, createOutput, type Output } from "../output.js";

interface RescanOptions {
  limit?: string;
  all?: boolean;
  json?: boolean;
}

/** Batches `--all` runs at most: a pass that does not finish within them says so rather than looping on. */
const MAX_BATCHES = 10_000;

export function registerRescan(program: Command): void {
  program
    .command("rescan")
    .description("scan stored samples again with the YARA rules in use now, and settle the hits their verdicts decided")
    .option("--limit <n>", "samples scanned at most per batch, 1 to 1000 (default SHMHUNT_RESCAN_BATCH, or 100)")
    .option("--all", "run batches until the pass over the stored samples is complete")
    .option("--json", "one JSON report per batch (NDJSON)")
    .action(async (options: RescanOptions) => {
      const out = createOutput(options);
      const [{ loadConfig, parseWholeNumber }, { createServices }, { REQUEST_LIMITS }] = await Promise.all([
        import("../../app/config.js"),
        import("../../app/compose.js"),
        import("../../app/requests.js"),
      ]);
      // The same bound as POST /hunt/rescan's `limit` (one owner): a batch must end in reasonable time.
      const most = REQUEST_LIMITS.rescanLimit;
      const limit = options.limit === undefined ? undefined : (parseWholeNumber(options.limit) ?? 0);
      if (limit !== undefined && (limit < 1 || limit > most))
        throw new CliError(`--limit must be a whole number from 1 to ${most}, not ${JSON.stringify(options.limit)}`);
      const services = await createServices(loadConfig(process.env), { logger: cliLogger() });
      try {
        for (let batch = 1; ; batch++) {
          const report = await services.hunt.rescan(limit !== undefined ? { limit } : {});
          print(out, report);
          if (report.status === "busy") throw new CliError("another rescan holds the lease; try again later");
          if (!options.all || report.status !== "in-progress") break;
          if (batch >= MAX_BATCHES) throw new CliError(`the pass is not complete after ${MAX_BATCHES} batches`);
        }
      } finally {
        await services.close();
      }
    });
}

function print(out: Output, r: RescanReport): void {
  const text =
    r.status === "up-to-date"
      ? `rescan: every stored verdict is of the rules in use (rule set ${r.ruleset.slice(0, 12)})`
      : `rescan (rule set ${r.ruleset.slice(0, 12)}, pass ${r.pass}): ${r.status}; ${r.examined} verdicts read, ${r.rescanned} samples scanned again, ${r.changed} changed, ${r.missing} no longer stored, ${r.failed} failed; hits: ${r.alerted} alerted, ${r.noted} incidents commented, ${r.benign} benign${r.failures.map((f) => `\n  scan failed: ${f.sha256}: ${f.reason}`).join("")}`;
  out.record({ type: "rescan", ...r }, text);
}
