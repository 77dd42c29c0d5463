/**
 * Microsoft.SecurityInsights through @azure/arm-securityinsight against the emulator: create (201), update (200),
 * get, list (with nextLink paging), delete (200, then 204), etags, and the service's validation errors.
 */
import type { ScheduledAlertRule } from "@azure/arm-securityinsight";
import type { RestError } from "@azure/core-rest-pipeline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator/server.js";
import { type Clients, makeClients } from "./clients.js";
import { all, scheduledRule, seedSyslog } from "./fixtures.js";

let emulator: Emulator;
let clients: Clients;
let rg: string;
let ws: string;

beforeAll(async () => {
  emulator = await startEmulator({ pageSize: 2 });
  clients = makeClients(emulator);
  rg = emulator.workspace.resourceGroup;
  ws = emulator.workspace.name;
  seedSyslog(emulator.workspace);
});
afterAll(async () => {
  await emulator?.close();
});

/** The RestError an SDK call rejects with. */
async function failure(promise: Promise<unknown>): Promise<RestError & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as RestError & { code?: string };
  }
  throw new Error("expected the call to fail");
}

function statusesOf(method: string, pathPart: string): number[] {
  return emulator.requests.filter((r) => r.method === method && r.path.includes(pathPart)).map((r) => r.status);
}

