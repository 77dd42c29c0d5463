// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${…}` here is Bicep interpolation syntax, the test data.
/**
 * infra/content/content.bicep against `shmhunt deploy`: the generated Bicep is read back with tree-sitter-bicep
 * (CST → resource type, name, id and body as JSON, Bicep's own string rules) and compared with the requests the
 * real Azure SDK clients send when the deploy adapter applies the same desired content (the SDK's serializer does
 * the wire conversion; a recording HTTP client stands in for Azure). Also: Bicep string escaping on adversarial
 * text, dependency order, determinism, and that the checked-in file is what the rules generate.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { OperationalInsightsManagementClient } from "@azure/arm-operationalinsights";
import { SecurityInsights } from "@azure/arm-securityinsight";
import type { TokenCredential } from "@azure/core-auth";
import { createHttpHeaders, createPipelineRequest, type HttpClient } from "@azure/core-rest-pipeline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentBicepFile, desiredFromRules, repoRoot, staleDeclarations } from "../../scripts/content-bicep.js";
import { type ContentClients, SentinelContentClient } from "../../src/sentinel/content-client.js";
import {
  armTypes,
  placeholderWorkspace,
  type WorkspaceRef,
  workspaceResourceId,
} from "../../src/sentinel/content-types.js";
import { deploy } from "../../src/sentinel/deploy.js";
import { type DesiredResource, type Json, planDeployment } from "../../src/sentinel/plan.js";
import {
  bicepKey,
  bicepString,
  bicepValue,
  emitContentBicep,
  GENERATED_MARK,
} from "../../src/sentinel/render-bicep.js";
import { makeClients } from "../azure/clients.js";
import { type Emulator, startEmulator } from "../emulator/server.js";
import { formatProblems, parseSource, type SyntaxNode, syntaxProblems } from "./bicep.js";

// ---------------------------------------------------------------------------------------------------------------
// Reading Bicep back: values as Bicep defines them (not as the emitter meant them)

/** A string literal's value by Bicep's rules: `'''` strings verbatim minus the newline after the opening. */
function decodeString(node: SyntaxNode): string {
  const text = node.text;
  if (text.startsWith("'''")) {
    const inner = text.slice(3, -3);
    return inner.startsWith("\r\n") ? inner.slice(2) : inner.startsWith("\n") ? inner.slice(1) : inner;
  }
  const inner = text.slice(1, -1);
  let out = "";
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i] as string;
    if (ch === "$" && inner[i + 1] === "{") throw new Error(`interpolation at line ${node.startPosition.row + 1}`);
    if (ch === "\n" || ch === "\r")
      throw new Error(`line break in a single-quoted string at ${node.startPosition.row + 1}`);
    if (ch !== "\\") {
      out += ch;
      continue;
    }
    const next = inner[++i];
    const simple: Record<string, string> = { "\\": "\\", "'": "'", n: "\n", r: "\r", t: "\t", $: "$" };
    if (next !== undefined && next in simple) out += simple[next];
    else if (next === "u" && inner[i + 1] === "{") {
      const end = inner.indexOf("}", i);
      out += String.fromCodePoint(Number.parseInt(inner.slice(i + 2, end), 16));
      i = end;
    } else throw new Error(`unknown escape \\${next ?? ""} at line ${node.startPosition.row + 1}`);
  }
  return out;
}

function keyOf(property: SyntaxNode): string {
  const key = property.namedChild(0);
  if (!key) throw new Error("object property without a key");
  return key.type === "string" ? decodeString(key) : key.text;
}

function entriesOf(object: SyntaxNode): [string, SyntaxNode][] {
  return object.namedChildren
    .filter((p) => p.type === "object_property")
    .map((p) => [keyOf(p), p.namedChild(1) as SyntaxNode]);
}

