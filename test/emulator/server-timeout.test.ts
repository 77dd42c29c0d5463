/**
 * `Prefer: wait` bounds the engine's own run time, not only injected delays: a query still running when the
 * server timeout passes is answered 504. The engine here is the project's, made slow on purpose: its first run
 * waits until the test lets it go (so the 504 is known to come while it is still running, however loaded the
 * machine), later runs take a fixed time longer than the first query's timeout.
 */
import { LogsQueryClient } from "@azure/monitor-query-logs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createProjectEngine } from "./engine.js";
import type { QueryEngine } from "./query-engine.js";
import { type Emulator, startEmulator } from "./server.js";

const project = createProjectEngine();
let letFirstRunGo: () => void = () => {};
const firstRunHeld = new Promise<void>((resolve) => {
  letFirstRunGo = resolve;
});
let runsStarted = 0;
let runsEnded = 0;
const slowEngine: QueryEngine = {
  check: (query, workspace) => project.check(query, workspace),
  run: async (query, workspace, options) => {
    runsStarted += 1;
    // held until let go; at the latest after 20 s, so an emulator that waits for the engine fails below, not by timeout
    if (runsStarted === 1) await Promise.race([firstRunHeld, new Promise((r) => setTimeout(r, 20_000).unref())]);
    else await new Promise((resolve) => setTimeout(resolve, 1_500));
    try {
      return project.run(query, workspace, options);
    } finally {
      runsEnded += 1;
    }
  },
};

let emulator: Emulator;
beforeAll(async () => {
  // the row stands for data already ingested (ingestion delay: ingestion-delay.test.ts)
  emulator = await startEmulator({ engine: slowEngine, ingestionDelayMs: 0 });
  emulator.workspace.seedTable("Syslog", [{ TimeGenerated: new Date().toISOString(), Computer: "web-01" }]);
});
afterAll(async () => {
  letFirstRunGo();
  await emulator?.close();
});

it("answers 504 when the query outlasts Prefer: wait, and the rows when it does not", async () => {
  const logs = new LogsQueryClient(emulator.credential, {
    ...emulator.logsClientOptions(),
    retryOptions: { maxRetries: 0 },
  });
  const error = await logs
    .queryWorkspace(
      emulator.workspace.customerId,
      "Syslog | count",
      { duration: "PT1H" },
      { serverTimeoutInSeconds: 1 },
    )
    .catch((e) => e);
  expect(error.statusCode).toBe(504);
  // answered at the timeout, while the engine's run had not ended (it ends only when let go, below)
  expect([runsStarted, runsEnded]).toEqual([1, 0]);
  letFirstRunGo();
  // 1.5 s of engine time is cut at a 1 s timeout (above) but answered within a generous one
  const result = await logs.queryWorkspace(
    emulator.workspace.customerId,
    "Syslog | count",
    { duration: "PT1H" },
    { serverTimeoutInSeconds: 30 },
  );
  expect(result.status === "Success" && result.tables[0]?.rows).toEqual([[1]]);
});
