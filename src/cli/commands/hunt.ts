import type { Command } from "commander";
import type { HuntProgress } from "../../app/services.js";
import type { BrokerReport } from "../../broker/index.js";
import type { HuntRunReport } from "../../hunt/run.js";
import { CliError, cliLogger, createOutput, type Output, stdoutSink } from "../output.js";
import { besideProgress, type Progress, showsProgress, startProgress } from "../progress.js";

interface HuntOptions {
  once?: boolean;
  force?: boolean;
  rule?: string;
  json?: boolean;
}

export function registerHunt(program: Command): void {
  program
    .command("hunt")
    .description(
      "run the hunts: on their schedule until stopped, or once with --once; settings from SHMHUNT_* (docs/service.md)",
    )
    .option("--once", "run the due hunts once, settle pending hits, and exit (1 when a hunt failed)")
    .option("--force", "run every hunt now, due or not")
    .option("--rule <id>", "only this rule")
    .option("--json", "one JSON report per run (NDJSON)")
    .action(async (options: HuntOptions) => {
      // A run on a terminal shows a bar (stderr); a line written while it shows goes over its line.
      const out = createOutput(
        options,
        besideProgress(options.json, process.stdout, stdoutSink()),
        besideProgress(options.json, process.stderr),
      );
      const [{ loadConfig }, { createServices }] = await Promise.all([
        import("../../app/config.js"),
        import("../../app/compose.js"),
      ]);
      // The rules folder is the hunt's input: missing (./rules, the default, where there is none) the hunt would run
      // nothing and exit 0, and a CI job or a cron line would take that for a hunt done. It is required here, not
      // by every command: `serve` translates the EQL sent to it, stores and lists samples, hits and incidents
      // without rules (its schedule warns that it hunts nothing), and `hits` only reads the state.
      const config = loadConfig(process.env, process.cwd(), {}, { rules: true });
      // The hunt's warnings (a rule not hunted, a window clamped) on stderr; its errors are in the report.
      const services = await createServices(config, { logger: cliLogger(process.stderr, { errors: false }) });
      const runOnce = async () => {
        const bar = runsBar(options.json);
        let report: Awaited<ReturnType<typeof services.hunt.run>>;
        try {
          report = await services.hunt.run(
            {
              ...(options.force ? { force: true } : {}),
              ...(options.rule ? { ruleId: options.rule } : {}),
            },
            bar?.progress,
          );
        } finally {
          bar?.stop();
        }
        print(out, report);
        return report;
      };
      try {
        if (options.once) {
          const report = await runOnce();
          const failed = report.runs.filter((r) => r.status === "failed");
          if (failed.length > 0) {
            throw new CliError(
              `${failed.length} hunt(s) failed: ${failed.map((r) => `${r.ruleId}/${r.target}: ${r.error}`).join("; ")}`,
            );
          }
          return;
        }
        const { startSchedule } = await import("../../app/scheduler.js");
        const schedule = startSchedule(
          config.huntTickMs || 60_000,
          runOnce,
          (error) => out.info(`hunt failed: ${error instanceof Error ? error.message : String(error)}`),
          { keepAlive: true },
        );
        await new Promise<void>((resolve) => {
          process.once("SIGINT", resolve);
          process.once("SIGTERM", resolve);
        });
        await schedule.stop();
      } finally {
        await services.close();
      }
    });
}

/**
 * The bar of a hunt run on a terminal (undefined with --json or when stderr is not one): done / total = the runs (one
 * per rule and target, each over its window since the last completed one: a catch-up covers all it missed), with the
 * rows the queries returned and those settled so far; fed once per run and per batch of rows, never per row.
 */
function runsBar(json: boolean | undefined): { readonly progress: HuntProgress; stop(): void } | undefined {
  if (!showsProgress(json)) return undefined;
  let bar: Progress | undefined;
  const rows = { settled: 0, found: 0 };
  return {
    progress: {
      runs: (total) => {
        if (total > 0)
          bar = startProgress(json, {
            label: "hunting",
            unit: "runs",
            total,
            detail: "{settled}/{found} rows settled",
            payload: rows,
          });
      },
      found: (n) => {
        rows.found += n;
        bar?.tick(0, rows);
      },
      settled: (n) => {
        rows.settled += n;
        bar?.tick(0, rows);
      },
      ran: () => bar?.tick(1, rows),
    },
    stop: () => bar?.stop(),
  };
}

function print(out: Output, report: HuntRunReport & { broker?: BrokerReport }): void {
  for (const run of report.runs) {
    const c = run.counts;
    const text =
      run.status === "completed"
        ? `${run.ruleId} ${run.target}: ${c.rows} rows, ${c.new} new, ${c.duplicate} seen before, ${c.alerted} alerted, ${c.pending} pending, ${c.benign} benign, ${c.unverified} unverified, ${c.overflow} over max_signals (${run.window?.start} .. ${run.window?.end})${run.gap ? `; NOT covered: ${run.gap.start} .. ${run.gap.end}` : ""}`
        : run.status === "not-due"
          ? `${run.ruleId} ${run.target}: not due`
          : `${run.ruleId} ${run.target}: FAILED: ${run.error}`;
    out.record({ type: "run", ...run }, text);
  }
  const s = report.sweep;
  out.record(
    { type: "sweep", ...s },
    `pending hits: ${s.examined} examined, ${s.alerted} alerted, ${s.benign} benign, ${s.unverified} unverified, ${s.stillPending} still waiting`,
  );
  const b = report.broker;
  if (b)
    out.record(
      { type: "broker", ...b },
      `sample broker: ${b.examined} samples awaited, ${b.found} found in the store, ${b.requested} requested, ${b.queued} queued, ${b.retrieved} retrieved, ${b.failed} failed, ${b.skipped} skipped (shmhunt hits: each one's state)`,
    );
}
