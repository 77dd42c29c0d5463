/**
 * Built-in role definition ids: pinned once in infra/roles.json, checked here against the values Microsoft
 * documents (public code mislabels some of them: a Sentinel tool maps ab8e14d6-… to "Microsoft Sentinel Reader",
 * which is 8d289c81-…), and used by every role assignment through that file only.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { bicepFiles, infraDir, literalString, loadBicep, property, propertyPath, type SyntaxNode } from "./bicep.js";

/**
 * Role name → id, as listed by Microsoft Learn "Azure built-in roles" (learn.microsoft.com/azure/
 * role-based-access-control/built-in-roles, its Security, Storage and Monitor pages) and the role definitions
 * Azure itself returns (GET /providers/Microsoft.Authorization/roleDefinitions/<id>, mirrored by AzAdvertizer).
 */
const AUTHORITATIVE: Readonly<Record<string, string>> = {
  "Microsoft Sentinel Contributor": "ab8e14d6-4a74-4a29-9ba8-549422addade",
  "Microsoft Sentinel Reader": "8d289c81-5878-46d4-8554-54e1e3d8b5cb",
  "Microsoft Sentinel Responder": "3e150937-b8fe-4cfb-8069-0eaf05ecd056",
  "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
  "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
  "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
  "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
};

/** Broad roles shmhunt never assigns. */
const FORBIDDEN: Readonly<Record<string, string>> = {
  Owner: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
  Contributor: "b24988ac-6180-42a0-ab88-20f7382dd24c",
  "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
  "Storage Account Contributor": "17d1049b-9a84-46fb-8f53-869881c3d3ab",
};

interface RoleEntry {
  readonly id: string;
  readonly name: string;
  readonly grants: string;
  readonly sources: readonly string[];
}

const rolesFile = JSON.parse(readFileSync(path.join(infraDir, "roles.json"), "utf8")) as {
  roles: Record<string, RoleEntry>;
};
const roles = rolesFile.roles;
const files = bicepFiles().map(loadBicep);
const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

describe("infra/roles.json", () => {
  it("pins each role under the id Microsoft documents for its name", () => {
    expect(Object.keys(roles).length).toBeGreaterThan(0);
    for (const [key, role] of Object.entries(roles)) {
      expect(AUTHORITATIVE[role.name], `${key}: unknown role name ${role.name}`).toBeDefined();
      expect(role.id, `${key} (${role.name})`).toBe(AUTHORITATIVE[role.name]);
    }
  });

  it("names no role twice, and records what it grants and where the id was checked", () => {
    const ids = Object.values(roles).map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [key, role] of Object.entries(roles)) {
      expect(role.grants.length, key).toBeGreaterThan(10);
      expect(
        role.sources.some((s) => s.startsWith("https://learn.microsoft.com/")),
        key,
      ).toBe(true);
    }
  });

  it("holds no broad role", () => {
    const ids = Object.values(roles).map((r) => r.id);
    for (const [name, id] of Object.entries(FORBIDDEN)) expect(ids, name).not.toContain(id);
  });
});

