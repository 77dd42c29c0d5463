/**
 * `shmhunt hits`: the hunt's hits and, for each whose sample the sample broker asked for, where that acquisition
 * stands (requested, queued with the machine action's status, retrieved, failed with the API's reason, skipped with
 * why). Settings from SHMHUNT_* as the service (docs/service.md).
 */
import type { Command } from "commander";
import type { HitView } from "../../app/services.js";
import { HIT_STATUSES, type HitStatus } from "../../hunt/types.js";
import { CliError, createOutput } from "../output.js";

interface HitsOptions {
  status?: string;
  rule?: string;
  json?: boolean;
}

export function registerHits(program: Command): void {
  program
    .command("hits")
    .description("list the hunt's hits, with where each pending sample's acquisition stands")
    .option("--status <status>", `only hits in this status (${HIT_STATUSES.join(", ")})`)
    .option("--rule <id>", "only this rule")
    .option("--json", "one JSON record per hit (NDJSON)")
    .action(async (options: HitsOptions) => {
      const out = createOutput(options);
      if (options.status !== undefined && !(HIT_STATUSES as readonly string[]).includes(options.status))
        throw new CliError(`--status must be one of ${HIT_STATUSES.join(", ")}, not ${JSON.stringify(options.status)}`);
      const [{ loadConfig }, { createServices }] = await Promise.all([
        import("../../app/config.js"),
        import("../../app/compose.js"),
      ]);
      const services = await createServices(loadConfig(process.env));
      try {
        const hits = await services.hunt.hits({
          ...(options.status ? { status: options.status as HitStatus } : {}),
          ...(options.rule ? { ruleId: options.rule } : {}),
        });
        for (const hit of hits) out.record({ type: "hit", ...hit }, hitLine(hit));
      } finally {
        await services.close();
      }
    });
}

/** One line per hit: status, rule/target, event time, the sample, and its acquisition. */
export function hitLine(hit: HitView): string {
  const sample = hit.sha256 ?? hit.locator ?? "(no sample)";
  return `${hit.status} ${hit.ruleId}/${hit.target} ${hit.eventTime} ${sample}${hit.acquisition ? `: ${acquisitionText(hit.acquisition)}` : ""}`;
}

/** Where an acquisition stands, in words. */
export function acquisitionText(a: NonNullable<HitView["acquisition"]>): string {
  const where = a.names.host && a.names.path ? ` ${a.names.host}:${a.names.path}` : "";
  switch (a.status) {
    case "requested":
      return `sample requested${where} (no live response session yet${a.lastError ? `; last error: ${a.lastError}` : ""})`;
    case "queued":
      return `sample queued${where} (machine action ${a.actionId ?? "?"} ${a.actionStatus ?? "Pending"}${a.lastError ? `; last error: ${a.lastError}` : ""})`;
    case "retrieved":
      return `sample retrieved${where} (${a.sha256 ?? "?"}, ${a.bytes ?? "?"} bytes)`;
    case "failed":
      return `sample fetch failed${where}: ${a.reason ?? a.lastError ?? "no reason given"}`;
    case "skipped":
      return `sample skipped${where}: ${a.reason ?? "no reason given"}`;
  }
}