describe("alert rules (Scheduled)", () => {
  it("creates (201), reads, updates (200) with a new etag, lists with paging, and deletes (200 then 204)", async () => {
    const { sentinel } = clients;
    const created = await sentinel.alertRules.createOrUpdate(rg, ws, "rule-a", scheduledRule());
    expect(created.kind).toBe("Scheduled");
    expect(created.etag).toMatch(/^"[0-9a-f]{8}-0000-0000-0000-[0-9a-f]{12}"$/);
    expect(created.id).toBe(`${emulator.workspace.resourceId}/providers/Microsoft.SecurityInsights/alertRules/rule-a`);
    expect(statusesOf("PUT", "alertRules/rule-a")).toEqual([201]);

    const read = await sentinel.alertRules.get(rg, ws, "rule-a");
    expect(read).toMatchObject({
      kind: "Scheduled",
      query: 'Syslog | where SyslogMessage has "shm"',
      severity: "High",
    });
    expect((read as { lastModifiedUtc?: Date }).lastModifiedUtc).toBeInstanceOf(Date);

    const updated = await sentinel.alertRules.createOrUpdate(
      rg,
      ws,
      "rule-a",
      scheduledRule({ severity: "Medium", etag: created.etag }),
    );
    expect(statusesOf("PUT", "alertRules/rule-a")).toEqual([201, 200]);
    expect(updated.etag).not.toBe(created.etag);
    expect((updated as { severity?: string }).severity).toBe("Medium");

    await sentinel.alertRules.createOrUpdate(rg, ws, "rule-b", scheduledRule());
    await sentinel.alertRules.createOrUpdate(rg, ws, "rule-c", scheduledRule());
    const listed = await all(sentinel.alertRules.list(rg, ws));
    expect(listed.map((r) => r.name)).toEqual(["rule-a", "rule-b", "rule-c"]);
    // pageSize 2: the SDK followed the nextLink of the first page
    const listCalls = emulator.requests.filter((r) => r.method === "GET" && r.path.endsWith("/alertRules"));
    expect(listCalls.map((r) => new URLSearchParams(r.query).get("$skipToken"))).toEqual([null, "2"]);

    await sentinel.alertRules.delete(rg, ws, "rule-b");
    await sentinel.alertRules.delete(rg, ws, "rule-b");
    expect(statusesOf("DELETE", "alertRules/rule-b")).toEqual([200, 204]);
    const gone = await failure(sentinel.alertRules.get(rg, ws, "rule-b"));
    expect(gone.statusCode).toBe(404);
    expect(gone.code).toBe("NotFound");
  });

  it("refuses a stale body etag (409) and a failed If-Match (412)", async () => {
    const { sentinel } = clients;
    const first = await sentinel.alertRules.createOrUpdate(rg, ws, "rule-etag", scheduledRule());
    await sentinel.alertRules.createOrUpdate(rg, ws, "rule-etag", scheduledRule({ etag: first.etag }));
    const stale = await failure(
      sentinel.alertRules.createOrUpdate(rg, ws, "rule-etag", scheduledRule({ etag: first.etag })),
    );
    expect(stale.statusCode).toBe(409);
    const precondition = await failure(
      sentinel.alertRules.createOrUpdate(rg, ws, "rule-etag", scheduledRule(), {
        requestOptions: { customHeaders: { "If-Match": first.etag ?? "" } },
      }),
    );
    expect(precondition.statusCode).toBe(412);
    expect(precondition.code).toBe("PreconditionFailed");
  });

  it.each([
    [{ techniques: ["T1071.001"] }, "The technique 'T1071.001' is invalid. The expected format is 'T####'"],
    [
      { tactics: ["Persistence"], techniques: ["T1059"] },
      "No valid tactic corresponding to the technique T1059 was provided in the tactics field",
    ],
    [{ tactics: ["Execution", "Hacking"] }, "Error converting value 'Hacking' for 'tactics'"],
    [{ severity: "Critical" }, "Error converting value 'Critical' for 'severity'"],
    [{ queryFrequency: "PT1M" }, "Property 'queryFrequency' value 'PT1M' must be between PT5M and P14D"],
    [{ queryFrequency: "PT1H", queryPeriod: "PT30M" }, "must be greater than or equal to the query frequency"],
    // Azure-Sentinel's ARM model validation, FrequencyLimitationForLongPeriodQuery
    [{ queryFrequency: "PT30M", queryPeriod: "P2D" }, "When 'queryPeriod' greater than or equal to 2 days"],
    [{ triggerThreshold: -1 }, "triggerThreshold"],
    [{ displayName: "" }, "Property 'displayName' must not be empty"],
    [{ query: "Heartbeat | take 1" }, "One of the tables does not exist"],
    [{ query: "Syslog | where NoSuchColumn == 1" }, "SEM0100"],
    [{ query: "Syslog | where (" }, "SYN0002"],
    // learn.microsoft.com/azure/sentinel/create-analytics-rules: 1 to 10,000 characters, no `search *` / `union *`
    [{ query: `Syslog | where SyslogMessage != "${"x".repeat(10_000)}"` }, "between 1 and 10000 characters"],
    [{ query: "search * | take 1" }, "cannot contain 'search *'"],
    [{ query: "union withsource=T * | take 1" }, "cannot contain 'union *'"],
    // AlertTypes.json AttackTactic: CommandAndControl (the spelling ATT&CK's "Command and Control" loses)
    [{ tactics: ["CommandandControl"] }, "Error converting value 'CommandandControl' for 'tactics'"],
    // map-data-fields-to-entities: at most 10 entity mappings, up to 3 identifiers per entity
    [
      {
        entityMappings: Array.from({ length: 11 }, () => ({
          entityType: "Host",
          fieldMappings: [{ identifier: "HostName", columnName: "Computer" }],
        })),
      },
      "At most 10 entity mappings",
    ],
    [
      {
        entityMappings: [
          {
            entityType: "Account",
            fieldMappings: ["Name", "NTDomain", "Sid", "AadUserId"].map((identifier) => ({
              identifier,
              columnName: "Computer",
            })),
          },
        ],
      },
      "At most 3 field mappings",
    ],
  ] as const)("answers 400 BadRequest for %j", async (override, message) => {
    const error = await failure(
      clients.sentinel.alertRules.createOrUpdate(
        rg,
        ws,
        "rule-bad",
        scheduledRule(override as Partial<ScheduledAlertRule>),
      ),
    );
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe("BadRequest");
    expect(error.message).toContain(message);
    await expect(clients.sentinel.alertRules.get(rg, ws, "rule-bad")).rejects.toMatchObject({ statusCode: 404 });
  });

  it("checks the query against the workspace's own tables and functions", async () => {
    const { sentinel, operationalInsights } = clients;
    const query = "ShmAuditd | where Computer startswith 'web'";
    await expect(sentinel.alertRules.createOrUpdate(rg, ws, "rule-fn", scheduledRule({ query }))).rejects.toMatchObject(
      {
        statusCode: 400,
      },
    );
    await operationalInsights.savedSearches.createOrUpdate(rg, ws, "shm-auditd-parser", {
      category: "Parsers",
      displayName: "auditd parser",
      query: "Syslog | where ProcessName == 'auditd' | extend Record = SyslogMessage",
      functionAlias: "ShmAuditd",
    });
    const rule = await sentinel.alertRules.createOrUpdate(rg, ws, "rule-fn", scheduledRule({ query }));
    expect(rule.name).toBe("rule-fn");
  });

  it("refuses an entity identifier its entity type does not have", async () => {
    // learn.microsoft.com/azure/sentinel/entities-reference, "Entity types and identifiers": Host's identifiers are
    // DnsDomain, NTDomain, HostName, FullName, NetBiosName, AzureID, OMSAgentID, OSFamily, OSVersion, IsDomainJoined
    // (no Address, which is IP's); FileHash's are Algorithm and Value.
    const mapping = (entityType: string, identifier: string) =>
      scheduledRule({ entityMappings: [{ entityType, fieldMappings: [{ identifier, columnName: "Computer" }] }] });
    for (const [entityType, identifier] of [
      ["Host", "Address"],
      ["FileHash", "Name"],
      ["IP", "HostName"],
    ] as const) {
      const error = await failure(
        clients.sentinel.alertRules.createOrUpdate(rg, ws, "rule-ids", mapping(entityType, identifier)),
      );
      expect(error.statusCode, `${entityType}.${identifier}`).toBe(400);
      expect(error.message).toContain(`'${identifier}'`);
    }
    // Microsoft's own example (CreateScheduledAlertRule.json) spells Account's FullName "Fullname".
    const rule = await clients.sentinel.alertRules.createOrUpdate(rg, ws, "rule-ids", mapping("Account", "Fullname"));
    expect(rule.name).toBe("rule-ids");
    await clients.sentinel.alertRules.delete(rg, ws, "rule-ids");
  });

  it("refuses more than 20 custom details", async () => {
    // learn.microsoft.com/azure/sentinel/surface-custom-details-in-alerts, "Service limits": "You can define up to 20
    // custom details in a single analytics rule." (AlertRules.json's customDetails states no maxProperties.)
    const details = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`Detail${i}`, "Computer"]));
    const error = await failure(
      clients.sentinel.alertRules.createOrUpdate(rg, ws, "rule-details", scheduledRule({ customDetails: details(21) })),
    );
    expect(error.statusCode).toBe(400);
    expect(error.message).toContain("20 custom details");
    const rule = await clients.sentinel.alertRules.createOrUpdate(
      rg,
      ws,
      "rule-details",
      scheduledRule({ customDetails: details(20) }),
    );
    expect(Object.keys((rule as ScheduledAlertRule).customDetails ?? {})).toHaveLength(20);
    await clients.sentinel.alertRules.delete(rg, ws, "rule-details");
  });

  it("refuses a missing required property the SDK lets through", async () => {
    const body = scheduledRule();
    delete (body as { suppressionDuration?: string }).suppressionDuration;
    const error = await failure(clients.sentinel.alertRules.createOrUpdate(rg, ws, "rule-req", body));
    expect(error.statusCode).toBe(400);
    expect(error.message).toContain("Required property 'suppressionDuration' not found");
  });
});

