/**
 * `Microsoft.SecurityInsights` (2022-09-01-preview) under a workspace: alertRules, incidents (+ relations),
 * bookmarks, watchlists (+ watchlistItems), metadata. One generic handler does what they share (201 on create /
 * 200 on update, etags, If-Match, paging, $orderby, 404 and 204 on delete); each kind (its own module) adds its
 * checks and read-only fields.
 */
import type { ResourceCollection, WireResource, WorkspaceState } from "../state.js";
import { alertRules } from "./alert-rules.js";
import type { ArmRequest } from "./context.js";
import { bookmarkRelations, bookmarks, incidentComments, incidentRelations, incidents } from "./incidents.js";
import type { Kind } from "./kind.js";
import { metadata } from "./metadata.js";
import { invalid } from "./validation.js";
import { watchlistItems, watchlists } from "./watchlists.js";
import {
  type ArmReply,
  armError,
  badRequest,
  checkPreconditions,
  fail,
  isRecord,
  newSentinelEtag,
  notFound,
  page,
  sameEtag,
} from "./wire.js";

const TOP_LEVEL: Record<string, Kind> = {
  alertrules: alertRules,
  incidents,
  bookmarks,
  watchlists,
  metadata,
};

const CHILD: Record<string, { parent: Kind; child: Kind; segment: string }> = {
  "incidents/relations": { parent: incidents, child: incidentRelations, segment: "relations" },
  "incidents/comments": { parent: incidents, child: incidentComments, segment: "comments" },
  "bookmarks/relations": { parent: bookmarks, child: bookmarkRelations, segment: "relations" },
  "watchlists/watchlistitems": { parent: watchlists, child: watchlistItems, segment: "watchlistItems" },
};

/** Routes `rest` = ["providers", "Microsoft.SecurityInsights", ...]. */
export function handleSecurityInsights(request: ArmRequest): ArmReply {
  const [, , kindSegment = "", name, childSegment, childName, ...extra] = request.rest;
  const top = TOP_LEVEL[kindSegment.toLowerCase()];
  if (!top || extra.length > 0) return unknownType(request.rest.slice(2).join("/"), request);
  const base = `${request.workspace.resourceId}/providers/Microsoft.SecurityInsights`;
  if (name === undefined) return list(request, top, top.collection(request.workspace));
  if (childSegment === undefined) {
    return item(request, top, top.collection(request.workspace), name, `${base}/${kindSegment}/${name}`, undefined);
  }
  const child = CHILD[`${kindSegment.toLowerCase()}/${childSegment.toLowerCase()}`];
  if (!child) return unknownType(`${kindSegment}/${childSegment}`, request);
  const parent = top.collection(request.workspace).get(name);
  if (!parent) return notFound(`${top.label} '${name}'`);
  const collection = child.child.collection(request.workspace, parent.name);
  if (childName === undefined) return list(request, child.child, collection);
  const id = `${base}/${kindSegment}/${parent.name}/${child.segment}/${childName}`;
  return item(request, child.child, collection, childName, id, parent.name);
}

function unknownType(type: string, request: ArmRequest): ArmReply {
  return armError(
    404,
    "InvalidResourceType",
    `The resource type '${type}' could not be found in the namespace 'Microsoft.SecurityInsights' for api version '${request.url.searchParams.get("api-version")}'.`,
  );
}

function present(kind: Kind, resource: WireResource, workspace: WorkspaceState): WireResource {
  return kind.present ? kind.present(resource, workspace) : resource;
}

function list(request: ArmRequest, kind: Kind, collection: ResourceCollection): ArmReply {
  if (request.method !== "GET") return methodNotAllowed(request.method);
  const params = request.url.searchParams;
  if (params.has("$filter")) {
    return badRequest(
      `$filter is not supported by the shmhunt emulator (got '${params.get("$filter")}'): list and filter locally.`,
    );
  }
  const items = sortItems(
    collection.list().map((r) => present(kind, r, request.workspace)),
    params.get("$orderby"),
  );
  return { status: 200, body: page(items, { listUrl: request.url, pageSize: request.pageSize }) };
}

/** `$orderby=properties/createdTimeUtc desc` (one key, `name` or `properties/<field>`, asc by default). */
function sortItems(items: WireResource[], orderBy: string | null): WireResource[] {
  if (orderBy === null) return items;
  const match = /^\s*(name|properties\/(\w+))(?:\s+(asc|desc))?\s*$/i.exec(orderBy);
  if (!match)
    fail(badRequest(`Unsupported $orderby '${orderBy}': use 'name' or 'properties/<field>' with asc or desc.`));
  const field = match[2];
  const key = (r: WireResource): string | number => {
    const v = field === undefined ? r.name : r.properties[field];
    return typeof v === "number" ? v : String(v ?? "");
  };
  const sign = match[3]?.toLowerCase() === "desc" ? -1 : 1;
  return [...items].sort((a, b) => (key(a) < key(b) ? -sign : key(a) > key(b) ? sign : 0));
}

function item(
  request: ArmRequest,
  kind: Kind,
  collection: ResourceCollection,
  name: string,
  id: string,
  parent: string | undefined,
): ArmReply {
  const existing = collection.get(name);
  switch (request.method) {
    case "GET":
      if (!existing) return notFound(`${kind.label} '${name}'`);
      return withEtag(200, present(kind, existing, request.workspace));
    case "DELETE": {
      checkPreconditions(request.headers, existing?.etag);
      if (!existing) return { status: 204 };
      collection.delete(name);
      kind.afterDelete?.(request.workspace, existing.name, parent);
      return { status: 200 };
    }
    case "PUT":
    case "PATCH": {
      if (request.method === "PATCH" && !kind.patch) return methodNotAllowed("PATCH");
      if (request.method === "PATCH" && !existing) return notFound(`${kind.label} '${name}'`);
      checkPreconditions(request.headers, existing?.etag);
      if (!isRecord(request.body)) invalid("The request body must be a JSON object.");
      const bodyEtag = request.body.etag;
      if (existing?.etag && typeof bodyEtag === "string" && bodyEtag !== "*" && !sameEtag(bodyEtag, existing.etag)) {
        return armError(
          409,
          "Conflict",
          `Newer version of ${kind.label.toLowerCase()} '${name}' exists: the etag ${bodyEtag} is not the current ${existing.etag}.`,
        );
      }
      const body =
        request.method === "PATCH" && existing
          ? {
              ...request.body,
              properties: {
                ...existing.properties,
                ...(isRecord(request.body.properties) ? request.body.properties : {}),
              },
            }
          : request.body;
      const resource = kind.write({
        request,
        name: existing?.name ?? name,
        id: existing?.id ?? id,
        body,
        previous: existing,
        parent,
      });
      resource.etag = newSentinelEtag();
      collection.set(name, resource);
      return withEtag(existing ? 200 : 201, present(kind, resource, request.workspace));
    }
    default:
      return methodNotAllowed(request.method);
  }
}

function withEtag(status: number, resource: WireResource): ArmReply {
  return { status, body: resource, headers: resource.etag ? { etag: resource.etag } : {} };
}

export function methodNotAllowed(method: string): ArmReply {
  return armError(405, "MethodNotAllowed", `The requested resource does not support http method '${method}'.`);
}
