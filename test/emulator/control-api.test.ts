/** The emulator's HTTP control routes (used with `npm run emulator`), over HTTPS with the emulator's CA. */
import { request } from "node:https";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Emulator, startEmulator } from "./server.js";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator?.close();
});

function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${emulator.url}${path}`,
      { method, ca: emulator.ca, headers: body === undefined ? {} : { "content-type": "application/json" } },
      (res) => {
        let text = "";
        res.on("data", (chunk) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

it("arms, lists and clears faults, and seeds rows", async () => {
  expect((await call("POST", "/_emulator/faults", { kind: "throttle", api: "logs", count: null })).status).toBe(204);
  expect((await call("POST", "/_emulator/faults", { kind: "explode" })).status).toBe(400);
  expect(emulator.faults.pending()).toEqual([
    { fault: { kind: "throttle", api: "logs", count: Number.POSITIVE_INFINITY }, remaining: Number.POSITIVE_INFINITY },
  ]);
  expect((await call("DELETE", "/_emulator/faults")).status).toBe(204);
  expect(emulator.faults.pending()).toEqual([]);

  const seeded = await call("POST", `/_emulator/workspaces/${emulator.workspace.customerId}/tables/Syslog`, [
    { TimeGenerated: "2026-01-01T00:00:00Z", Computer: "a" },
  ]);
  expect(seeded).toEqual({ status: 200, json: { name: "Syslog", rows: 1 } });
  expect(emulator.workspace.table("Syslog")?.columns.some((c) => c.name === "SyslogMessage")).toBe(true);
  const listed = await call("GET", "/_emulator/workspaces");
  expect(listed.json).toEqual([
    {
      resourceId: emulator.workspace.resourceId,
      customerId: emulator.workspace.customerId,
      tables: [{ name: "Syslog", rows: 1 }],
    },
  ]);
});

it("answers ARM and Logs routes only with a bearer token", async () => {
  const arm = await call("GET", `${emulator.workspace.resourceId}/savedSearches?api-version=2020-08-01`);
  expect(arm).toEqual({
    status: 401,
    json: {
      error: { code: "AuthenticationFailed", message: "Authentication failed. The 'Authorization' header is missing." },
    },
  });
  const logs = await call("POST", `/v1/workspaces/${emulator.workspace.customerId}/query`, { query: "Syslog" });
  expect(logs.status).toBe(401);
  expect(logs.json).toMatchObject({ error: { code: "AuthorizationRequiredError" } });
});

it("adds a Defender device and a file on it, and brings the device online", async () => {
  const added = await call("POST", "/_emulator/defender/machines", {
    computerDnsName: "ctl-01.contoso.com",
    online: false,
  });
  expect(added.status).toBe(200);
  const id = (added.json as { id: string }).id;
  expect(emulator.defender.machine(id).online).toBe(false);
  const file = await call("POST", `/_emulator/defender/machines/${id}/files`, {
    path: "/tmp/a",
    contentBase64: Buffer.from("abc").toString("base64"),
  });
  expect(file.status).toBe(200);
  expect(emulator.defender.deviceFile(id, "/tmp/a")).toEqual({ content: Buffer.from("abc") });
  expect((await call("POST", `/_emulator/defender/machines/${id}/online`, { online: true })).status).toBe(200);
  expect(emulator.defender.machine(id).healthStatus).toBe("Active");
  expect((await call("POST", "/_emulator/defender/machines", { online: true })).status).toBe(400);
  expect((await call("POST", "/_emulator/defender/machines/nope/online", { online: true })).status).toBe(400);
});