describe("incidents, bookmarks and relations", () => {
  const incidentId = "6d7c1f4a-3e2b-4c8d-9a1f-0b2c3d4e5f60";
  const bookmarkId = "0f1e2d3c-4b5a-4968-8776-655443322110";

  it("creates an incident (201), keeps its number on update (200), lists and deletes it", async () => {
    const { sentinel } = clients;
    const created = await sentinel.incidents.createOrUpdate(rg, ws, incidentId, {
      title: "Binary executed from /dev/shm on web-01",
      severity: "High",
      status: "New",
      description: "evidence",
      labels: [{ labelName: "shmhunt" }],
    });
    expect(created.incidentNumber).toBeGreaterThan(0);
    expect(created.labels).toEqual([{ labelName: "shmhunt", labelType: "User" }]);
    expect(created.createdTimeUtc).toBeInstanceOf(Date);
    const updated = await sentinel.incidents.createOrUpdate(rg, ws, incidentId, {
      title: created.title,
      severity: "High",
      status: "Active",
      etag: created.etag,
      owner: { objectId: "2046feea-040d-4a46-9e2b-91c2941bfa70", assignedTo: "analyst" },
    });
    expect(statusesOf("PUT", `incidents/${incidentId}`)).toEqual([201, 200]);
    expect(updated.incidentNumber).toBe(created.incidentNumber);
    expect(updated.createdTimeUtc).toEqual(created.createdTimeUtc);
    expect(updated.owner?.assignedTo).toBe("analyst");

    const closing = await failure(
      sentinel.incidents.createOrUpdate(rg, ws, incidentId, { title: "t", severity: "High", status: "Closed" }),
    );
    expect(closing.statusCode).toBe(400);
    expect(closing.message).toContain("classification");
    const badStatus = await failure(
      sentinel.incidents.createOrUpdate(rg, ws, "7d7c1f4a-3e2b-4c8d-9a1f-0b2c3d4e5f60", {
        title: "t",
        severity: "High",
        status: "Open",
      }),
    );
    expect(badStatus.message).toContain("Error converting value 'Open' for 'status'");

    const listed = await all(sentinel.incidents.list(rg, ws));
    expect(listed.map((i) => i.name)).toContain(incidentId);
    const top = await all(sentinel.incidents.list(rg, ws, { top: 1 }));
    expect(top).toHaveLength(1);
    await sentinel.incidents.createOrUpdate(rg, ws, "8d7c1f4a-3e2b-4c8d-9a1f-0b2c3d4e5f60", {
      title: "A second incident",
      severity: "Low",
      status: "New",
    });
    const byNumber = await all(sentinel.incidents.list(rg, ws, { orderby: "properties/incidentNumber desc" }));
    expect(byNumber.map((i) => i.incidentNumber)).toEqual(
      [...byNumber.map((i) => i.incidentNumber)].sort((a, b) => (b ?? 0) - (a ?? 0)),
    );
    expect(byNumber[0]?.title).toBe("A second incident");
    await expect(
      all(sentinel.incidents.list(rg, ws, { filter: "properties/severity eq 'High'" })),
    ).rejects.toMatchObject({
      statusCode: 400,
    });
  });

  it("creates a bookmark, relates it to the incident, and both show the relation", async () => {
    const { sentinel } = clients;
    const bookmark = await sentinel.bookmarks.createOrUpdate(rg, ws, bookmarkId, {
      displayName: "hit on web-01",
      query: 'Syslog | where Computer == "web-01"',
      queryResult: JSON.stringify({ Computer: "web-01" }),
      labels: ["shmhunt"],
    });
    expect(bookmark.created).toBeInstanceOf(Date);
    expect(statusesOf("PUT", `bookmarks/${bookmarkId}`)).toEqual([201]);

    const relation = await sentinel.incidentRelations.createOrUpdate(rg, ws, incidentId, "rel-1", {
      relatedResourceId: bookmark.id ?? "",
    });
    expect(relation).toMatchObject({
      relatedResourceName: bookmarkId,
      relatedResourceType: "Microsoft.SecurityInsights/Bookmarks",
    });
    const relations = await all(sentinel.incidentRelations.list(rg, ws, incidentId));
    expect((await sentinel.incidentRelations.get(rg, ws, incidentId, "rel-1")).relatedResourceId).toBe(bookmark.id);
    expect(relations.map((r) => r.name)).toEqual(["rel-1"]);
    const withInfo = await sentinel.bookmarks.get(rg, ws, bookmarkId);
    expect(withInfo.incidentInfo).toMatchObject({ incidentId, relationName: "rel-1", severity: "High" });
    const incident = await sentinel.incidents.get(rg, ws, incidentId);
    expect(incident.additionalData?.bookmarksCount).toBe(1);

    const missing = await failure(
      sentinel.incidentRelations.createOrUpdate(rg, ws, incidentId, "rel-2", {
        relatedResourceId: `${emulator.workspace.resourceId}/providers/Microsoft.SecurityInsights/bookmarks/nope`,
      }),
    );
    expect(missing.statusCode).toBe(404);
    const noIncident = await failure(
      sentinel.incidentRelations.createOrUpdate(rg, ws, "no-such-incident", "rel-3", {
        relatedResourceId: bookmark.id ?? "",
      }),
    );
    expect(noIncident.statusCode).toBe(404);

    await sentinel.incidentRelations.delete(rg, ws, incidentId, "rel-1");
    expect((await sentinel.incidents.get(rg, ws, incidentId)).additionalData?.bookmarksCount).toBe(0);
    expect(await all(sentinel.bookmarks.list(rg, ws))).toHaveLength(1);
    await sentinel.bookmarks.delete(rg, ws, bookmarkId);
    await sentinel.incidents.delete(rg, ws, incidentId);
    await expect(sentinel.incidents.get(rg, ws, incidentId)).rejects.toMatchObject({ statusCode: 404 });
    await expect(sentinel.bookmarks.get(rg, ws, bookmarkId)).rejects.toMatchObject({ statusCode: 404 });
  });

  it("refuses a bookmark without a query", async () => {
    const error = await failure(
      clients.sentinel.bookmarks.createOrUpdate(rg, ws, "1f1e2d3c-4b5a-4968-8776-655443322110", { displayName: "x" }),
    );
    expect(error.statusCode).toBe(400);
    expect(error.message).toContain("Required property 'query' not found");
  });
});

