/**
 * Log Analytics errors through @azure/monitor-query-logs: the 400 shapes for syntax and semantic errors (checked
 * with Kusto.Language against the workspace's tables), unknown workspace, bad timespan, and the emulator's paths.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator/server.js";
import { type Clients, makeClients } from "./clients.js";
import { seedSyslog } from "./fixtures.js";

let emulator: Emulator;
let clients: Clients;

beforeAll(async () => {
  // the rows seeded here (minutes old) stand for data already ingested: no ingestion delay (that is tested in
  // test/emulator/ingestion-delay.test.ts)
  emulator = await startEmulator({ ingestionDelayMs: 0 });
  clients = makeClients(emulator);
  seedSyslog(emulator.workspace);
});
afterAll(async () => {
  await emulator?.close();
});

const hour = { duration: "PT1H" };

describe("Logs query errors", () => {
  it("a syntax error is 400 BadArgumentError with SYN0002 and its position", async () => {
    const error = await clients.logs
      .queryWorkspace(emulator.workspace.customerId, "Syslog\n| where (", hour)
      .catch((e) => e);
    expect(error.statusCode).toBe(400);
    expect(error.details.error).toMatchObject({
      code: "BadArgumentError",
      message: "The request had some invalid properties",
      innererror: { code: "SyntaxError", innererror: { code: "SYN0002" } },
    });
    expect(error.details.error.innererror.innererror.message).toContain("on line [2,");
  });

  it("an unknown column is 400 with SEM0100, an unknown table too", async () => {
    const column = await clients.logs
      .queryWorkspace(emulator.workspace.customerId, "Syslog | where Nope == 1", hour)
      .catch((e) => e);
    expect(column.statusCode).toBe(400);
    expect(column.details.error.innererror).toMatchObject({ code: "SemanticError", innererror: { code: "SEM0100" } });
    expect(column.details.error.innererror.innererror.message).toContain("Nope");
    const table = await clients.logs
      .queryWorkspace(emulator.workspace.customerId, "DeviceProcessEvents | take 1", hour)
      .catch((e) => e);
    expect(table.statusCode).toBe(400);
    expect(table.details.error.innererror.innererror.message).toContain("DeviceProcessEvents");
  });

  it("an unknown workspace is 404 WorkspaceNotFoundError", async () => {
    const error = await clients.logs
      .queryWorkspace("00000000-1111-2222-3333-444444444444", "Syslog", hour)
      .catch((e) => e);
    expect(error.statusCode).toBe(404);
    expect(error.details.error.code).toBe("WorkspaceNotFoundError");
  });

  it("a timespan that is not ISO 8601 is 400", async () => {
    const error = await clients.logs
      .queryWorkspace(emulator.workspace.customerId, "Syslog", { duration: "1 hour" })
      .catch((e) => e);
    expect(error.statusCode).toBe(400);
    expect(error.details.error.innererror.code).toBe("InvalidTimespan");
  });

  it("an operator the local engine does not run is a 400 naming it, never a wrong answer", async () => {
    const error = await clients.logs
      .queryWorkspace(emulator.workspace.customerId, "Syslog | make-series n = count() on TimeGenerated step 1h", hour)
      .catch((e) => e);
    expect(error.statusCode).toBe(400);
    expect(error.details.error.innererror.code).toBe("NotSupported");
    expect(error.details.error.innererror.innererror.message).toBe(
      "not supported by the local workspace engine: operator make-series (MakeSeriesOperator) on line [1,10]",
    );
  });

  it("asks for the Log Analytics scope", () => {
    expect(emulator.credential.requestedScopes).toContainEqual(["https://api.loganalytics.io/.default"]);
  });
});