/** A Bicep expression as JSON: literals, arrays, objects, json('…'), and `<symbol>.id` through `ids`. */
function evaluate(node: SyntaxNode, ids: ReadonlyMap<string, string>): Json {
  switch (node.type) {
    case "string":
      return decodeString(node);
    case "number":
      return Number(node.text);
    case "boolean":
      return node.text === "true";
    case "null":
      return null;
    case "array":
      return arrayItems(node).map((c) => (Array.isArray(c) ? jsonCall(c[1]) : evaluate(c, ids)));
    case "object":
      return Object.fromEntries(entriesOf(node).map(([k, v]) => [k, evaluate(v, ids)]));
    case "call_expression": {
      const fn = node.childForFieldName("function")?.text;
      const args = node.childForFieldName("arguments")?.namedChildren ?? [];
      if (fn === "json" && args.length === 1 && args[0]) return jsonCall(args[0]);
      break;
    }
    case "member_expression": {
      const object = node.childForFieldName("object");
      const property = node.childForFieldName("property")?.text;
      const id = object?.type === "identifier" && property === "id" ? ids.get(object.text) : undefined;
      if (id !== undefined) return id;
      break;
    }
  }
  throw new Error(`unsupported expression at line ${node.startPosition.row + 1}: ${node.text.slice(0, 60)}`);
}

/**
 * The items of an array. tree-sitter-bicep reads a first item `json('…')` as an identifier followed by a
 * parenthesized expression (Bicep, whose items are separated by line breaks, reads a call): such a pair on one
 * line is returned as `["json", argument]`.
 */
function arrayItems(node: SyntaxNode): (SyntaxNode | [string, SyntaxNode])[] {
  const items: (SyntaxNode | [string, SyntaxNode])[] = [];
  const children = node.namedChildren.filter((c) => c.type !== "comment");
  for (let i = 0; i < children.length; i++) {
    const c = children[i] as SyntaxNode;
    const next = children[i + 1];
    if (
      c.type === "identifier" &&
      c.text === "json" &&
      next?.type === "parenthesized_expression" &&
      next.startPosition.row === c.endPosition.row &&
      next.startIndex === c.endIndex
    ) {
      items.push(["json", next.namedChild(0) as SyntaxNode]);
      i++;
    } else items.push(c);
  }
  return items;
}

function jsonCall(argument: SyntaxNode): Json {
  if (argument.type !== "string")
    throw new Error(`json() of ${argument.type} at line ${argument.startPosition.row + 1}`);
  return JSON.parse(decodeString(argument)) as Json;
}

interface ReadResource {
  readonly symbol: string;
  readonly type: string;
  readonly apiVersion: string;
  readonly name: string;
  /** The ARM id the resource gets, from its type, name and parent or scope. */
  readonly id: string;
  /** Everything but name, parent, scope and dependsOn: the request body. */
  readonly wire: { readonly [key: string]: Json };
  readonly dependsOn: readonly string[];
  /** Every resource it waits for in an ARM deployment: parent, `<symbol>.id` references and dependsOn. */
  readonly needs: readonly string[];
  readonly body: SyntaxNode;
}

