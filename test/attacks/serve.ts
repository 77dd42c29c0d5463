/**
 * A real `shmhunt serve` for the attack suite: the configuration read from the environment as `npm start` reads it
 * (src/app/config.ts), the fastify host listening on 127.0.0.1 with a free port, the real YARA-X scanner over a
 * rules folder of the test's own. Plus raw-socket helpers and the process's open descriptors (/proc/self/fd).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/app/config.js";
import { type RunningServer, startServer } from "../../src/server/start.js";
import { until } from "../support/until.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");

export interface AttackServer extends RunningServer {
  readonly dir: string;
  readonly rulesDir: string;
  readonly tmpDir: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Starts the server; `env` adds settings (timeouts, caps) to the defaults. The seed YARA rule is in its rules. */
export async function serve(env: Record<string, string> = {}): Promise<AttackServer> {
  const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-attack-"));
  const rulesDir = path.join(dir, "rules");
  mkdirSync(rulesDir);
  copyFileSync(path.join(repoRoot, "rules", "shm-creation.yar"), path.join(rulesDir, "shm-creation.yar"));
  const tmp = path.join(dir, "tmp");
  const config = loadConfig(
    {
      SHMHUNT_HOST: "127.0.0.1",
      SHMHUNT_PORT: "0",
      SHMHUNT_DATA_DIR: path.join(dir, "data"),
      SHMHUNT_RULES_DIR: rulesDir,
      SHMHUNT_KQL_DIR: path.join(dir, "kql"),
      SHMHUNT_TMP_DIR: tmp,
      SHMHUNT_HUNT_TICK: "0",
      SHMHUNT_LOG_LEVEL: "silent",
      ...env,
    },
    dir,
  );
  const running = await startServer(config);
  const port = Number(new URL(running.url).port);
  return {
    ...running,
    dir,
    rulesDir,
    tmpDir: tmp,
    port,
    async stop() {
      await running.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The descriptors this process holds open now. */
/** POSTs a JSON body to one of the server's routes. */
export function postJson(server: { readonly url: string }, route: string, body: unknown): Promise<Response> {
  return fetch(`${server.url}${route}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

export function openDescriptors(): number {
  return readdirSync("/proc/self/fd").length;
}

/** Entries of a folder (none when it does not exist). */
export function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export { until };

/** A raw TCP connection to the server, with whether (and when) the server closed it. */
export interface RawClient {
  readonly socket: net.Socket;
  closed(): boolean;
  /** Everything the server sent. */
  received(): string;
}

export function connect(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let closed = false;
    let received = "";
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      closed = true;
    });
    socket.once("connect", () => resolve({ socket, closed: () => closed, received: () => received }));
    socket.once("error", reject);
  });
}

/** One HTTP/1.1 request over a raw socket; the answer's status line and body once the server ends it. */
export async function rawRequest(port: number, head: string, body: Buffer | string = ""): Promise<string> {
  const client = await connect(port);
  // Not half-closed: the server ends the connection (`Connection: close`, or an error).
  client.socket.write(head);
  client.socket.write(body);
  await until(client.closed, "the server to answer and close");
  return client.received();
}
