import type { Command } from "commander";
import { CliError } from "../output.js";

export function registerKql(program: Command): void {
  program
    .command("kql")
    .description("(not built yet)")
    .option("--json", "machine-readable output")
    .action(() => {
      throw new CliError("'kql' is not built yet");
    });
}
