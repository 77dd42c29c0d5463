/**
 * Log Analytics saved searches through @azure/arm-operationalinsights (which accepts only HTTP 200), and the
 * emulator's authentication as the SDKs' bearer-token policy sees it.
 */
import { OperationalInsightsManagementClient } from "@azure/arm-operationalinsights";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalTokenCredential } from "../emulator/credential.js";
import { type Emulator, startEmulator } from "../emulator/server.js";
import { type Clients, makeClients } from "./clients.js";

let emulator: Emulator;
let clients: Clients;
let rg: string;
let ws: string;

beforeAll(async () => {
  emulator = await startEmulator();
  clients = makeClients(emulator);
  rg = emulator.workspace.resourceGroup;
  ws = emulator.workspace.name;
});
afterAll(async () => {
  await emulator?.close();
});

const hunt = {
  category: "Hunting Queries",
  displayName: "Binary executed from shared memory",
  query: 'DeviceProcessEvents | where FolderPath startswith "/dev/shm/"',
  version: 2,
  tags: [
    { name: "description", value: "shmhunt" },
    { name: "tactics", value: "Execution" },
    { name: "techniques", value: "T1059" },
  ],
};

describe("saved searches", () => {
  it("creates, reads, lists, updates and deletes, always with HTTP 200", async () => {
    const { savedSearches } = clients.operationalInsights;
    const created = await savedSearches.createOrUpdate(rg, ws, "shmhunt-hunt-1", { ...hunt, etag: "*" });
    expect(created).toMatchObject({
      name: "shmhunt-hunt-1",
      type: "Microsoft.OperationalInsights/savedSearches",
      ...hunt,
    });
    expect(created.etag).toMatch(/^W\/"datetime'.+'"$/);
    expect(await savedSearches.get(rg, ws, "shmhunt-hunt-1")).toMatchObject(hunt);

    const updated = await savedSearches.createOrUpdate(rg, ws, "shmhunt-hunt-1", {
      ...hunt,
      displayName: "renamed",
      etag: created.etag,
    });
    expect(updated.displayName).toBe("renamed");

    const list = await savedSearches.listByWorkspace(rg, ws);
    expect(list.value?.map((s) => s.name)).toEqual(["shmhunt-hunt-1"]);

    await savedSearches.delete(rg, ws, "shmhunt-hunt-1");
    const statuses = emulator.requests.filter((r) => r.path.includes("/savedSearches")).map((r) => r.status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    await expect(savedSearches.get(rg, ws, "shmhunt-hunt-1")).rejects.toMatchObject({ statusCode: 404 });
  });

  it("stores a function alias, refuses a bad or duplicate alias, an update without etag, and a stale etag", async () => {
    const { savedSearches } = clients.operationalInsights;
    const parser = {
      category: "Parsers",
      displayName: "auditd parser",
      query: "Syslog | where ProcessName == 'auditd'",
      functionAlias: "ShmhuntAuditd",
      functionParameters: "",
    };
    const first = await savedSearches.createOrUpdate(rg, ws, "shmhunt-auditd", parser);
    expect(first.functionAlias).toBe("ShmhuntAuditd");
    expect(emulator.workspace.functions().map((f) => f.name)).toEqual(["ShmhuntAuditd"]);
    await expect(savedSearches.createOrUpdate(rg, ws, "other", parser)).rejects.toMatchObject({ statusCode: 409 });
    await expect(
      savedSearches.createOrUpdate(rg, ws, "bad-alias", { ...parser, functionAlias: "1-bad" }),
    ).rejects.toMatchObject({ statusCode: 400 });
    // SavedSearches.json (etag): "To override an existing saved search, use "*" or specify the current Etag"
    await expect(savedSearches.createOrUpdate(rg, ws, "shmhunt-auditd", parser)).rejects.toMatchObject({
      statusCode: 409,
      code: "Conflict",
    });
    const second = await savedSearches.createOrUpdate(rg, ws, "shmhunt-auditd", { ...parser, etag: first.etag });
    await savedSearches.createOrUpdate(rg, ws, "shmhunt-auditd", { ...parser, etag: "*" });
    expect(second.etag).not.toBe(first.etag);
    await expect(
      savedSearches.createOrUpdate(rg, ws, "shmhunt-auditd", {
        ...parser,
        etag: "W/\"datetime'2000-01-01T00%3A00%3A00.000Z'\"",
      }),
    ).rejects.toMatchObject({ statusCode: 409 });
  });
});

describe("authentication", () => {
  it("asks the credential for the scope of the endpoint it was given", async () => {
    await clients.operationalInsights.savedSearches.listByWorkspace(rg, ws);
    expect(emulator.credential.requestedScopes).toContainEqual([`${emulator.url}/.default`]);
  });

  it("answers 401 to a token the emulator did not sign", async () => {
    const stranger = new OperationalInsightsManagementClient(
      new LocalTokenCredential({ key: "not-the-emulator-key" }),
      emulator.workspace.subscriptionId,
      { ...emulator.armClientOptions(), retryOptions: { maxRetries: 0 } },
    );
    await expect(stranger.savedSearches.listByWorkspace(rg, ws)).rejects.toMatchObject({
      statusCode: 401,
      code: "InvalidAuthenticationToken",
    });
  });

  it("answers 401 to a token for another audience", async () => {
    const wrongAudience = new OperationalInsightsManagementClient(
      emulator.credential,
      emulator.workspace.subscriptionId,
      {
        ...emulator.armClientOptions(),
        credentialScopes: ["https://graph.microsoft.com/.default"],
        retryOptions: { maxRetries: 0 },
      },
    );
    await expect(wrongAudience.savedSearches.listByWorkspace(rg, ws)).rejects.toMatchObject({
      statusCode: 401,
      code: "InvalidAuthenticationTokenAudience",
    });
  });

  it("is refused by a client that does not trust the emulator's certificate", async () => {
    const untrusting = new OperationalInsightsManagementClient(emulator.credential, emulator.workspace.subscriptionId, {
      endpoint: emulator.url,
      retryOptions: { maxRetries: 0 },
    });
    await expect(untrusting.savedSearches.listByWorkspace(rg, ws)).rejects.toThrow(/self-signed|certificate/i);
  });
});
