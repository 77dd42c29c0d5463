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
import type { SecurityInsights } from "@azure/arm-securityinsight";
import { createHttpHeaders, createPipelineRequest } from "@azure/core-rest-pipeline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentBicepFile, desiredFromRules, repoRoot, staleDeclarations } from "../../scripts/content-bicep.js";
import {
  armTypes,
  placeholderWorkspace,
  type WorkspaceRef,
  workspaceResourceId,
} from "../../src/sentinel/content-types.js";
import { deploy } from "../../src/sentinel/deploy.js";
import type { DesiredResource, Json } from "../../src/sentinel/plan.js";
import {
  bicepKey,
  bicepString,
  bicepValue,
  emitContentBicep,
  GENERATED_MARK,
} from "../../src/sentinel/render-bicep.js";
import { makeClients, makeContentClients } from "../azure/clients.js";
import { type Emulator, startEmulator } from "../emulator/server.js";
import {
  compare,
  deployRequests,
  entriesOf,
  evaluate,
  type ReadResource,
  readContentBicep,
  recordingClients,
  type SentRequest,
} from "../support/content-readers.js";
import { seededRandom } from "../support/seeded-random.js";
import { formatProblems, parseSource, type SyntaxNode, syntaxProblems } from "./bicep.js";

/** What `shmhunt deploy --apply` (src/sentinel/deploy.ts) sends for the rules to an empty workspace. */
async function deployCommandRequests(workspace: WorkspaceRef): Promise<SentRequest[]> {
  const { clients, sent } = recordingClients(workspace);
  const report = await deploy({ rulesDir, clients, workspace, mode: "apply", prune: false });
  expect(report.ok).toBe(true);
  return sent.filter((s) => s.method !== "GET");
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
    const clients = makeContentClients(emulator);
    const workspace: WorkspaceRef = {
      subscriptionId: emulator.workspace.subscriptionId,
      resourceGroup: emulator.workspace.resourceGroup,
      workspaceName: emulator.workspace.name,
    };
    const resources = readContentBicep(generated, workspace);
    // ARM's own requests: a plain pipeline (the content clients set their api-version on every request they send).
    expect(await armDeploy(resources, makeClients(emulator).sentinel, emulator.url)).toEqual([]);

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

describe("Bicep string escaping", () => {
  for (const text of nasty) {
    it(`round-trips ${JSON.stringify(text)}`, () => {
      expect(roundTrip(bicepString(text))).toBe(text);
    });
  }

  it("round-trips 2000 random strings made of the dangerous characters", () => {
    const next = seededRandom(20261123);
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