describe("watchlists and items", () => {
  it("creates a watchlist from CSV, adds, lists and deletes items, and deletes the watchlist with its items", async () => {
    const { sentinel } = clients;
    const watchlist = await sentinel.watchlists.createOrUpdate(rg, ws, "shmhunt-exclusions", {
      displayName: "shmhunt exclusions",
      provider: "shmhunt",
      source: "exclusions.csv",
      itemsSearchKey: "ProcessName",
      contentType: "text/csv",
      numberOfLinesToSkip: 1,
      rawContent: '# benign shared-memory users\nProcessName,Reason\napt,package manager\n"postgres","mmap, heavy"',
    });
    expect(watchlist).toMatchObject({
      watchlistAlias: "shmhunt-exclusions",
      itemsSearchKey: "ProcessName",
      isDeleted: false,
    });
    expect(watchlist.watchlistId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await sentinel.watchlists.get(rg, ws, "shmhunt-exclusions")).toMatchObject({
      watchlistId: watchlist.watchlistId,
      provider: "shmhunt",
      etag: watchlist.etag,
    });
    let items = await all(sentinel.watchlistItems.list(rg, ws, "shmhunt-exclusions"));
    expect(items.map((i) => i.itemsKeyValue)).toEqual([
      { ProcessName: "apt", Reason: "package manager" },
      { ProcessName: "postgres", Reason: "mmap, heavy" },
    ]);

    const itemId = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
    const item = await sentinel.watchlistItems.createOrUpdate(rg, ws, "shmhunt-exclusions", itemId, {
      itemsKeyValue: { ProcessName: "dockerd", Reason: "containers" },
    });
    expect(item).toMatchObject({ watchlistItemId: itemId, watchlistItemType: "watchlist-item" });
    expect(statusesOf("PUT", `watchlistItems/${itemId}`)).toEqual([201]);
    expect((await sentinel.watchlistItems.get(rg, ws, "shmhunt-exclusions", itemId)).itemsKeyValue).toEqual({
      ProcessName: "dockerd",
      Reason: "containers",
    });
    items = await all(sentinel.watchlistItems.list(rg, ws, "shmhunt-exclusions"));
    expect(items).toHaveLength(3);

    const noKey = await failure(
      sentinel.watchlistItems.createOrUpdate(rg, ws, "shmhunt-exclusions", "b1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", {
        itemsKeyValue: { Reason: "no search key" },
      }),
    );
    expect(noKey.statusCode).toBe(400);
    const notGuid = await failure(
      sentinel.watchlistItems.createOrUpdate(rg, ws, "shmhunt-exclusions", "item-1", {
        itemsKeyValue: { ProcessName: "x" },
      }),
    );
    expect(notGuid.message).toContain("not a valid GUID");

    await sentinel.watchlistItems.delete(rg, ws, "shmhunt-exclusions", itemId);
    expect(await all(sentinel.watchlistItems.list(rg, ws, "shmhunt-exclusions"))).toHaveLength(2);
    expect((await all(sentinel.watchlists.list(rg, ws))).map((w) => w.name)).toEqual(["shmhunt-exclusions"]);
    await sentinel.watchlists.delete(rg, ws, "shmhunt-exclusions");
    await expect(sentinel.watchlists.get(rg, ws, "shmhunt-exclusions")).rejects.toMatchObject({ statusCode: 404 });
    await expect(all(sentinel.watchlistItems.list(rg, ws, "shmhunt-exclusions"))).rejects.toMatchObject({
      statusCode: 404,
    });
  });

  it("refuses content whose header lacks the search key", async () => {
    const error = await failure(
      clients.sentinel.watchlists.createOrUpdate(rg, ws, "bad-watchlist", {
        displayName: "bad",
        provider: "shmhunt",
        source: "bad.csv",
        itemsSearchKey: "Missing",
        contentType: "text/csv",
        rawContent: "A,B\n1,2",
      }),
    );
    expect(error.statusCode).toBe(400);
    expect(error.message).toContain("'Missing'");
  });

  it("refuses an alias or name outside 3 to 64 characters or not starting and ending alphanumeric", async () => {
    // learn.microsoft.com/azure/sentinel/watchlists, "Limitations of watchlists": "the watchlist name and alias must
    // each be between 3 and 64 characters. The first and last characters must be alphanumeric. But you can include
    // whitespaces, hyphens, and underscores in between the first and last characters."
    const body = (displayName: string) => ({ displayName, provider: "shmhunt", itemsSearchKey: "Value" });
    for (const alias of ["ab", "shm_", "-shm", `s${"a".repeat(64)}`]) {
      const error = await failure(clients.sentinel.watchlists.createOrUpdate(rg, ws, alias, body("Good name")));
      expect(error.statusCode, alias).toBe(400);
      expect(error.message, alias).toContain("alias");
    }
    for (const displayName of ["ab", "name_", " name"]) {
      const error = await failure(clients.sentinel.watchlists.createOrUpdate(rg, ws, "good-alias", body(displayName)));
      expect(error.statusCode, displayName).toBe(400);
      expect(error.message, displayName).toContain("name");
    }
    const ok = await clients.sentinel.watchlists.createOrUpdate(rg, ws, "a_b-1", body("A name - with_spaces 1"));
    expect(ok.watchlistAlias).toBe("a_b-1");
    await clients.sentinel.watchlists.delete(rg, ws, "a_b-1");
  });
});

