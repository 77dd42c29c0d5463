import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-serve-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `shmhunt <args>` from source in a child process. */
function shmhunt(args: string[], env: Record<string, string>): ChildProcess {
  const script = `import { main } from "./src/cli/main.ts"; process.exitCode = await main(["node", "shmhunt", ...${JSON.stringify(args)}]);`;
  return spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: repoRoot,
    env: { ...process.env, SHMHUNT_DATA_DIR: dir, SHMHUNT_HUNT_TICK: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function collect(child: ChildProcess): { out: () => string; err: () => string; exit: Promise<number | null> } {
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

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("shmhunt serve", () => {
  it("serves, then shuts down cleanly on SIGTERM", async () => {
    const key = "serve-test-key-that-stays-secret-42";
    const child = shmhunt(["serve", "--port", "0", "--json"], { SHMHUNT_API_KEYS: key, SHMHUNT_LOG_LEVEL: "debug" });
    const io = collect(child);
    await until(() => io.out().includes('"listening"'), "the listening line");
    const line = io
      .out()
      .split("\n")
      .find((l) => l.includes('"listening"'))!;
    const url = JSON.parse(line).listening as string;
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", backends: { state: "local", alerts: "local" } });
    expect((await fetch(`${url}/incidents`)).status).toBe(401);
    expect((await fetch(`${url}/incidents`, { headers: { "x-api-key": key } })).status).toBe(200);
    child.kill("SIGTERM");
    expect(await io.exit).toBe(0);
    expect(io.out()).toContain("shmhunt shutting down");
    expect(io.out()).toContain('"apiKeys":"[redacted]"');
    expect(io.out() + io.err()).not.toContain(key);
  });

  it("refuses to listen beyond loopback without an API key", async () => {
    const io = collect(shmhunt(["serve", "--host", "0.0.0.0", "--port", "0"], {}));
    expect(await io.exit).toBe(1);
    expect(io.err().trim().split("\n")).toEqual([
      expect.stringMatching(/^shmhunt: refusing to listen on 0\.0\.0\.0 .*SHMHUNT_API_KEYS/),
    ]);
  });
});
