/**
 * The content model rendered as an ARM deployment template (the `kql/<rule>/<target>.arm.json` that Sentinel
 * Repositories can deploy): one resource per desired resource, with the type and API version of content-types.ts
 * and the request body of render-sdk.ts, as Bicep compiles the same resources (render-bicep.ts):
 * - saved searches are children of the workspace (`<workspace>/<name>`); the Microsoft.SecurityInsights kinds are
 *   extension resources with `scope` = the workspace; watchlist items are named `<watchlist>/<item>`;
 * - ARM ids of the content (metadata `parentId`) become `resourceId(…)` / `extensionResourceId(…)` expressions;
 * - `dependsOn`: metadata on its content, items on their watchlist, queries on the functions and watchlists they
 *   read (content-graph.ts);
 * - a literal string that starts with `[` and ends with `]` is written `[[…]` (ARM would read it as an expression).
 */
import { queryDependencies } from "./content-graph.js";
import {
  armTypes,
  assertNoWorkspaceTrace,
  placeholderWorkspace,
  templateReferences,
  type WorkspaceRef,
} from "./content-types.js";
import type { DesiredResource, Json } from "./plan.js";
import { wireBody } from "./render-sdk.js";

const ARM_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";

/** ARM template string literal inside an expression: `'…'` with `''` for a quote. */
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

const workspaceId = "resourceId('Microsoft.OperationalInsights/workspaces', parameters('workspace'))";

/** The ARM expression (without brackets) of a desired resource's id. */
function idExpression(resource: DesiredResource): string {
  const type = armTypes[resource.kind];
  const names = [...(resource.parent !== undefined ? [resource.parent] : []), resource.name].map(literal);
  return type.extensionOfWorkspace
    ? `extensionResourceId(${workspaceId}, ${literal(type.armType)}, ${names.join(", ")})`
    : `resourceId(${literal(type.armType)}, parameters('workspace'), ${names.join(", ")})`;
}

/** A JSON value with ids of the content replaced by expressions and other `[…]` strings escaped. */
function armValue(value: Json, reference: (text: string) => string | undefined): Json {
  if (typeof value === "string")
    return reference(value) ?? (value.startsWith("[") && value.endsWith("]") ? `[${value}` : value);
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return (value as readonly Json[]).map((v) => armValue(v, reference));
  return Object.fromEntries(
    Object.entries(value as { readonly [key: string]: Json }).map(([k, v]) => [k, armValue(v, reference)]),
  );
}

interface ArmTemplateOptions {
  /** The template's `metadata` (what it was generated from). */
  readonly metadata: { readonly [key: string]: Json };
  /** The workspace the desired content was built for (default: `placeholderWorkspace`). */
  readonly workspace?: WorkspaceRef;
}

/**
 * An ARM template of desired resources, deploying into the workspace named by the template parameter `workspace`:
 * ids of the workspace the content was built for become expressions.
 */
export function armTemplate(desired: readonly DesiredResource[], options: ArmTemplateOptions): { [key: string]: Json } {
  const workspace = options.workspace ?? placeholderWorkspace;
  const reference = templateReferences(workspace, desired, `[${workspaceId}]`, (d) => `[${idExpression(d)}]`);

  const resources = desired.map((d): Json => {
    const type = armTypes[d.kind];
    const body = wireBody(d);
    const owner = d.owner ? desired.find((o) => o.kind === d.owner?.kind && o.name === d.owner?.name) : undefined;
    const parent =
      d.kind === "watchlistItem" ? desired.find((o) => o.kind === "watchlist" && o.name === d.parent) : undefined;
    const needs = [...(owner ? [owner] : []), ...(parent ? [parent] : []), ...queryDependencies(d, desired)];
    const fullName = [...(d.parent !== undefined ? [d.parent] : []), d.name].join("/");
    return {
      type: type.armType,
      apiVersion: type.apiVersion,
      name: type.extensionOfWorkspace ? fullName : `[concat(parameters('workspace'), '/', ${literal(fullName)})]`,
      ...(type.extensionOfWorkspace
        ? { scope: "[format('Microsoft.OperationalInsights/workspaces/{0}', parameters('workspace'))]" }
        : {}),
      ...(armValue(body.top, reference) as { [key: string]: Json }),
      properties: armValue(body.properties, reference),
      ...(needs.length ? { dependsOn: needs.map((n) => `[${idExpression(n)}]`) } : {}),
    };
  });
  const template = {
    $schema: ARM_SCHEMA,
    contentVersion: "1.0.0.0",
    metadata: options.metadata,
    parameters: {
      workspace: { type: "string", metadata: { description: "The Log Analytics workspace with Microsoft Sentinel" } },
    },
    resources,
  };
  assertNoWorkspaceTrace(JSON.stringify(template), workspace, "ARM");
  return template;
}
