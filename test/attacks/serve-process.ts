/**
 * `shmhunt serve` as a real child process, configured from the environment as `npm start` is, for attacks that
 * kill the server (SIGKILL: no handler runs) and start it again. The command may be wrapped by a program that
 * changes how the process runs: `prlimit --fsize` (a file size limit, as a full disk refuses writes) or `unshare`
 * (a pid namespace of its own, as a container has: the restarted server gets the same pid 1).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { collect } from "../support/cli-process.js";
import { until } from "./serve.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly port: number;
  /** SIGKILL to the whole process group (the wrapper and the server in it). */
  kill(): Promise<void>;
  /** SIGTERM (a clean stop), then the exit. */
  stop(): Promise<void>;
}

/**
 * Starts the server over `env` (SHMHUNT_DATA_DIR, SHMHUNT_TMP_DIR, SHMHUNT_RULES_DIR given by the test), on
 * 127.0.0.1 with a free port, with `wrap` before the node command when given.
 */
export async function serveProcess(env: Record<string, string>, wrap: readonly string[] = []): Promise<ServeProcess> {
  const script = `import { main } from "./src/cli/main.ts"; process.exitCode = await main(["node", "shmhunt", "serve", "--json"]);`;
  const command = [...wrap, process.execPath, "--import", "tsx", "--input-type=module", "-e", script];
  const child = spawn(command[0] as string, command.slice(1), {
    cwd: repoRoot,
    env: {
      ...process.env,
      SHMHUNT_HOST: "127.0.0.1",
      SHMHUNT_PORT: "0",
      SHMHUNT_HUNT_TICK: "0",
      SHMHUNT_LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const io = collect(child);
  let exited = false;
  void io.exit.then(() => {
    exited = true;
  });
  await until(
    () => io.out().includes('"listening"') || exited,
    `the server to listen (stderr: ${io.err().slice(0, 500)})`,
    60_000,
  );
  if (exited) throw new Error(`the server exited: ${io.err()}`);
  const line = io
    .out()
    .split("\n")
    .find((l) => l.includes('"listening"')) as string;
  const url = (JSON.parse(line) as { listening: string }).listening;
  const group = child.pid as number;
  return {
    child,
    url,
    port: Number(new URL(url).port),
    async kill() {
      if (!exited) process.kill(-group, "SIGKILL");
      await io.exit;
    },
    async stop() {
      if (!exited) process.kill(-group, "SIGTERM");
      await io.exit;
    },
  };
}

/** Whether this machine lets an unprivileged process have its own user, pid and mount namespaces (`unshare`). */
export function canUnshare(): boolean {
  const probe = spawnSync("unshare", [...PID_NAMESPACE, "true"], { stdio: "ignore" });
  return probe.status === 0;
}

/** A pid namespace of its own (with its own /proc), as a container has; the first process in it is pid 1. */
export const PID_NAMESPACE = ["--user", "--map-root-user", "--pid", "--fork", "--mount-proc"] as const;
