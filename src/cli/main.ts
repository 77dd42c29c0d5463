/**
 * The `shmhunt` command line. Each command lives in commands/<name>.ts and only parses arguments, calls a
 * service from src/, and prints; no command holds logic of its own.
 */
import { Command, CommanderError } from "commander";
import { commands } from "./commands/index.js";
import { CliError, reasonOf } from "./output.js";

export function buildProgram(): Command {
  const program = new Command("shmhunt")
    .description("Translate EQL/YARA detections to Microsoft Sentinel KQL, deploy, hunt, and gate alerts on YARA.")
    .version("0.1.0")
    .showHelpAfterError(false)
    .exitOverride();
  for (const register of commands) register(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI; resolves to the process exit code. Errors print one line on stderr. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit through here with code 0; usage errors were already printed by commander.
      return error.exitCode;
    }
    process.stderr.write(`shmhunt: ${reasonOf(error)}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  }
}
