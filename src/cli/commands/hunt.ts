import type { Command } from "commander";
import { CliError } from "../output.js";

export function registerHunt(program: Command): void {
  program
    .command("hunt")
    .description("(not built yet)")
    .option("--json", "machine-readable output")
    .action(() => {
      throw new CliError("'hunt' is not built yet");
    });
}
