import type { Command } from "commander";
import { CliError } from "../output.js";

export function registerValidate(program: Command): void {
  program
    .command("validate")
    .description("(not built yet)")
    .option("--json", "machine-readable output")
    .action(() => {
      throw new CliError("'validate' is not built yet");
    });
}