/** The resources a content.bicep declares, deployed into `workspace`. */
function readContentBicep(source: string, workspace: WorkspaceRef): ReadResource[] {
  const root = parseSource(source);
  const problems = syntaxProblems(root);
  if (problems.length) throw new Error(formatProblems("content.bicep", problems));
  const declarations = root.namedChildren.filter((n) => n.type === "resource_declaration");
  const ids = new Map<string, string>();
  const pending = new Map<string, { type: string; name: string; parent?: string; scope?: string }>();
  for (const decl of declarations) {
    const symbol = decl.namedChild(0)?.text ?? "";
    const body = decl.namedChildren.at(-1) as SyntaxNode;
    const get = (key: string) => entriesOf(body).find(([k]) => k === key)?.[1];
    if (decl.children.some((c) => c.type === "existing")) {
      expect(get("name")?.text).toBe("workspaceName");
      ids.set(symbol, workspaceResourceId(workspace));
      continue;
    }
    const typeWithVersion = decodeString(decl.namedChild(1) as SyntaxNode);
    const nameNode = get("name");
    if (!nameNode) throw new Error(`${symbol} has no name`);
    pending.set(symbol, {
      type: typeWithVersion.split("@")[0] as string,
      name: evaluate(nameNode, ids) as string,
      ...(get("parent") ? { parent: get("parent")?.text } : {}),
      ...(get("scope") ? { scope: get("scope")?.text } : {}),
    });
  }
  const idOf = (symbol: string): string => {
    const known = ids.get(symbol);
    if (known !== undefined) return known;
    const r = pending.get(symbol);
    if (!r) throw new Error(`unknown symbol ${symbol}`);
    const id = r.scope
      ? `${idOf(r.scope)}/providers/${r.type}/${r.name}`
      : `${idOf(r.parent ?? "")}/${r.type.split("/").at(-1)}/${r.name}`;
    ids.set(symbol, id);
    return id;
  };
  for (const symbol of pending.keys()) idOf(symbol);

  return declarations
    .filter((d) => !d.children.some((c) => c.type === "existing"))
    .map((decl) => {
      const symbol = decl.namedChild(0)?.text ?? "";
      const [type, apiVersion] = decodeString(decl.namedChild(1) as SyntaxNode).split("@") as [string, string];
      const body = decl.namedChildren.at(-1) as SyntaxNode;
      const wire: Record<string, Json> = {};
      let dependsOn: string[] = [];
      for (const [key, value] of entriesOf(body)) {
        if (key === "dependsOn") dependsOn = value.namedChildren.map((c) => c.text);
        else if (!["name", "parent", "scope"].includes(key)) wire[key] = evaluate(value, ids);
      }
      const id = ids.get(symbol) as string;
      const referenced = body
        .descendantsOfType("identifier")
        .map((n) => n.text)
        .filter((t) => t !== symbol && pending.has(t));
      const needs = [...new Set([...referenced, ...dependsOn])].sort();
      return { symbol, type, apiVersion, name: pending.get(symbol)?.name ?? "", id, wire, dependsOn, needs, body };
    });
}

// ---------------------------------------------------------------------------------------------------------------
// What `shmhunt deploy --apply` sends: the deploy adapter and the real SDK clients, recorded at the HTTP layer

interface SentRequest {
  readonly method: string;
  readonly type: string;
  readonly apiVersion: string;
  readonly id: string;
  readonly body: { readonly [key: string]: Json };
}

/** `/…/providers/<ns>/<type>/<name>[/<child type>/<child name>]` → `<ns>/<type>[/<child type>]`. */
function typeOfPath(path: string): string {
  const segments = path.split("/");
  const last = segments.map((s) => s.toLowerCase()).lastIndexOf("providers");
  const [namespace, ...rest] = segments.slice(last + 1);
  return [namespace, ...rest.filter((_, i) => i % 2 === 0)].join("/");
}

/** A recording HTTP layer under the real SDK clients: lists answer empty, writes answer 200. */
function recordingClients(workspace: WorkspaceRef): { clients: ContentClients; sent: SentRequest[] } {
  const sent: SentRequest[] = [];
  const httpClient: HttpClient = {
    async sendRequest(request) {
      const url = new URL(request.url);
      const path = decodeURIComponent(url.pathname);
      sent.push({
        method: request.method,
        type: typeOfPath(path),
        apiVersion: url.searchParams.get("api-version") ?? "",
        id: path,
        body: typeof request.body === "string" ? (JSON.parse(request.body) as { [key: string]: Json }) : {},
      });
      return {
        request,
        status: 200,
        headers: createHttpHeaders({ "content-type": "application/json" }),
        bodyAsText: request.method === "GET" ? '{"value":[]}' : "{}",
      };
    },
  };
  const credential: TokenCredential = {
    getToken: async () => ({ token: "recorded", expiresOnTimestamp: Date.now() + 3_600_000 }),
  };
  const options = { httpClient, retryOptions: { maxRetries: 0 } };
  return {
    sent,
    clients: {
      securityInsights: new SecurityInsights(credential, workspace.subscriptionId, options),
      operationalInsights: new OperationalInsightsManagementClient(credential, workspace.subscriptionId, options),
    },
  };
}

/** What `shmhunt deploy --apply` (src/sentinel/deploy.ts) sends for the rules to an empty workspace. */
async function deployCommandRequests(workspace: WorkspaceRef): Promise<SentRequest[]> {
  const { clients, sent } = recordingClients(workspace);
  const report = await deploy({ rulesDir, clients, workspace, mode: "apply", prune: false });
  expect(report.ok).toBe(true);
  return sent.filter((s) => s.method !== "GET");
}

