import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/app/config.js";
import { startServer } from "../../src/server/start.js";
import { HeldQueries } from "../support/held-queries.js";
import { plan } from "../support/hunt-fixtures.js";

const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-shutdown-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("graceful shutdown", () => {
  it("finishes the hunt and the request in flight, then closes; the schedule runs in process", async () => {
    const queries = new HeldQueries();
    const config = loadConfig({
      SHMHUNT_DATA_DIR: dir,
      SHMHUNT_PORT: "0",
      SHMHUNT_HUNT_TICK: "1s",
      SHMHUNT_LOG_LEVEL: "silent",
    });
    const server = await startServer(config, { overrides: { queries, plans: async () => [plan()], scanner: null } });
    // The schedule's first tick runs right away; its query is held until after the close has begun.
    await queries.running;
    const arrived = once(server.app.server, "request");
    const request = fetch(`${server.url}/hunt/run`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ force: true }),
    });
    await arrived;
    const closed = server.close();
    queries.letGo();
    const response = await request;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { runs: unknown[] }).runs[0]).toMatchObject({
      status: "completed",
      counts: { rows: 1 },
    });
    await closed;
    expect(queries.calls).toBe(2);
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();
    // Closing again is harmless.
    await server.close();
  });
});
