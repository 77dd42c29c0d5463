import type { Command } from "commander";
import { CliError } from "../output.js";

export function registerTranslate(program: Command): void {
  program
    .command("translate")
    .description("(not built yet)")
    .option("--json", "machine-readable output")
    .action(() => {
      throw new CliError("'translate' is not built yet");
    });
}