/** What the deploy adapter sends for any desired content (the path `shmhunt deploy --apply` takes). */
async function deployRequests(desired: readonly DesiredResource[], workspace: WorkspaceRef): Promise<SentRequest[]> {
  const { clients, sent } = recordingClients(workspace);
  const client = new SentinelContentClient(clients, workspace);
  for (const step of planDeployment(desired, [], { prune: false }).steps) await client.apply(step);
  return sent;
}

/** Differences between the Bicep and the deploy requests: resources on one side only, versions, bodies. */
function compare(bicep: readonly ReadResource[], sent: readonly SentRequest[]): string[] {
  const differences: string[] = [];
  const key = (type: string, id: string) => `${type.toLowerCase()} ${id.toLowerCase()}`;
  const sentByKey = new Map(sent.map((s) => [key(s.type, s.id), s]));
  const bicepKeys = new Set(bicep.map((b) => key(b.type, b.id)));
  for (const s of sent) {
    if (s.method !== "PUT") differences.push(`deploy sends ${s.method} ${s.id}`);
    if (!bicepKeys.has(key(s.type, s.id))) differences.push(`only in shmhunt deploy: ${s.type} ${s.id}`);
  }
  for (const b of bicep) {
    const s = sentByKey.get(key(b.type, b.id));
    if (!s) {
      differences.push(`only in the Bicep: ${b.type} ${b.id}`);
      continue;
    }
    if (s.apiVersion !== b.apiVersion)
      differences.push(`${b.symbol}: api ${b.apiVersion}, deploy sends ${s.apiVersion}`);
    for (const path of jsonDifferences(b.wire, s.body)) differences.push(`${b.symbol}: ${path} differs`);
  }
  return differences;
}

