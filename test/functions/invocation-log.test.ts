/**
 * The services' log lines on Functions reach the invocation that wrote them. Oracle: Microsoft Learn, @azure/functions
 * InvocationContext class: context.log / warn / error are "the recommended way to log … during invocation", with
 * "integration with Azure features like application insights". The services are built once per worker from the
 * environment (functions/runtime.ts, getServices), so this builds them that way, not with a logger of the test's own.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { InvocationContext, type Timer } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { huntTimer } from "../../functions/handlers.js";
import { getServices, invocationLogger, setServices } from "../../functions/runtime.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-invocation-log-"));
const settings: Record<string, string> = {
  SHMHUNT_DATA_DIR: dir,
  SHMHUNT_TMP_DIR: path.join(dir, "tmp"),
  SHMHUNT_RULES_DIR: path.join(repoRoot, "rules"),
  SHMHUNT_KQL_DIR: path.join(repoRoot, "kql"),
  SHMHUNT_WORKSPACE_DIR: path.join(dir, "workspace"),
  SHMHUNT_HUNT_TARGETS: "defender",
  SHMHUNT_RESCAN_BATCH: "0",
  SHMHUNT_HUNT_SCHEDULE: "0 */1 * * * *",
};
const saved = new Map(Object.keys(settings).map((name) => [name, process.env[name]]));

type Line = { level: string; text: string };
function contextLogging(name: string, into: Line[]): InvocationContext {
  return new InvocationContext({
    functionName: name,
    logHandler: (level, ...args) => into.push({ level, text: args.map(String).join(" ") }),
  });
}

beforeAll(() => {
  mkdirSync(settings.SHMHUNT_WORKSPACE_DIR!, { recursive: true });
  Object.assign(process.env, settings);
  setServices(undefined);
});

afterAll(async () => {
  await (await getServices().catch(() => undefined))?.close();
  setServices(undefined);
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("the services' logger on Functions", () => {
  it("the hunt core's lines from a timer run reach that invocation's context", async () => {
    const lines: Line[] = [];
    const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: undefined as never };
    await huntTimer(timer, contextLogging("hunt", lines));
    // The handler's own summary line, and beside it the hunt core's line for each run it made.
    expect(lines.some((l) => l.text.includes('"event":"hunt"'))).toBe(true);
    const core = lines.filter((l) => /"msg":"hunt (run completed|query failed)/.test(l.text));
    expect(core.length, lines.map((l) => `${l.level} ${l.text}`).join("\n")).toBeGreaterThan(0);
    for (const line of core) expect(JSON.parse(line.text)).toHaveProperty("ruleId");
  });

  it("a line goes at its own level, and lines under SHMHUNT_LOG_LEVEL are dropped", async () => {
    const lines: Line[] = [];
    const { inInvocation } = await import("../../functions/runtime.js");
    const logger = invocationLogger("warn");
    await inInvocation(contextLogging("x", lines), async () => {
      logger.info({ a: 1 }, "kept back");
      logger.warn({ a: 2 }, "warned");
      logger.error({ error: new Error("boom") }, "failed");
    });
    expect(lines).toEqual([
      { level: "warning", text: '{"a":2,"msg":"warned"}' },
      { level: "error", text: '{"error":"boom","msg":"failed"}' },
    ]);
  });
});
