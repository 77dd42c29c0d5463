import type { Command } from "commander";
import { CliError } from "../output.js";

export function registerScan(program: Command): void {
  program
    .command("scan")
    .description("(not built yet)")
    .option("--json", "machine-readable output")
    .action(() => {
      throw new CliError("'scan' is not built yet");
    });
}
