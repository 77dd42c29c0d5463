/**
 * Starts Azurite (the official Azure Storage emulator, a devDependency) for a test suite: Blob and Table on random
 * loopback ports, in memory, in one child process. Call `stop()` in afterAll.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
export const DEV_ACCOUNT = "devstoreaccount1";
export const DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface Azurite {
  readonly blobUrl: string;
  readonly tableUrl: string;
  readonly connectionString: string;
  stop(): Promise<void>;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export async function startAzurite(): Promise<Azurite> {
  const location = mkdtempSync(path.join(tmpdir(), "shmhunt-azurite-"));
  const bin = path.join(repoRoot, "node_modules", "azurite", "dist", "src", "azurite.js");
  const child = spawn(
    process.execPath,
    [
      bin,
      "--inMemoryPersistence",
      "--blobHost",
      "127.0.0.1",
      "--blobPort",
      "0",
      "--tableHost",
      "127.0.0.1",
      "--tablePort",
      "0",
      "--queuePort",
      "0",
      "--skipApiVersionCheck",
      "--disableTelemetry",
      "--silent",
    ],
    { cwd: location, stdio: ["ignore", "pipe", "pipe"] },
  );
  try {
    const ports = await listeningPorts(child);
    const blobUrl = `http://127.0.0.1:${ports.blob}/${DEV_ACCOUNT}`;
    const tableUrl = `http://127.0.0.1:${ports.table}/${DEV_ACCOUNT}`;
    return {
      blobUrl,
      tableUrl,
      connectionString: `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};BlobEndpoint=${blobUrl};TableEndpoint=${tableUrl};`,
      async stop() {
        await stopChild(child);
        rmSync(location, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopChild(child);
    rmSync(location, { recursive: true, force: true });
    throw error;
  }
}

function listeningPorts(child: ChildProcess): Promise<{ blob: number; table: number }> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const found: { blob?: number; table?: number } = {};
    const timer = setTimeout(() => reject(new Error(`azurite did not start in time:\n${seen}`)), 30_000);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      for (const match of seen.matchAll(
        /Azurite (Blob|Table) service is successfully listening at http:\/\/[^:]+:(\d+)/g,
      )) {
        if (match[1] === "Blob") found.blob = Number(match[2]);
        if (match[1] === "Table") found.table = Number(match[2]);
      }
      if (found.blob !== undefined && found.table !== undefined) {
        clearTimeout(timer);
        resolve({ blob: found.blob, table: found.table });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`azurite exited (${code}) before listening:\n${seen}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}
