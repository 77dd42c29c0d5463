/**
 * The `shmhunt` command line. Each command lives in commands/<name>.ts and only parses arguments, calls a
 * service from src/, and prints; no command holds logic of its own.
 */
import { Command, CommanderError } from "commander";
import { VERSION } from "../app/version.js";
import { commandLoaders } from "./commands/index.js";
import { CliError, reasonOf, stdoutSink } from "./output.js";

/**
 * The program with every command registered, or with only `command` when it names one (a run of one command then
 * loads only that command's modules; help and unknown commands need them all).
 */
export async function buildProgram(command?: string): Promise<Command> {
  const program = new Command("shmhunt")
    .description("Translate EQL/YARA detections to Microsoft Sentinel KQL, deploy, hunt, and gate alerts on YARA.")
    .version(VERSION)
    .showHelpAfterError(false)
    .exitOverride();
  const only = command !== undefined && Object.hasOwn(commandLoaders, command) ? command : undefined;
  const loaders = only ? [commandLoaders[only] as () => Promise<(p: Command) => void>] : Object.values(commandLoaders);
  for (const register of await Promise.all(loaders.map((load) => load()))) register(program);
  for (const each of program.commands) each.exitOverride();
  return program;
}

/**
 * Runs the CLI; resolves to the process exit code. Errors print one line on stderr, as does an output closed before
 * the command ended (exit 1).
 */
export async function main(argv: readonly string[]): Promise<number> {
  // Watched from the start: a reader that goes away (`| head -1`) is one line and exit 1, never a stack trace.
  const stdout = stdoutSink();
  try {
    const program = await buildProgram(argv[2]);
    await program.parseAsync([...argv]);
    await stdout.settled();
    if (stdout.failure !== undefined) throw new CliError(stdout.failure);
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
