/**
 * How `bin/shmhunt.js` starts the CLI. Commands that use Kusto.Language (translate, validate, kql) run in a child
 * Node started from the startup snapshot of src/kusto/snapshot.ts, which holds the library loaded: a cold
 * `shmhunt translate rule.toml` then skips the library's load. When there is no snapshot yet (first run, or a new
 * Node), the command runs here as before and a background process builds it for the next run; a read-only install,
 * `SHMHUNT_SNAPSHOT=0`, or Node options this process cannot hand on (NODE_OPTIONS, V8 flags) run here too.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The commands whose run starts by loading Kusto.Language. */
const KUSTO_COMMANDS: ReadonlySet<string> = new Set(["translate", "validate", "kql"]);

/** The CLI's entry module (what the snapshot runs). */
const CLI_MAIN = fileURLToPath(new URL("./main.js", import.meta.url));

/**
 * The snapshot module, loaded only by the commands that use it: the others (`scan`, `hunt`, …) do not pay the
 * 25 ms of loading it.
 */
const snapshots = () => import("../kusto/snapshot.js");

/** Builds the CLI's snapshot now unless it is there (`npm install` does, through `prepare`); its path, if any. */
export async function buildCliSnapshot(): Promise<string | undefined> {
  return (await snapshots()).buildSnapshot(CLI_MAIN);
}

/** Runs the CLI for `argv` (`process.argv`); resolves to the exit code. */
export async function launch(argv: readonly string[]): Promise<number> {
  const command = argv[2];
  if (command !== undefined && KUSTO_COMMANDS.has(command) && snapshotAllowed()) {
    const { readySnapshot, buildSnapshotInBackground, snapshotEnvironment } = await snapshots();
    const blob = readySnapshot(CLI_MAIN);
    if (blob) return runFromSnapshot(blob, argv.slice(2), snapshotEnvironment());
    buildSnapshotInBackground(CLI_MAIN);
  }
  // `scan` starts its first scan worker before anything else loads: the worker's own start-up (Node, YARA-X) then
  // runs on another core while this process loads the CLI, instead of after (src/yara/worker-process.ts).
  if (command === "scan") (await import("../yara/worker-process.js")).prestartScanWorker();
  const { main } = await import("./main.js");
  return main(argv);
}

/**
 * Whether a child may start from the snapshot: V8 refuses a snapshot under other V8 flags than its builder's, so a
 * process given Node options runs in place. `--require` (preloads, e.g. a benchmark's CPU meter) is not handed on.
 */
function snapshotAllowed(): boolean {
  if (process.env.SHMHUNT_SNAPSHOT === "0") return false;
  if ((process.env.NODE_OPTIONS ?? "").trim() !== "") return false;
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--require" || args[i] === "-r") i++;
    else if (!args[i]?.startsWith("--require=")) return false;
  }
  return true;
}

/** The CLI in a child started from `blob`, sharing this terminal; its exit code (or signal) becomes ours. */
function runFromSnapshot(blob: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(process.execPath, ["--snapshot-blob", blob, CLI_MAIN, ...args], {
    stdio: "inherit",
    env,
  });
  // Ctrl-C reaches the whole process group: the child handles it; a signal sent to this process alone is passed on.
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) process.on(s, forward);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      for (const s of signals) process.off(s, forward);
      if (signal) process.kill(process.pid, signal);
      resolve(code ?? 1);
    });
  });
}