describe("metadata", () => {
  it("creates (201), reads, patches, lists and deletes content metadata", async () => {
    const { sentinel } = clients;
    const parentId = `${emulator.workspace.resourceId}/savedSearches/hunt1`;
    const created = await sentinel.metadata.create(rg, ws, "huntingquery-hunt1", {
      contentId: "hunt1",
      parentId,
      version: "1.0.0",
      kind: "HuntingQuery",
      source: { kind: "SourceRepository", name: "shmhunt" },
      author: { name: "shmhunt" },
      support: { tier: "Community" },
    });
    expect(created).toMatchObject({ kind: "HuntingQuery", parentId, contentId: "hunt1" });
    expect(statusesOf("PUT", "metadata/huntingquery-hunt1")).toEqual([201]);
    expect(await sentinel.metadata.get(rg, ws, "huntingquery-hunt1")).toMatchObject({
      contentId: "hunt1",
      etag: created.etag,
    });
    const patched = await sentinel.metadata.update(rg, ws, "huntingquery-hunt1", { version: "1.0.1" });
    expect(patched).toMatchObject({ version: "1.0.1", kind: "HuntingQuery", parentId });
    expect((await all(sentinel.metadata.list(rg, ws))).map((m) => m.name)).toEqual(["huntingquery-hunt1"]);
    const badTier = await failure(
      sentinel.metadata.create(rg, ws, "bad", { parentId, kind: "HuntingQuery", support: { tier: "Gold" } }),
    );
    expect(badTier.statusCode).toBe(400);
    const badKind = await failure(sentinel.metadata.create(rg, ws, "bad", { parentId, kind: "Query" }));
    expect(badKind.message).toContain("Error converting value 'Query' for 'kind'");
    await sentinel.metadata.delete(rg, ws, "huntingquery-hunt1");
    await expect(sentinel.metadata.get(rg, ws, "huntingquery-hunt1")).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe("ARM envelope", () => {
  it("answers 404 ResourceNotFound for a workspace that does not exist", async () => {
    const error = await failure(all(clients.sentinel.alertRules.list(rg, "no-such-workspace")));
    expect(error.statusCode).toBe(404);
    expect(error.code).toBe("ResourceNotFound");
  });
});
