/**
 * `shmhunt <args>` from source in a real child process (node + tsx, as `npx shmhunt` runs the built CLI), with
 * its output collected: for tests of the command line, of `shmhunt serve`, and of processes killed mid-run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";

const repoRoot = path.resolve(import.meta.dirname, "../..");

/** Starts `shmhunt <args>` with `env` over this process's environment (the schedule off unless `env` sets it). */
export function shmhunt(args: readonly string[], env: Record<string, string>): ChildProcess {
  const script = `import { main } from "./src/cli/main.ts"; process.exitCode = await main(["node", "shmhunt", ...${JSON.stringify(args)}]);`;
  return moduleProcess(script, env);
}

/** Starts an ES module's text (node + tsx, from the repository root) as `shmhunt` starts, its output piped. */
export function moduleProcess(script: string, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: repoRoot,
    env: { ...process.env, SHMHUNT_HUNT_TICK: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

export interface Collected {
  out(): string;
  err(): string;
  /** The exit code (null when killed by a signal). */
  readonly exit: Promise<number | null>;
}

export function collect(child: ChildProcess): Collected {
  let out = "";
  let err = "";
  child.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    err += c.toString();
  });
  return {
    out: () => out,
    err: () => err,
    exit: new Promise((resolve) => child.once("exit", (code) => resolve(code))),
  };
}
