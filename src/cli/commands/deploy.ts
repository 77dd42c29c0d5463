import type { Command } from "commander";
import { CliError } from "../output.js";

export function registerDeploy(program: Command): void {
  program
    .command("deploy")
    .description("(not built yet)")
    .option("--json", "machine-readable output")
    .action(() => {
      throw new CliError("'deploy' is not built yet");
    });
}
