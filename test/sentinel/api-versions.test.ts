/**
 * The API versions shmhunt speaks (content-types.ts `API_VERSIONS`), judged by Microsoft's spec files
 * (../shared/reference/azure-specs, Azure REST API specs, MIT): each content version is the newest STABLE folder in
 * the archive, its model carries every property the content model writes, and the real SDK clients built by
 * src/sentinel/clients.ts send exactly those versions on the wire. The preview is kept only where a model needs it
 * (a bookmark's entityMappings/tactics/techniques: absent from the stable BookmarkProperties).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { translateRule } from "../../src/kql/translate.js";
import { loadRules } from "../../src/rules/index.js";
import { API_VERSIONS, armTypes, type WorkspaceRef } from "../../src/sentinel/content-types.js";
import { defaultFunctionsDir } from "../../src/sentinel/deploy.js";
import { buildDesiredContent } from "../../src/sentinel/desired.js";
import { deployRequests } from "../support/content-readers.js";

const repo = path.resolve(import.meta.dirname, "../..");
const specs = path.resolve(repo, "../shared/reference/azure-specs/specification");
const si = path.join(specs, "securityinsights/resource-manager/Microsoft.SecurityInsights");
const oi = path.join(specs, "operationalinsights/resource-manager/Microsoft.OperationalInsights/OperationalInsights");
const workspace: WorkspaceRef = { subscriptionId: "s-1", resourceGroup: "rg", workspaceName: "ws" };

type Definitions = Record<string, { properties?: Record<string, unknown>; allOf?: { $ref?: string }[] }>;
const definitions = (file: string): Definitions =>
  (JSON.parse(readFileSync(file, "utf8")) as { definitions: Definitions }).definitions;
/** A definition's properties with those of its `allOf` parents in the same file. */
function propertiesOf(defs: Definitions, name: string): string[] {
  const d = defs[name] ?? {};
  const inherited = (d.allOf ?? []).flatMap((a) =>
    a.$ref?.startsWith("#/definitions/") ? propertiesOf(defs, a.$ref.slice("#/definitions/".length)) : [],
  );
  return [...Object.keys(d.properties ?? {}), ...inherited];
}
const stableVersions = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

describe("API versions", () => {
  it("are the newest stable versions in the spec archive", () => {
    expect(API_VERSIONS.securityInsights).toBe(stableVersions(path.join(si, "stable")).at(-1));
    expect(API_VERSIONS.savedSearches).toBe(stableVersions(path.join(oi, "stable")).at(-1));
    expect(API_VERSIONS.bookmarksPreview).toMatch(/-preview$/);
  });

  it("carry every property the content model writes (the spec's models), and the preview is needed for bookmarks", async () => {
    const { rules } = await loadRules(path.join(repo, "rules"));
    const desired = buildDesiredContent(rules, {
      workspace,
      translate: (rule, target) => translateRule(rule, target),
      functionsDir: defaultFunctionsDir(),
    });
    const stable = path.join(si, "stable", API_VERSIONS.securityInsights);
    const models: Record<string, string[]> = {
      alertRule: propertiesOf(definitions(path.join(stable, "AlertRules.json")), "ScheduledAlertRuleProperties"),
      watchlist: propertiesOf(definitions(path.join(stable, "Watchlists.json")), "WatchlistProperties"),
      watchlistItem: propertiesOf(definitions(path.join(stable, "Watchlists.json")), "WatchlistItemProperties"),
      metadata: propertiesOf(definitions(path.join(stable, "Metadata.json")), "metadataProperties"),
      savedSearch: propertiesOf(
        definitions(path.join(oi, "stable", API_VERSIONS.savedSearches, "SavedSearches.json")),
        "SavedSearchProperties",
      ),
    };
    models.workspaceFunction = models.savedSearch ?? [];
    const missing: string[] = [];
    for (const r of desired) {
      const known = models[r.kind] ?? [];
      expect(known.length, r.kind).toBeGreaterThan(0);
      for (const key of Object.keys(r.properties)) {
        if (key !== "kind" && !known.includes(key)) missing.push(`${r.kind}.${key}`);
      }
    }
    expect([...new Set(missing)]).toEqual([]);

    const stableBookmark = propertiesOf(definitions(path.join(stable, "Bookmarks.json")), "BookmarkProperties");
    const previewBookmark = propertiesOf(
      definitions(path.join(si, "preview", API_VERSIONS.bookmarksPreview, "Bookmarks.json")),
      "BookmarkProperties",
    );
    for (const key of ["entityMappings", "tactics", "techniques"]) {
      expect(stableBookmark).not.toContain(key);
      expect(previewBookmark).toContain(key);
    }
  });

  it("are what the SDK clients of `shmhunt deploy` send, for every kind, as the templates name them", async () => {
    const { rules } = await loadRules(path.join(repo, "rules"));
    const desired = buildDesiredContent(rules, {
      workspace,
      translate: (rule, target) => translateRule(rule, target),
      functionsDir: defaultFunctionsDir(),
    });
    const sent = await deployRequests(desired, workspace);
    const byType = new Map<string, Set<string>>();
    for (const s of sent) byType.set(s.type, (byType.get(s.type) ?? new Set()).add(s.apiVersion));
    for (const type of Object.values(armTypes)) {
      const key = type.extensionOfWorkspace ? type.armType : "Microsoft.OperationalInsights/workspaces/savedSearches";
      expect([...(byType.get(key) ?? [])], key).toEqual([type.apiVersion]);
    }
    expect(new Set(sent.map((s) => s.apiVersion))).toEqual(
      new Set([API_VERSIONS.securityInsights, API_VERSIONS.savedSearches]),
    );
  });
});
