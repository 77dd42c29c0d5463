/**
 * The scan worker `shmhunt scan` forks before it loads anything (src/yara/worker-process.ts): a run that ends
 * without adopting it (`scan --help`, a bad option) must still end at once, and take the worker with it; and the
 * worker starts with a local child's environment (src/processes/child-environment.ts).
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { until } from "../support/until.js";
import { processesMarked } from "./processes.js";
import { repoRoot } from "./tmp.js";

describe.runIf(process.platform === "linux")("a prestarted scan worker", () => {
  it("neither keeps its process alive nor outlives it when no scan adopts it", async () => {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
    const module = pathToFileURL(path.join(repoRoot, "src/yara/worker-process.ts")).href;
    // The script prestarts a worker and has nothing left to do: it must end, and the worker with it.
    const script = `import { prestartScanWorker } from ${JSON.stringify(module)};\nprestartScanWorker();`;
    const mark = `SHMHUNT_TEST_MARK=${randomUUID()}`;
    const child = spawn(process.execPath, ["--import", tsx, "--input-type=module", "-e", script], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, SHMHUNT_TEST_MARK: mark.split("=")[1] },
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // A worker holding the run open would keep it alive forever (it waits for work): stop it after 60 s (the run
    // takes a second or two; starting tsx on a loaded machine, several).
    const stop = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    clearTimeout(stop);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    // The worker ends once its parent has gone (it sees its channel close): waited for, up to 30 s; one that
    // outlived its process would stay for ever.
    await until(() => processesMarked(mark).length === 0, "the worker to end with its process", 30_000).catch(() => {});
    expect(processesMarked(mark)).toEqual([]);
  }, 120_000);
  it("starts without the caller's extra CA file, which Node 20 would parse as the worker starts", async () => {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
    const module = pathToFileURL(path.join(repoRoot, "src/yara/worker-process.ts")).href;
    // The script prestarts a worker and stays until it is killed (the worker then ends with it).
    const script = `import { prestartScanWorker } from ${JSON.stringify(module)};\nprestartScanWorker();\nsetInterval(() => {}, 1000);`;
    const mark = randomUUID();
    const child = spawn(process.execPath, ["--import", tsx, "--input-type=module", "-e", script], {
      stdio: ["ignore", "ignore", "ignore"],
      env: { ...process.env, SHMHUNT_TEST_MARK: mark, NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/ca-certificates.crt" },
    });
    try {
      // The worker is the marked process running the worker's script, once it runs it (after its exec: before, a
      // forked child still has its parent's environment); tsx's esbuild service, also marked, is not it.
      const isWorker = (pid: number) => {
        try {
          return /yara\/worker\.[jt]s/.test(readFileSync(`/proc/${pid}/cmdline`, "utf8"));
        } catch {
          return false;
        }
      };
      await until(() => processesMarked(mark).some(isWorker), "the worker to start", 60_000);
      const worker = processesMarked(mark).find(isWorker) as number;
      const environ = readFileSync(`/proc/${worker}/environ`, "utf8").split("\0");
      expect(environ).toContain(`SHMHUNT_TEST_MARK=${mark}`);
      expect(environ.filter((v) => v.startsWith("NODE_EXTRA_CA_CERTS="))).toEqual([]);
      expect(environ).toContain("RUST_BACKTRACE=0");
    } finally {
      child.kill("SIGKILL");
    }
    await until(() => processesMarked(mark).length === 0, "the worker to end with its process", 30_000).catch(() => {});
    expect(processesMarked(mark)).toEqual([]);
  }, 120_000);
});
