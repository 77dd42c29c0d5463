import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-coldstart-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Imports a module in a fresh Node process and returns every module it loaded (ESM resolutions and the CJS cache). */
async function modulesLoadedBy(entry: string, extra = ""): Promise<string[]> {
  const log = path.join(dir, `modules-${path.basename(entry)}-${Date.now()}.txt`);
  const script = `await import(${JSON.stringify(entry)}); ${extra}
    const { createRequire } = await import("node:module");
    const cache = Object.keys(createRequire(import.meta.url).cache);
    const { appendFileSync } = await import("node:fs");
    appendFileSync(${JSON.stringify(log)}, cache.map((f) => "file://" + f).join("\\n") + "\\n");`;
  await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "--import", "./test/functions/record-modules.mjs", "--input-type=module", "-e", script],
    { cwd: repoRoot, env: { ...process.env, SHMHUNT_MODULE_LOG: log, SHMHUNT_HUNT_SCHEDULE: "0 */5 * * * *" } },
  );
  return readFileSync(log, "utf8").split("\n").filter(Boolean);
}

const heavy = [
  "@kusto/language-service-next",
  "@litko/yara-x",
  "@azure/storage-blob",
  "@azure/data-tables",
  "@azure/identity",
  "@azure/monitor-query-logs",
  "@azure/arm-securityinsight",
  "@azure/arm-operationalinsights",
  "fastify",
];

describe("the Functions app's cold start", () => {
  it("loads @azure/functions and the adapters, and none of the heavy modules", async () => {
    const loaded = await modulesLoadedBy("./functions/index.ts");
    expect(loaded.some((url) => url.includes("/node_modules/@azure/functions/"))).toBe(true);
    expect(loaded.some((url) => url.endsWith("/functions/handlers.ts"))).toBe(true);
    for (const name of heavy) {
      expect(
        loaded.filter((url) => url.includes(`/node_modules/${name}/`)),
        name,
      ).toEqual([]);
    }
  });

  it("would see a heavy module if one were loaded (the check can fail)", async () => {
    const loaded = await modulesLoadedBy(
      "./functions/index.ts",
      'await import("@azure/data-tables"); await import("@litko/yara-x");',
    );
    expect(loaded.some((url) => url.includes("/node_modules/@azure/data-tables/"))).toBe(true);
    expect(loaded.some((url) => url.includes("/node_modules/@litko/yara-x/"))).toBe(true);
  });
});
