/**
 * Every official example (Azure REST API specs, `../shared/reference/azure-specs`) of the resources the emulator
 * serves runs through it over HTTPS as a raw request: the example's path parameters, api-version and body. The
 * emulator must answer one of the statuses the example lists, with a body that matches the spec's response schema
 * for that status (the oracle is Microsoft's spec, not the emulator). Resources an example's path needs (the
 * incident a comment belongs to, the rule a GET reads) are first created with the body of the same api-version's
 * create example.
 */
import { readFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "./server.js";
import { SPEC_ROOT, SPEC_VERSIONS, type SpecVersion } from "./spec/files.js";
import {
  findOperation,
  operationsOfVersion,
  type SpecOperation,
  validateRequestBody,
  validateResponseBody,
} from "./spec/validator.js";

type Json = Record<string, unknown>;
interface Example {
  readonly parameters: Json;
  readonly responses: Record<string, { body?: unknown }>;
}

const RELATION_TYPO =
  "the 2022-09-01-preview relation example's relatedResourceId names the provider 'Microsoft.OperationalIinsights' " +
  "(sic), so it is not a bookmark of the workspace; the emulator refuses it (400) and the get/list/delete examples " +
  "have no relation to read (the 2025-12-01 examples, spelled right, run)";

/** Examples the emulator does not serve, and why (relative to SPEC_ROOT, from the example file's path). */
const NOT_SERVED: Readonly<Record<string, string>> = {
  "preview/2022-09-01-preview/examples/watchlists/CreateWatchlistAndWatchlistItems.json":
    "the example sends sourceType 'Local file', which the archived 2022-09-01-preview Watchlists.json (commit " +
    "da3b89e4) no longer allows (enum Local, AzureStorage): the example and its swagger disagree, the spec wins",
  "preview/2022-09-01-preview/examples/incidents/relations/CreateIncidentRelation.json": RELATION_TYPO,
  "preview/2022-09-01-preview/examples/incidents/relations/GetIncidentRelationByName.json": RELATION_TYPO,
  "preview/2022-09-01-preview/examples/incidents/relations/GetAllIncidentRelations.json": RELATION_TYPO,
  "preview/2022-09-01-preview/examples/incidents/relations/DeleteIncidentRelation.json": RELATION_TYPO,
  "examples/watchlists/CreateWatchlistItem.json":
    "the item's itemsKeyValue lacks 'header1', the search key of the watchlist the create example makes; the " +
    "emulator requires an item to carry its watchlist's search key (docs/emulator.md, not in the spec)",
  "v1/examples/la-get-cross-workspace-example.json": "cross-workspace queries ('workspaces') are not emulated",
  "v1/examples/metadata-get.json": "the workspace metadata API is not emulated",
};

const EXTRA_EXAMPLES: readonly { operationId: string; file: string }[] = [
  // SOURCES.md: kept as the POST /query sample that earlier v1 swaggers reference (the current one names
  // la-post-example.json, which is not archived)
  {
    operationId: "Query_Execute",
    file: "operationalinsights/data-plane/Microsoft.OperationalInsights/stable/v1/examples/oms-post-example.json",
  },
];

function notServed(file: string): string | undefined {
  const key = Object.keys(NOT_SERVED).find((k) => file.endsWith(k));
  return key === undefined ? undefined : NOT_SERVED[key];
}

interface Case {
  readonly version: SpecVersion;
  readonly op: SpecOperation;
  readonly title: string;
  readonly file: string;
}

const cases: Case[] = SPEC_VERSIONS.flatMap((version) => {
  const ops = operationsOfVersion(version);
  const listed = ops.flatMap((op) =>
    Object.entries(op.examples).map(([title, file]) => ({ version, op, title, file })),
  );
  const extra = EXTRA_EXAMPLES.flatMap(({ operationId, file }) => {
    const op = ops.find((o) => o.operationId === operationId);
    return op ? [{ version, op, title: path.basename(file), file: path.join(SPEC_ROOT, file) }] : [];
  });
  return [...listed, ...extra];
});

let emulator: Emulator;
let armToken = "";
let logsToken = "";

beforeAll(async () => {
  emulator = await startEmulator({ defaultWorkspace: false });
  armToken = (await emulator.credential.getToken(`${emulator.url}/.default`))?.token ?? "";
  logsToken = (await emulator.credential.getToken("https://api.loganalytics.io/.default"))?.token ?? "";
}, 60_000);
afterAll(async () => {
  await emulator?.close();
});

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

function send(method: string, target: string, body: unknown, logs: boolean): Promise<Answer> {
  const url = new URL(target, emulator.url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method,
        ca: emulator.ca,
        headers: {
          authorization: `Bearer ${logs ? logsToken : armToken}`,
          ...(payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, body: text === "" ? undefined : (JSON.parse(text) as unknown) });
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** The concrete path of a template with the example's parameters (path parameters only). */
function fill(template: string, parameters: Json): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(String(parameters[name] ?? "")));
}

function withApiVersion(target: string, op: SpecOperation, parameters: Json): string {
  if (op.version.provider === "LogAnalytics") return target;
  return `${target}?api-version=${encodeURIComponent(String(parameters["api-version"] ?? op.version.apiVersion))}`;
}

function readExample(file: string): Example {
  return JSON.parse(readFileSync(file, "utf8")) as Example;
}

/** The request body of the first create example of the PUT operation at `template` (same api-version). */
function createBody(version: SpecVersion, template: string): unknown {
  const put = operationsOfVersion(version).find((o) => o.method === "PUT" && o.template === template);
  if (!put?.bodyParameter) return undefined;
  for (const file of Object.values(put.examples)) {
    if (notServed(file)) continue;
    const body = readExample(file).parameters[put.bodyParameter.name];
    if (body !== undefined) return body;
  }
  return undefined;
}

/** Creates, with create examples' bodies, every resource the example's path names and needs to exist. */
async function prepare(c: Case, example: Example): Promise<void> {
  const p = example.parameters;
  if (c.version.provider === "LogAnalytics") {
    for (const id of workspaceIds(example)) {
      const ws = emulator.state.findByLogsId(id) ?? emulator.state.addWorkspace(logsWorkspace(id));
      // Usage and AppRequests are Azure Monitor tables (columns from schemas/); the examples read them
      if (!ws.tables.has("Usage")) ws.seedTable("Usage", []);
      if (!ws.tables.has("AppRequests")) ws.seedTable("AppRequests", []);
    }
    return;
  }
  const address = {
    subscriptionId: String(p.subscriptionId),
    resourceGroup: String(p.resourceGroupName),
    name: String(p.workspaceName),
  };
  const workspace = emulator.state.find(address) ?? emulator.state.addWorkspace(address);
  // the create examples' rule queries read Heartbeat and SecurityEvent (Azure Monitor tables, schemas/)
  for (const table of ["Heartbeat", "SecurityEvent"]) if (!workspace.tables.has(table)) workspace.seedTable(table, []);
  const parts = c.op.template.split("/");
  const workspaceAt = parts.indexOf("{workspaceName}");
  const ownLevel = c.op.method === "PUT" ? parts.length - 1 : parts.length;
  for (let end = workspaceAt + 3; end <= parts.length; end++) {
    const last = parts[end - 1] ?? "";
    if (!/^\{.+\}$/.test(last) || end > ownLevel) continue;
    const template = parts.slice(0, end).join("/");
    const body = createBody(c.version, template);
    if (body === undefined) continue;
    const target = withApiVersion(fill(template, p), c.op, p);
    const existing = await send("GET", target, undefined, false);
    if (existing.status === 200) continue;
    const made = await send("PUT", target, body, false);
    expect(made.status, `creating ${template}: ${JSON.stringify(made.body)}`).toBeLessThan(300);
  }
  // a create example may carry an etag (optimistic concurrency), so its resource must not exist yet
  if (c.op.method === "PUT") await send("DELETE", withApiVersion(fill(c.op.template, p), c.op, p), undefined, false);
  // a list answers with one item at least, so the item schema is checked too
  const listed = c.op.method === "GET" && !c.op.template.endsWith("}");
  const empty = async () => {
    const list = (await send("GET", withApiVersion(fill(c.op.template, p), c.op, p), undefined, false)).body;
    const items = Array.isArray(list) ? list : ((list as { value?: unknown[] } | undefined)?.value ?? []);
    return items.length === 0;
  };
  if (listed && (await empty())) {
    const template = operationsOfVersion(c.version).find(
      (o) =>
        o.method === "PUT" &&
        o.template.startsWith(`${c.op.template}/{`) &&
        o.template.split("/").length === parts.length + 1,
    )?.template;
    if (template) {
      const body = createBody(c.version, template);
      const target = withApiVersion(`${fill(c.op.template, p)}/example-item`, c.op, p);
      if (body !== undefined && (await send("GET", target, undefined, false)).status !== 200) {
        const made = await send("PUT", target, body, false);
        expect(made.status, `creating a list item: ${JSON.stringify(made.body)}`).toBeLessThan(300);
      }
    }
  }
}

function workspaceIds(example: Example): string[] {
  const p = example.parameters;
  const ids = [p.workspaceId];
  const requests = (p.body as { requests?: { workspace?: unknown }[] } | undefined)?.requests ?? [];
  for (const r of requests) ids.push(r.workspace);
  return [...new Set(ids.filter((id): id is string => typeof id === "string"))];
}

function logsWorkspace(customerId: string) {
  return {
    subscriptionId: "00000000-0000-0000-0000-00000000e0e0",
    resourceGroup: "rg-examples",
    name: customerId,
    customerId,
  };
}

describe("official examples through the emulator", () => {
  it("finds the archived examples of every api-version", () => {
    const byVersion = new Map<string, number>();
    for (const c of cases) byVersion.set(c.version.apiVersion, (byVersion.get(c.version.apiVersion) ?? 0) + 1);
    // counted from the archive (SOURCES.md lists each example file)
    expect(Object.fromEntries(byVersion)).toEqual({
      "2022-09-01-preview": 26,
      "2025-12-01": 20,
      "2020-08-01": 4,
      "2025-07-01": 4,
      v1: 5,
    });
  });

  for (const c of cases) {
    const name = `${c.version.apiVersion} ${c.op.operationId}: ${path.relative(SPEC_ROOT, c.file)}`;
    const reason = notServed(c.file);
    if (reason) {
      it.skip(`${name} (not served: ${reason})`, () => {});
      continue;
    }
    it(name, async () => {
      const example = readExample(c.file);
      await prepare(c, example);
      const p = example.parameters;
      let target = withApiVersion(fill(c.op.template, p), c.op, p);
      let body = c.op.bodyParameter ? p[c.op.bodyParameter.name] : undefined;
      if (c.op.method === "GET" && c.version.provider === "LogAnalytics") {
        target += `?query=${encodeURIComponent(String(p.query))}&timespan=${encodeURIComponent(String(p.timespan ?? ""))}`;
        body = undefined;
      }
      // the example's own request is valid by its spec (else the example belongs in NOT_SERVED)
      expect(validateRequestBody(c.op, body).errors).toEqual([]);
      const answer = await send(c.op.method, target, body, c.version.provider === "LogAnalytics");
      expect(Object.keys(example.responses), JSON.stringify(answer.body)).toContain(String(answer.status));
      expect(validateResponseBody(c.op, answer.status, answer.body).errors).toEqual([]);
      const expected = example.responses[String(answer.status)]?.body as Json | undefined;
      if (expected && typeof expected === "object" && !Array.isArray(expected) && "kind" in expected) {
        expect((answer.body as Json).kind).toBe(expected.kind);
      }
    });
  }
});

describe("the spec judges requests", () => {
  const ruleUrl = (name: string, apiVersion = "2025-12-01") =>
    `/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg-judge/providers/Microsoft.OperationalInsights/workspaces/ws-judge/providers/Microsoft.SecurityInsights/alertRules/${name}?api-version=${apiVersion}`;
  const createExample = () =>
    readExample(
      path.join(
        SPEC_ROOT,
        `${"securityinsights/resource-manager/Microsoft.SecurityInsights"}/stable/2025-12-01/examples/alertRules/CreateScheduledAlertRule.json`,
      ),
    ).parameters.alertRule as { kind: string; etag?: string; properties: Json };
  const rule = (change: (body: { kind: string; properties: Json }) => void) => {
    const body = createExample();
    delete body.etag;
    change(body);
    return body;
  };

  beforeAll(() => {
    const ws = emulator.state.addWorkspace({
      subscriptionId: "00000000-0000-0000-0000-0000000000aa",
      resourceGroup: "rg-judge",
      name: "ws-judge",
    });
    ws.seedTable("Heartbeat", []);
  });

  it.each([
    [
      "an enum value the spec does not list",
      (b: { properties: Json }) => {
        b.properties.triggerOperator = "Above";
      },
      "Error converting value 'Above' for 'triggerOperator'",
    ],
    [
      "a duration that is not ISO 8601",
      (b: { properties: Json }) => {
        b.properties.queryPeriod = "two hours";
      },
      'properties.queryPeriod: must match format "duration"',
    ],
    [
      "a wrong type",
      (b: { properties: Json }) => {
        b.properties.enabled = "yes";
      },
      "properties.enabled: must be boolean",
    ],
    [
      "an unknown alert rule kind (discriminator)",
      (b: { kind: string }) => {
        b.kind = "Heuristic";
      },
      "Error converting value 'Heuristic' for 'kind'",
    ],
    [
      "an entity kind the spec does not list",
      (b: { properties: Json }) => {
        b.properties.entityMappings = [{ entityType: "Spaceship", fieldMappings: [] }];
      },
      "Error converting value 'Spaceship' for 'entityType'",
    ],
  ])("400 BadRequest for %s", async (_what, change, message) => {
    const answer = await send("PUT", ruleUrl("judged"), rule(change), false);
    expect(answer.status).toBe(400);
    const error = (answer.body as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("BadRequest");
    expect(error.message).toContain(message);
  });

  it("ignores readOnly properties in a request (lastModifiedUtc is the service's)", async () => {
    const answer = await send(
      "PUT",
      ruleUrl("read-only"),
      rule((b) => {
        b.properties.lastModifiedUtc = "not even a date";
      }),
      false,
    );
    expect(answer.status).toBe(201);
    const stored = (answer.body as { properties: Json }).properties.lastModifiedUtc;
    expect(stored).not.toBe("not even a date");
    expect(Number.isNaN(Date.parse(String(stored)))).toBe(false);
  });

  it("judges Log Analytics bodies by the v1 spec (QueryBody.query required, batch path enum)", async () => {
    const customerId = "0e6f3c1a-1111-4a4a-9b9b-000000000abc";
    emulator.state.addWorkspace({ ...logsWorkspace(customerId) }).seedTable("Usage", []);
    const noQuery = await send("POST", `/v1/workspaces/${customerId}/query`, { timespan: "PT1H" }, true);
    expect(noQuery.status).toBe(400);
    expect(JSON.stringify(noQuery.body)).toContain("Required property 'query' not found in JSON");
    const badPath = await send(
      "POST",
      "/v1/$batch",
      { requests: [{ id: "1", path: "/metadata", method: "POST", workspace: customerId, body: { query: "Usage" } }] },
      true,
    );
    expect(badPath.status).toBe(400);
    expect(JSON.stringify(badPath.body)).toContain("Error converting value '/metadata' for 'path'");
  });

  it("answers 400 NoRegisteredProviderFound for an api-version it has no spec of", async () => {
    const answer = await send("GET", ruleUrl("x", "2023-02-01"), undefined, false);
    expect(answer.status).toBe(400);
    expect((answer.body as { error: { code: string } }).error.code).toBe("NoRegisteredProviderFound");
  });

  it("answers 404 InvalidResourceType for bookmark relations under the stable api-version", async () => {
    const answer = await send(
      "GET",
      ruleUrl("x").replace("/alertRules/x", "/bookmarks/b1/relations"),
      undefined,
      false,
    );
    expect(answer.status).toBe(404);
    expect((answer.body as { error: { code: string } }).error.code).toBe("InvalidResourceType");
  });

  it("matches a request to its operation by api-version, case-insensitively", () => {
    const version = SPEC_VERSIONS.find((v) => v.apiVersion === "2025-12-01") as SpecVersion;
    const op = findOperation(
      version,
      "PUT",
      "/subscriptions/s/resourcegroups/rg/providers/microsoft.operationalinsights/workspaces/ws/providers/Microsoft.SecurityInsights/alertRules/r1",
    );
    expect(op?.operationId).toBe("AlertRules_CreateOrUpdate");
    // bookmark relations are not part of the stable API (SOURCES.md, note 2)
    const relation = findOperation(
      version,
      "PUT",
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws/providers/Microsoft.SecurityInsights/bookmarks/b/relations/x",
    );
    expect(relation).toBeUndefined();
  });
});