describe("role assignments", () => {
  it("no .bicep file carries a GUID of its own: role ids come from roles.json", () => {
    for (const file of files) {
      // The generated Sentinel content (infra/content) names its resources with deterministic UUIDs: as a
      // resource's name, or as the contentId of its metadata, never anything else.
      const contentName = (n: SyntaxNode) =>
        file.relative.startsWith("infra/content/") &&
        n.parent?.parent?.type === "object_property" &&
        ["name", "contentId"].includes(n.parent.parent.namedChild(0)?.text ?? "");
      const literals = file.root
        .descendantsOfType("string_content")
        .filter((n) => GUID.test(n.text) && !contentName(n));
      expect(
        literals.map((n) => `${file.relative}:${n.startPosition.row + 1}: ${n.text}`),
        file.relative,
      ).toEqual([]);
    }
  });

  it("files that use roles load infra/roles.json", () => {
    for (const file of files) {
      const variable = file.variables.get("roles");
      if (!variable) continue;
      const match = /^loadJsonContent\('([^']+)'\)\.roles$/.exec(variable.value.text);
      expect(match, file.relative).not.toBeNull();
      expect(path.resolve(path.dirname(file.file), match?.[1] ?? "")).toBe(path.join(infraDir, "roles.json"));
    }
  });

  it("every role assignment takes its role definition from roles.json, and every pinned role is used", () => {
    const used = new Set<string>();
    for (const file of files) {
      const loops = new Map<string, string[]>();
      for (const variable of file.variables.values()) {
        if (variable.value.type !== "array") continue;
        loops.set(
          variable.name,
          variable.value.namedChildren.map((n) => /^roles\.(\w+)\.id$/.exec(n.text)?.[1] ?? `not a role: ${n.text}`),
        );
      }
      for (const resource of file.resources.values()) {
        if (resource.resourceType !== "Microsoft.Authorization/roleAssignments") continue;
        const definition = propertyPath(resource.body, "properties.roleDefinitionId");
        const where = `${file.relative}:${resource.node.startPosition.row + 1} ${resource.name}`;
        // Either the built-in form, or `<condition> ? <custom role>.id : <built-in form>`.
        const text = definition?.text ?? "";
        const custom = /^\w+ \? (\w+)\.id : (.+)$/.exec(text);
        if (custom?.[1]) {
          expect(file.resources.get(custom[1])?.resourceType, where).toBe("Microsoft.Authorization/roleDefinitions");
        }
        const call = /^subscriptionResourceId\('Microsoft\.Authorization\/roleDefinitions', (.+)\)$/.exec(
          custom?.[2] ?? text,
        );
        expect(call, where).not.toBeNull();
        const argument = call?.[1] ?? "";
        const direct = /^roles\.(\w+)\.id$/.exec(argument);
        if (direct?.[1]) {
          used.add(direct[1]);
        } else {
          // [for roleId in <array of roles.x.id>: …]
          const loop = resource.node.descendantsOfType("for_statement")[0];
          expect(loop?.childForFieldName("initializer")?.text, where).toBe(argument);
          const source = loop?.namedChildren[1]?.text ?? "";
          const keys = loops.get(source) ?? [`unknown array ${source}`];
          for (const key of keys) used.add(key);
        }
        // principalType set: no Graph lookup race for a freshly created identity.
        expect(propertyPath(resource.body, "properties.principalType"), where).toBeDefined();
        expect(property(resource.body, "scope"), `${where}: scoped to one resource`).toBeDefined();
      }
    }
    expect([...used].filter((k) => !(k in roles))).toEqual([]);
    expect(Object.keys(roles).filter((k) => !used.has(k))).toEqual([]);
  });

  it("assigns exactly the documented roles at each scope (least privilege)", () => {
    const byFile = (relative: string) => {
      const file = files.find((f) => f.relative === `infra/${relative}`);
      if (!file) throw new Error(relative);
      return file.source;
    };
    const mentions = (source: string) =>
      Object.keys(roles)
        .filter((k) => source.includes(`roles.${k}.id`))
        .sort();
    expect(mentions(byFile("modules/storage.bicep"))).toEqual(["storageBlobDataOwner", "storageTableDataContributor"]);
    expect(mentions(byFile("modules/monitoring.bicep"))).toEqual(["monitoringMetricsPublisher"]);
    expect(mentions(byFile("modules/sentinel-access.bicep"))).toEqual(["sentinelContributor"]);
    expect(mentions(byFile("main.bicep"))).toEqual([]);
  });

  it("the custom hunt role holds only queries, incidents (relations, comments) and bookmarks, assignable in its resource group", () => {
    const file = files.find((f) => f.relative === "infra/modules/sentinel-access.bicep");
    const definition = file?.resources.get("huntRole");
    expect(definition?.resourceType).toBe("Microsoft.Authorization/roleDefinitions");
    const operations = file?.variables
      .get("huntOperations")
      ?.value.namedChildren.map((n) => literalString(n) ?? n.text);
    expect(operations?.length).toBeGreaterThan(0);
    for (const operation of operations ?? []) {
      expect(operation).toMatch(
        /^Microsoft\.(OperationalInsights\/workspaces\/(read|query\/read|query\/\*\/read|analytics\/query\/action)|SecurityInsights\/(incidents|incidents\/relations|incidents\/comments|bookmarks)\/(read|write))$/,
      );
    }
    // what the hunt needs: run queries, create incidents, bookmarks and their relations
    for (const needed of [
      "Microsoft.OperationalInsights/workspaces/query/read",
      "Microsoft.SecurityInsights/incidents/write",
      "Microsoft.SecurityInsights/incidents/relations/write",
      "Microsoft.SecurityInsights/bookmarks/write",
    ]) {
      expect(operations).toContain(needed);
    }
    expect(propertyPath(definition?.body, "properties.type")?.text).toBe("'CustomRole'");
    expect(propertyPath(definition?.body, "properties.assignableScopes")?.text.replace(/\s+/g, "")).toBe(
      "[resourceGroup().id]",
    );
    expect(propertyPath(definition?.body, "properties.permissions")?.text).toContain("actions: huntOperations");
  });

  it("the custom hunt role holds the operation of every Sentinel call the hunt makes (src/sentinel/incidents.ts)", () => {
    // Oracle: Microsoft Learn, "Azure permissions for Security" (role-based-access-control/permissions/security,
    // Microsoft.SecurityInsights), one operation per resource type and verb:
    //   "Microsoft.SecurityInsights/incidents/read | Gets an incident"
    //   "Microsoft.SecurityInsights/incidents/write | Updates an incident"
    //   "Microsoft.SecurityInsights/incidents/comments/write | Creates a comment on the incident"
    //   "Microsoft.SecurityInsights/incidents/relations/write | Updates a relation between the incident and related resources"
    //   "Microsoft.SecurityInsights/Bookmarks/read | Gets bookmarks", "Microsoft.SecurityInsights/Bookmarks/write | Updates bookmarks"
    // The REST operations behind the SDK's groups: Incidents_Get / _CreateOrUpdate (PUT .../incidents/{id}),
    // IncidentComments_CreateOrUpdate (PUT .../incidents/{id}/comments/{commentId}), IncidentRelations_CreateOrUpdate
    // (PUT .../incidents/{id}/relations/{relationName}), Bookmarks_Get / _CreateOrUpdate (.../bookmarks/{id}).
    // Sentinel's own "Take investigative actions on incidents" list (sentinel/roles) names comments/write apart
    // from incidents/write: the parent's write does not grant the child's.
    const OPERATION_OF: Readonly<Record<string, string>> = {
      "incidents.get": "Microsoft.SecurityInsights/incidents/read",
      "incidents.createOrUpdate": "Microsoft.SecurityInsights/incidents/write",
      "incidentComments.createOrUpdate": "Microsoft.SecurityInsights/incidents/comments/write",
      "incidentRelations.createOrUpdate": "Microsoft.SecurityInsights/incidents/relations/write",
      "bookmarks.get": "Microsoft.SecurityInsights/bookmarks/read",
      "bookmarks.createOrUpdate": "Microsoft.SecurityInsights/bookmarks/write",
    };
    const source = readFileSync(path.join(infraDir, "..", "src/sentinel/incidents.ts"), "utf8");
    const calls = [...new Set([...source.matchAll(/this\.client\.(\w+)\.(\w+)\(/g)].map((m) => `${m[1]}.${m[2]}`))];
    expect(calls.length).toBeGreaterThan(0);
    // A call not in the table must be looked up in the operations list before it ships.
    expect(calls.filter((c) => !(c in OPERATION_OF))).toEqual([]);
    const file = files.find((f) => f.relative === "infra/modules/sentinel-access.bicep");
    const operations = (file?.variables.get("huntOperations")?.value.namedChildren ?? [])
      .map((n) => literalString(n) ?? n.text)
      .map((o) => o.toLowerCase());
    const needed = calls.map((c) => (OPERATION_OF[c] ?? c).toLowerCase());
    expect(needed.filter((o) => !operations.includes(o))).toEqual([]);
    // Least privilege: no Sentinel operation the hunt never calls (the Logs query operations are checked above).
    const unused = operations.filter((o) => o.startsWith("microsoft.securityinsights/") && !needed.includes(o));
    expect(unused).toEqual([]);
  });
});
