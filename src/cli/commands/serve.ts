import type { Command } from "commander";
import { CliError } from "../output.js";

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("(not built yet)")
    .option("--json", "machine-readable output")
    .action(() => {
      throw new CliError("'serve' is not built yet");
    });
}