function jsonDifferences(a: Json | undefined, b: Json | undefined, path = ""): string[] {
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") {
    return a === b ? [] : [path || "(body)"];
  }
  if (Array.isArray(a) !== Array.isArray(b)) return [path];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) =>
    jsonDifferences(
      (a as { [key: string]: Json })[k],
      (b as { [key: string]: Json })[k],
      Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${k}` : k,
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------------

const rulesDir = path.join(repoRoot, "rules");
let desired: DesiredResource[];
let generated: string;

beforeAll(async () => {
  desired = await desiredFromRules(rulesDir);
  generated = emitContentBicep(desired);
});

describe("infra/content/content.bicep", () => {
  it("is what the rules generate (npm run content:generate)", () => {
    expect(readFileSync(contentBicepFile, "utf8")).toBe(generated);
  });

  it("content:check names what is stale", () => {
    expect(staleDeclarations(generated, generated)).toEqual([]);
    expect(staleDeclarations(undefined, generated)).toEqual(["(file missing)"]);
    const edited = generated.replace("triggerThreshold: 0\n", "triggerThreshold: 3\n");
    expect(staleDeclarations(edited, generated)).toEqual([expect.stringMatching(/^changed: resource alertRule_\w+ /)]);
    const blocks = generated.split("\n\n");
    const without = blocks.filter((b) => !b.startsWith("resource watchlist_")).join("\n\n");
    expect(staleDeclarations(without, generated)).toEqual([expect.stringMatching(/^added: {3}resource watchlist_/)]);
  });

  it("says it is generated and keeps the interface main.bicep uses", () => {
    expect(generated.split("\n")[0]).toContain(GENERATED_MARK);
    expect(generated).toMatch(/^param workspaceName string$/m);
    expect(generated).toMatch(
      /^resource workspace 'Microsoft\.OperationalInsights\/workspaces@[\d-]+' existing = \{$/m,
    );
    expect(generated).toContain(`output resourceCount int = ${desired.length}\n`);
  });

  it("parses with tree-sitter-bicep without ERROR or MISSING nodes", () => {
    expect(formatProblems("content.bicep", syntaxProblems(parseSource(generated)))).toBe("");
  });

  it("holds every kind of content the deploy manages", () => {
    const kinds = new Set(desired.map((d) => d.kind));
    expect([...kinds].sort()).toEqual(
      ["alertRule", "metadata", "savedSearch", "watchlist", "watchlistItem", "workspaceFunction"].sort(),
    );
  });
});

describe("the content Bicep and `shmhunt deploy` describe the same resources", () => {
  const workspace: WorkspaceRef = {
    subscriptionId: "3b8d5c1e-0f2a-4d6b-9e7c-1a2b3c4d5e6f",
    resourceGroup: "rg-sentinel",
    workspaceName: "law-sentinel",
  };

  let sent: SentRequest[];
  beforeAll(async () => {
    sent = await deployCommandRequests(workspace);
  });

  it("same (type, id), same API versions, same request bodies as `shmhunt deploy --apply` sends", () => {
    const bicep = readContentBicep(generated, workspace);
    expect(sent.length).toBe(desired.length);
    expect(bicep.length).toBe(desired.length);
    expect(compare(bicep, sent)).toEqual([]);
  });

  it("the comparison fails on one changed property, a missing resource and a changed query", () => {
    const threshold = generated.replace("triggerThreshold: 0\n", "triggerThreshold: 1\n");
    expect(threshold).not.toBe(generated);
    const changed = compare(readContentBicep(threshold, workspace), sent);
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatch(/^alertRule_\w+: properties\.triggerThreshold differs$/);

    const blocks = generated.split("\n\n");
    const itemIndex = blocks.findIndex((b) => b.startsWith("resource watchlistItem_"));
    const missing = compare(readContentBicep(blocks.filter((_, i) => i !== itemIndex).join("\n\n"), workspace), sent);
    expect(missing).toEqual([
      expect.stringMatching(/^only in shmhunt deploy: Microsoft\.SecurityInsights\/watchlists\/watchlistItems /),
    ]);

    const query = generated.replace('| where ActionType == "ProcessCreated"', "| where ActionType == 'ProcessCreated'");
    expect(query).not.toBe(generated);
    expect(compare(readContentBicep(query, workspace), sent).some((d) => d.endsWith("properties.query differs"))).toBe(
      true,
    );
  });

  it("metadata points at its content by symbol, so Bicep deploys it after its parent", () => {
    const bicep = readContentBicep(generated, workspace);
    const symbols = new Set(bicep.map((b) => b.symbol));
    const metadata = bicep.filter((b) => b.type === armTypes.metadata.armType);
    expect(metadata.length).toBeGreaterThan(0);
    for (const m of metadata) {
      const parentId = entriesOf(entriesOf(m.body).find(([k]) => k === "properties")?.[1] as SyntaxNode).find(
        ([k]) => k === "parentId",
      )?.[1];
      expect(parentId?.type, m.symbol).toBe("member_expression");
      expect(symbols.has(parentId?.childForFieldName("object")?.text ?? "")).toBe(true);
    }
  });

  it("queries depend on the functions and watchlists they read", () => {
    const bicep = readContentBicep(generated, workspace);
    const functions = bicep.filter(
      (b) => typeof (b.wire.properties as { functionAlias?: string }).functionAlias === "string",
    );
    const watchlists = bicep.filter((b) => b.type === armTypes.watchlist.armType);
    let checked = 0;
    for (const b of bicep) {
      const query = (b.wire.properties as { query?: string }).query;
      if (typeof query !== "string") continue;
      for (const f of functions) {
        const alias = (f.wire.properties as { functionAlias: string }).functionAlias;
        if (f === b || !query.includes(`${alias}(`)) continue;
        expect(b.dependsOn, `${b.symbol} reads ${alias}`).toContain(f.symbol);
        checked++;
      }
      for (const w of watchlists) {
        if (!query.includes(`_GetWatchlist("${w.name}")`)) continue;
        expect(b.dependsOn, `${b.symbol} reads watchlist ${w.name}`).toContain(w.symbol);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(4);
  });

  it("the output does not depend on the order of the desired resources", () => {
    const shuffled = [...desired].reverse();
    shuffled.push(...shuffled.splice(3, 5));
    expect(emitContentBicep(shuffled)).toBe(generated);
  });

  it("an id of the workspace that is none of its resources is refused, not written", () => {
    const stray: DesiredResource = {
      kind: "metadata",
      name: "shmhunt-stray",
      properties: {
        parentId: `${workspaceResourceId(placeholderWorkspace)}/savedSearches/not-deployed`,
        kind: "HuntingQuery",
      },
    };
    expect(() => emitContentBicep([...desired, stray])).toThrow(/cannot be expressed in Bicep/);
  });
});

/**
 * Deploys the resources as Azure Resource Manager does: in waves, each holding every resource whose dependencies
 * are deployed, one PUT of the declared body each. Within a wave the order is reversed from the file's, so a
 * missing `dependsOn` (a rule before the function its query calls) shows as a failed PUT.
 */
async function armDeploy(
  resources: readonly ReadResource[],
  client: SecurityInsights,
  endpoint: string,
): Promise<string[]> {
  const done = new Set<string>();
  const failures: string[] = [];
  let left = [...resources];
  while (left.length) {
    const wave = left.filter((r) => r.needs.every((n) => done.has(n)));
    if (wave.length === 0) throw new Error(`dependency cycle among ${left.map((r) => r.symbol).join(", ")}`);
    for (const r of [...wave].reverse()) {
      const response = await client.sendRequest(
        createPipelineRequest({
          url: `${endpoint}${r.id}?api-version=${r.apiVersion}`,
          method: "PUT",
          headers: createHttpHeaders({ "content-type": "application/json" }),
          body: JSON.stringify(r.wire),
        }),
      );
      if (response.status >= 300) failures.push(`${r.symbol}: ${response.status} ${response.bodyAsText ?? ""}`);
    }
    for (const r of wave) done.add(r.symbol);
    left = left.filter((r) => !wave.includes(r));
  }
  return failures;
}

describe("the content Bicep deployed by ARM into the emulator, then `shmhunt deploy`", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator();
    emulator.workspace.seedTable("DeviceProcessEvents", []);
    emulator.workspace.seedTable("Syslog", []);
  }, 60_000);
  afterAll(async () => {
    await emulator?.close();
  });

  it("the Sentinel service takes every resource, and `shmhunt deploy --plan` then finds nothing to do", async () => {
    const sdk = makeClients(emulator);
    const clients = { securityInsights: sdk.sentinel, operationalInsights: sdk.operationalInsights };
    const workspace: WorkspaceRef = {
      subscriptionId: emulator.workspace.subscriptionId,
      resourceGroup: emulator.workspace.resourceGroup,
      workspaceName: emulator.workspace.name,
    };
    const resources = readContentBicep(generated, workspace);
    expect(await armDeploy(resources, sdk.sentinel, emulator.url)).toEqual([]);

    const plan = await deploy({ rulesDir, clients, workspace, mode: "plan", prune: true });
    expect(plan.steps.filter((step) => step.action !== "unchanged")).toEqual([]);
    expect(plan.counts.unchanged).toBe(resources.length);
  }, 120_000);

  it("without its dependsOn, a rule reaches Sentinel before the function its query calls, and fails", async () => {
    const sdk = makeClients(emulator);
    const other = emulator.state.addWorkspace({
      subscriptionId: emulator.workspace.subscriptionId,
      resourceGroup: emulator.workspace.resourceGroup,
      name: "ws-no-depends-on",
      customerId: "7d1e0c2a-3b4f-4a5e-8c6d-9e0f1a2b3c4d",
    });
    other.seedTable("DeviceProcessEvents", []);
    other.seedTable("Syslog", []);
    const workspace: WorkspaceRef = {
      subscriptionId: other.subscriptionId,
      resourceGroup: other.resourceGroup,
      workspaceName: other.name,
    };
    const resources = readContentBicep(generated, workspace).map((r) => ({
      ...r,
      needs: r.needs.filter((n) => !r.dependsOn.includes(n)),
    }));
    const failures = await armDeploy(resources, sdk.sentinel, emulator.url);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((f) => f.startsWith("alertRule_"))).toBe(true);
    expect(failures.join("\n")).toMatch(/SemanticError/);
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------------------------

const nasty = [
  "",
  "'",
  "''",
  "'''",
  "''''",
  "it's",
  "${x}",
  "$${x}",
  "\\${x}",
  "$",
  "${",
  "\\",
  "\\'",
  "a\\",
  "\n",
  "\n\n",
  "\nstarts with a newline",
  "ends with a newline\n",
  "line 1\nline 2",
  "line 1\nends with a quote'",
  "has '''\ninside",
  "crlf\r\nline",
  "lone\rcr",
  "tab\there\n\ttoo",
  "nul\u0000and\u0001bell\u0007",
  "del\u007f c1\u0085 ls\u2028 ps\u2029",
  "emoji 😀 and é and 中文",
  "/* not a comment */ // nor this\n// nor this",
  "KQL: extract(@\"[^/\\\\]*$\", 0, P) matches regex @'(?i)^a\\'b$' | where x == '''y'''",
  "'''\n'''",
  "\n'''",
  "}\n]\n'\nparam x string\n",
  "//",
  "/*",
  "/* c */",
  "' //x",
  "\\ /*x",
  "\u00a0//",
  "\n//c",
  "//c\nx",
  "/*\n*/",
  "\n/*x",
  "x\n*/'",
  "https://example.org/a//b",
];

function roundTrip(literal: string): Json {
  const root = parseSource(`var v = ${literal}\n`);
  const problems = syntaxProblems(root);
  if (problems.length) throw new Error(`${literal}: ${formatProblems("v.bicep", problems)}`);
  const declarations = root.namedChildren.filter((n) => n.type === "variable_declaration");
  expect(declarations).toHaveLength(1);
  return evaluate(declarations[0]?.namedChild(1) as SyntaxNode, new Map());
}

/** A fixed-seed generator, so a failure reproduces. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("Bicep string escaping", () => {
  for (const text of nasty) {
    it(`round-trips ${JSON.stringify(text)}`, () => {
      expect(roundTrip(bicepString(text))).toBe(text);
    });
  }

  it("round-trips 2000 random strings made of the dangerous characters", () => {
    const next = random(20261123);
    const alphabet = ["'", "'", "'", "\\", "$", "{", "}", "\n", "\r", "\t", "a", " ", "\u0000", "😀", "/", "*"];
    for (let n = 0; n < 2000; n++) {
      const length = Math.floor(next() * 12);
      const text = Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join("");
      expect(roundTrip(bicepString(text)), JSON.stringify(text)).toBe(text);
    }
  });

  it("uses ''' strings for multi-line text when they can hold it verbatim, escapes otherwise", () => {
    expect(bicepString("a\nb")).toBe("'''\na\nb'''");
    expect(bicepString("a\n$left.x ${y}\\n")).toBe("'''\na\n$left.x ${y}\\n'''");
    expect(bicepString("a\n'''b")).toBe("'a\\n\\'\\'\\'b'");
    expect(bicepString("a\nb'")).toBe("'a\\nb\\''");
    expect(bicepString("a\r\nb")).toBe("'a\\r\\nb'");
    expect(bicepString("one line ${x} $y")).toBe("'one line \\u{24}{x} $y'");
    expect(bicepString("// a comment? no")).toBe("'\\u{2F}/ a comment? no'");
    expect(bicepString("a // b")).toBe("'a // b'");
    expect(() => bicepString("lone \ud800 surrogate")).toThrow(/lone surrogate/);
  });

  it("writes keys, numbers and nested values Bicep reads back as the same JSON", () => {
    const value: Json = {
      plain: 1,
      "with-dash": -7,
      true: "reserved word as key",
      "it's ${key}": [1.5, 1e21, 2 ** 60, 0, null, true, false, [], {}],
      "multi\nline key": { "": "empty key", nested: ["a\nb", "'''", "${x}"] },
    };
    expect(roundTrip(bicepValue(value, 0))).toEqual(value);
    expect(bicepKey("true")).toBe("'true'");
    expect(bicepKey("plain_1")).toBe("plain_1");
  });

  it("an adversarial query goes through the whole generator and still matches the deploy", async () => {
    const workspace = placeholderWorkspace;
    const hostile: DesiredResource[] = nasty.map((text, i) => ({
      kind: "savedSearch",
      name: `shmhunt-hostile-${i}`,
      properties: {
        category: "Hunting Queries",
        displayName: text || "empty",
        query: `${text}\n| where x == '${text}'`,
        version: 2,
        tags: [{ name: text || "t", value: text }],
      },
    }));
    const text = emitContentBicep(hostile);
    expect(compare(readContentBicep(text, workspace), await deployRequests(hostile, workspace))).toEqual([]);
  });
});
