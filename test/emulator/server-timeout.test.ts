/**
 * `Prefer: wait` bounds the engine's own run time, not only injected delays: a query still running when the
 * server timeout passes is answered 504. The engine here is the project's, made slow on purpose.
 */
import { LogsQueryClient } from "@azure/monitor-query-logs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createProjectEngine } from "./engine.js";
import type { QueryEngine } from "./query-engine.js";
import { type Emulator, startEmulator } from "./server.js";

const project = createProjectEngine();
const slowEngine: QueryEngine = {
  check: (query, workspace) => project.check(query, workspace),
  run: async (query, workspace, options) => {
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    return project.run(query, workspace, options);
  },
};

let emulator: Emulator;
beforeAll(async () => {
  // the row stands for data already ingested (ingestion delay: ingestion-delay.test.ts)
  emulator = await startEmulator({ engine: slowEngine, ingestionDelayMs: 0 });
  emulator.workspace.seedTable("Syslog", [{ TimeGenerated: new Date().toISOString(), Computer: "web-01" }]);
});
afterAll(async () => {
  await emulator?.close();
});

it("answers 504 when the query outlasts Prefer: wait, and the rows when it does not", async () => {
  const logs = new LogsQueryClient(emulator.credential, {
    ...emulator.logsClientOptions(),
    retryOptions: { maxRetries: 0 },
  });
  const started = Date.now();
  const error = await logs
    .queryWorkspace(
      emulator.workspace.customerId,
      "Syslog | count",
      { duration: "PT1H" },
      { serverTimeoutInSeconds: 1 },
    )
    .catch((e) => e);
  expect(error.statusCode).toBe(504);
  expect(Date.now() - started).toBeLessThan(1_450);
  const result = await logs.queryWorkspace(
    emulator.workspace.customerId,
    "Syslog | count",
    { duration: "PT1H" },
    { serverTimeoutInSeconds: 3 },
  );
  expect(result.status === "Success" && result.tables[0]?.rows).toEqual([[1]]);
});
