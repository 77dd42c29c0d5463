import type { Command } from "commander";
import { openWorkspace, recordTexts, textValue } from "../../workspace/index.js";
import { CliError, createOutput } from "../output.js";

interface KqlOptions {
  workspace: string;
  now?: string;
  from?: string;
  to?: string;
  json?: boolean;
}

function parseTime(text: string, option: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new CliError(`${option}: not a date/time: '${text}'`);
  return ms;
}

export function registerKql(program: Command): void {
  program
    .command("kql")
    .description("run a KQL query over a local workspace directory (one NDJSON/JSON/CSV file per table)")
    .argument("<query>", "the KQL query")
    .requiredOption("--workspace <dir>", "directory with <Table>.ndjson|.json|.csv, functions/*.kql, watchlists/*.csv")
    .option("--now <iso>", "the time now() and ago() use (default: the current time)")
    .option("--from <iso>", "start of the time range applied to TimeGenerated (like the Logs API timespan)")
    .option("--to <iso>", "end of the time range that --from starts (default: now)")
    .option("--json", "one JSON object per result row (NDJSON)")
    .action(async (query: string, options: KqlOptions) => {
      const out = createOutput(options);
      // `--to` ends the range `--from` starts; alone it would be dropped without a word and every row read.
      if (options.to !== undefined && options.from === undefined) throw new CliError("--to needs --from");
      const now = options.now ? parseTime(options.now, "--now") : Date.now();
      const timespan = options.from
        ? { start: parseTime(options.from, "--from"), end: options.to ? parseTime(options.to, "--to") : now }
        : undefined;
      const workspace = await openWorkspace(options.workspace);
      const result = await workspace.query(query, { now, ...(timespan ? { timespan } : {}) });
      if (out.json) {
        await out.jsonLines(recordTexts(result));
        return;
      }
      const header = result.columns.map((c) => c.name);
      const cells = result.rows.map((row) => result.columns.map((c, i) => textValue(row[i] ?? null, c.type)));
      const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
      const line = (values: readonly string[]) =>
        values
          .map((v, i) => v.padEnd(widths[i] ?? 0))
          .join("  ")
          .trimEnd();
      out.text(line(header));
      out.text(line(widths.map((w) => "-".repeat(w))));
      for (const r of cells) out.text(line(r));
      out.info(`${result.rows.length} row${result.rows.length === 1 ? "" : "s"}`);
    });
}
