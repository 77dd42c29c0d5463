import type { Command } from "commander";
import { CliError } from "../output.js";

export function registerEql(program: Command): void {
  program
    .command("eql")
    .description("(not built yet)")
    .option("--json", "machine-readable output")
    .action(() => {
      throw new CliError("'eql' is not built yet");
    });
}
