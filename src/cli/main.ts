/**
 * The `shmhunt` command line. Each command lives in commands/<name>.ts and only parses arguments, calls a
 * service from src/, and prints; no command holds logic of its own.
 */
import { createRequire } from "node:module";
import { VERSION } from "../app/version.js";
import { commandLoaders } from "./commands/index.js";
import { CliError, reasonOf, stdoutSink } from "./output.js";

/**
 * commander through `require`: it is CommonJS, and an ES import of it has Node scan its source for its exports first
 * (cjs-module-lexer), 2.5–3 ms of every command's start (11–12 ms against 8–9, five runs each, December 2026).
 */
const { Command, CommanderError } = createRequire(import.meta.url)("commander") as typeof import("commander");
type Command = import("commander").Command;

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
