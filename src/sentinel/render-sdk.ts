/**
 * The content model rendered for the Azure SDK clients: the flattened SDK model `shmhunt deploy` passes to
 * `createOrUpdate` (content-client.ts), and the request body the SDK serializes from it, which is also the body
 * of an ARM or Bicep resource (render-arm.ts, render-bicep.ts): `kind` and `etag` at the top, every other member
 * under `properties` (the specs' `x-ms-client-flatten`).
 */
import type { DesiredResource, Json, ResourceKind } from "./plan.js";

type JsonObject = { readonly [key: string]: Json };

/** The SDK model of a desired resource (flattened: `kind` beside the properties). */
export function sdkModel(resource: DesiredResource): JsonObject {
  return resource.properties;
}

/** A desired resource in the ARM wire shape: top-level members (an alert rule's `kind`) and `properties`. */
export interface WireBody {
  readonly top: JsonObject;
  readonly properties: JsonObject;
}

/** Model members the SDK serializes at the top level of the request body; the rest goes under `properties`. */
const topLevelMembers: Readonly<Record<ResourceKind, readonly string[]>> = {
  workspaceFunction: ["etag"],
  savedSearch: ["etag"],
  alertRule: ["kind", "etag"],
  watchlist: ["etag"],
  watchlistItem: ["etag"],
  metadata: ["etag"],
};

/** The request body the SDK sends for a resource's model. */
export function wireBody(resource: Pick<DesiredResource, "kind" | "properties">): WireBody {
  const top: Record<string, Json> = {};
  const properties: Record<string, Json> = {};
  for (const [key, value] of Object.entries(sdkModel(resource as DesiredResource))) {
    if (value === undefined) continue;
    if (topLevelMembers[resource.kind].includes(key)) top[key] = value;
    else properties[key] = value;
  }
  return { top, properties };
}
