/**
 * `shmhunt <args>` from source in a real child process (node + tsx, as `npx shmhunt` runs the built CLI), with
 * its output collected: for tests of the command line, of `shmhunt serve`, and of processes killed mid-run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const repoRoot = path.resolve(import.meta.dirname, "../..");

/**
 * Starts `shmhunt <args>` with `env` over this process's environment (the schedule off unless `env` sets it), in
 * `cwd` (default: the repository root; the CLI's defaults, `./rules` among them, are read from there).
 */
export function shmhunt(args: readonly string[], env: Record<string, string>, cwd = repoRoot): ChildProcess {
  const main = pathToFileURL(path.join(repoRoot, "src/cli/main.ts")).href;
  const script = `import { main } from ${JSON.stringify(main)}; process.exitCode = await main(["node", "shmhunt", ...${JSON.stringify(args)}]);`;
  return moduleProcess(script, env, cwd);
}

/** tsx's loader, named whole so that a process started in another folder than the repository finds it. */
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

/**
 * Starts an ES module's text (node + tsx, from the repository root unless `cwd` says: its relative imports are read
 * from there) as `shmhunt` starts, its output piped.
 */
export function moduleProcess(script: string, env: Record<string, string> = {}, cwd = repoRoot): ChildProcess {
  return spawn(process.execPath, ["--import", tsx, "--input-type=module", "-e", script], {
    cwd,
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
