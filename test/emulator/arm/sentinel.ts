/**
 * `Microsoft.SecurityInsights` (2022-09-01-preview) under a workspace: alertRules, incidents (+ relations),
 * bookmarks, watchlists (+ watchlistItems), metadata. One generic handler does what they share (201 on create /
 * 200 on update, etags, If-Match, paging, 404 and 204 on delete); each kind adds its checks and read-only fields.
 */
import { randomUUID } from "node:crypto";
import type { ResourceCollection, WireResource, WorkspaceState } from "../state.js";
import { validateScheduledRule } from "./alert-rule.js";
import { type ArmRequest, EMULATOR_USER, TENANT_ID } from "./context.js";
import { parseCsv } from "./csv.js";
import {
  checkBoolean,
  checkEnum,
  checkString,
  checkStringArray,
  Enums,
  invalid,
  propertiesOf,
  requireProps,
} from "./validation.js";
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

export const SECURITY_INSIGHTS_API_VERSIONS = ["2022-09-01-preview"] as const;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface WriteContext {
  readonly request: ArmRequest;
  readonly name: string;
  readonly id: string;
  readonly body: Record<string, unknown>;
  readonly previous: WireResource | undefined;
  /** The parent's name for child kinds (incident, watchlist alias). */
  readonly parent?: string;
}

interface Kind {
  /** The label in error messages, e.g. "Alert rule". */
  readonly label: string;
  /** The wire `type`. */
  readonly type: string;
  collection(workspace: WorkspaceState, parent?: string): ResourceCollection;
  /** Checks the body and builds the stored resource (etag set by the caller). */
  write(context: WriteContext): WireResource;
  /** Read-time fields that depend on other resources (counts, back references). */
  present?(resource: WireResource, workspace: WorkspaceState): WireResource;
  afterDelete?(workspace: WorkspaceState, name: string, parent?: string): void;
  /** Methods beyond GET/PUT/DELETE. */
  readonly patch?: boolean;
}

const alertRules: Kind = {
  label: "Alert rule",
  type: "Microsoft.SecurityInsights/alertRules",
  collection: (w) => w.alertRules,
  write({ request, name, id, body, previous }) {
    const kind = body.kind;
    const known = [
      "Scheduled",
      "MicrosoftSecurityIncidentCreation",
      "Fusion",
      "MLBehaviorAnalytics",
      "ThreatIntelligence",
      "NRT",
    ];
    if (typeof kind !== "string" || !known.includes(kind)) {
      invalid(`Required property 'kind' must be one of ${known.join(", ")}.`);
    }
    if (previous && previous.kind !== kind)
      fail(badRequest(`The kind of alert rule '${name}' cannot be changed from ${previous.kind} to ${kind}.`));
    if (kind !== "Scheduled") {
      fail(badRequest(`Alert rule kind '${kind}' is not supported by the shmhunt emulator (Scheduled only).`));
    }
    const properties = validateScheduledRule(body, request.workspace, request.engine);
    return {
      id,
      name,
      type: this.type,
      kind,
      properties: {
        alertRuleTemplateName: null,
        ...properties,
        lastModifiedUtc: request.now.toISOString(),
      },
    };
  },
};

const incidents: Kind = {
  label: "Incident",
  type: "Microsoft.SecurityInsights/incidents",
  collection: (w) => w.incidents,
  write({ request, name, id, body, previous }) {
    const properties = propertiesOf(body);
    requireProps(properties, ["title", "severity", "status"]);
    checkString(properties, "title", { nonEmpty: true });
    checkString(properties, "description");
    checkEnum(properties, "severity", Enums.severity);
    checkEnum(properties, "status", Enums.incidentStatus);
    checkEnum(properties, "classification", Enums.incidentClassification);
    checkEnum(properties, "classificationReason", Enums.incidentClassificationReason);
    if (properties.status === "Closed" && properties.classification === undefined) {
      invalid("Property 'classification' is required when the incident status is 'Closed'.");
    }
    const labels = properties.labels ?? [];
    if (!Array.isArray(labels) || labels.some((l) => !isRecord(l) || typeof l.labelName !== "string")) {
      invalid("Property 'labels' must be an array of { labelName }.");
    }
    const owner = properties.owner;
    if (owner !== undefined && owner !== null) {
      if (!isRecord(owner)) invalid("Property 'owner' must be an object.");
      checkEnum(owner, "ownerType", Enums.ownerType, "owner.ownerType");
    }
    const old = previous?.properties ?? {};
    const number = typeof old.incidentNumber === "number" ? old.incidentNumber : request.workspace.nextIncidentNumber();
    const created = typeof old.createdTimeUtc === "string" ? old.createdTimeUtc : request.now.toISOString();
    return {
      id,
      name,
      type: this.type,
      properties: {
        ...stripReadOnly(properties, [
          "incidentNumber",
          "incidentUrl",
          "createdTimeUtc",
          "lastModifiedTimeUtc",
          "additionalData",
        ]),
        labels: labels.map((l: Record<string, unknown>) => ({
          labelName: l.labelName,
          labelType: l.labelType ?? "User",
        })),
        relatedAnalyticRuleIds: properties.relatedAnalyticRuleIds ?? [],
        owner: {
          objectId: null,
          email: null,
          assignedTo: null,
          userPrincipalName: null,
          ownerType: "Unknown",
          ...(isRecord(owner) ? owner : {}),
        },
        providerName: properties.providerName ?? "Azure Sentinel",
        providerIncidentId: properties.providerIncidentId ?? String(number),
        incidentNumber: number,
        incidentUrl: `https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident${id}`,
        createdTimeUtc: created,
        lastModifiedTimeUtc: request.now.toISOString(),
      },
    };
  },
  present(resource, workspace) {
    const bookmarks = workspace
      .relationsOf(resource.name)
      .list()
      .filter(
        (r) => String(r.properties.relatedResourceType).toLowerCase() === "microsoft.securityinsights/bookmarks",
      ).length;
    return {
      ...resource,
      properties: {
        ...resource.properties,
        additionalData: {
          alertsCount: 0,
          bookmarksCount: bookmarks,
          commentsCount: 0,
          alertProductNames: [],
          tactics: [],
          techniques: [],
        },
      },
    };
  },
  afterDelete(workspace, name) {
    workspace.incidentRelations.delete(name.toLowerCase());
  },
};

const bookmarks: Kind = {
  label: "Bookmark",
  type: "Microsoft.SecurityInsights/Bookmarks",
  collection: (w) => w.bookmarks,
  write({ request, name, id, body, previous }) {
    const properties = propertiesOf(body);
    requireProps(properties, ["displayName", "query"]);
    checkString(properties, "displayName", { nonEmpty: true });
    checkString(properties, "query", { nonEmpty: true });
    checkString(properties, "queryResult");
    checkString(properties, "notes");
    checkStringArray(properties, "labels");
    for (const tactic of checkStringArray(properties, "tactics")) {
      if (!(Enums.tactics as readonly string[]).includes(tactic))
        invalid(`Error converting value '${tactic}' for 'tactics'.`);
    }
    for (const technique of checkStringArray(properties, "techniques")) {
      if (!/^T\d{4}$/.test(technique))
        fail(badRequest(`The technique '${technique}' is invalid. The expected format is 'T####'`));
    }
    const now = request.now.toISOString();
    const old = previous?.properties ?? {};
    return {
      id,
      name,
      type: this.type,
      properties: {
        ...stripReadOnly(properties, ["incidentInfo"]),
        created: properties.created ?? old.created ?? now,
        createdBy: properties.createdBy ?? old.createdBy ?? EMULATOR_USER,
        updated: now,
        updatedBy: properties.updatedBy ?? EMULATOR_USER,
      },
    };
  },
  present(resource, workspace) {
    for (const incident of workspace.incidents.list()) {
      for (const relation of workspace.relationsOf(incident.name).list()) {
        if (String(relation.properties.relatedResourceId).toLowerCase() !== resource.id.toLowerCase()) continue;
        return {
          ...resource,
          properties: {
            ...resource.properties,
            incidentInfo: {
              incidentId: incident.name,
              severity: incident.properties.severity,
              title: incident.properties.title,
              relationName: relation.name,
            },
          },
        };
      }
    }
    return resource;
  },
};

const incidentRelations: Kind = {
  label: "Relation",
  type: "Microsoft.SecurityInsights/incidents/relations",
  collection: (w, parent) => w.relationsOf(parent ?? ""),
  write({ request, name, id, body }) {
    const properties = propertiesOf(body);
    requireProps(properties, ["relatedResourceId"]);
    checkString(properties, "relatedResourceId", { nonEmpty: true });
    const related = String(properties.relatedResourceId);
    const match = /\/providers\/Microsoft\.SecurityInsights\/([^/]+)\/([^/]+)$/i.exec(related);
    if (!match) invalid(`Property 'relatedResourceId' '${related}' is not a Microsoft.SecurityInsights resource id.`);
    const [, kind = "", relatedName = ""] = match;
    if (!related.toLowerCase().startsWith(request.workspace.resourceId.toLowerCase())) {
      fail(badRequest(`The related resource '${related}' is not in this workspace.`));
    }
    if (kind.toLowerCase() === "bookmarks" && !request.workspace.bookmarks.get(relatedName)) {
      fail(armError(404, "NotFound", `The related resource '${related}' was not found.`));
    }
    const relatedType =
      kind.toLowerCase() === "bookmarks"
        ? "Microsoft.SecurityInsights/Bookmarks"
        : `Microsoft.SecurityInsights/${kind}`;
    return {
      id,
      name,
      type: this.type,
      properties: { relatedResourceId: related, relatedResourceName: relatedName, relatedResourceType: relatedType },
    };
  },
};

const watchlists: Kind = {
  label: "Watchlist",
  type: "Microsoft.SecurityInsights/Watchlists",
  collection: (w) => w.watchlists,
  write({ request, name, id, body, previous }) {
    const properties = propertiesOf(body);
    requireProps(properties, ["displayName", "provider", "itemsSearchKey"]);
    for (const key of ["displayName", "provider", "itemsSearchKey"]) checkString(properties, key, { nonEmpty: true });
    checkString(properties, "source");
    checkString(properties, "description");
    if (
      properties.watchlistAlias !== undefined &&
      String(properties.watchlistAlias).toLowerCase() !== name.toLowerCase()
    ) {
      fail(
        badRequest(
          `The watchlist alias '${String(properties.watchlistAlias)}' does not match the alias in the URL '${name}'.`,
        ),
      );
    }
    if (previous && previous.properties.itemsSearchKey !== properties.itemsSearchKey) {
      fail(badRequest("The itemsSearchKey of an existing watchlist cannot be changed."));
    }
    if (properties.rawContent !== undefined) loadRawContent(request.workspace, name, properties, request.now);
    const now = request.now.toISOString();
    const old = previous?.properties ?? {};
    const { rawContent: _raw, ...kept } = properties;
    return {
      id,
      name,
      type: this.type,
      properties: {
        ...kept,
        watchlistId: old.watchlistId ?? randomUUID(),
        watchlistAlias: name,
        watchlistType: "watchlist",
        created: old.created ?? now,
        updated: now,
        createdBy: old.createdBy ?? EMULATOR_USER,
        updatedBy: EMULATOR_USER,
        isDeleted: false,
        tenantId: TENANT_ID,
      },
    };
  },
  afterDelete(workspace, name) {
    workspace.watchlistItems.delete(name.toLowerCase());
  },
};

/** Watchlist CSV content becomes items, as the service does on upload. */
function loadRawContent(
  workspace: WorkspaceState,
  alias: string,
  properties: Record<string, unknown>,
  now: Date,
): void {
  checkString(properties, "rawContent");
  const contentType = String(properties.contentType ?? "");
  if (contentType.toLowerCase() !== "text/csv")
    invalid("Property 'contentType' must be 'text/csv' when 'rawContent' is given.");
  const skip = properties.numberOfLinesToSkip ?? 0;
  if (typeof skip !== "number" || !Number.isInteger(skip) || skip < 0)
    invalid("Property 'numberOfLinesToSkip' must be a non-negative integer.");
  const lines = String(properties.rawContent).split(/\r?\n/).slice(skip);
  const [header, ...records] = parseCsv(lines.join("\n"));
  const searchKey = String(properties.itemsSearchKey);
  if (!header?.includes(searchKey)) {
    fail(badRequest(`The search key '${searchKey}' is not one of the columns of the watchlist content.`));
  }
  const items = workspace.itemsOf(alias);
  for (const record of records) {
    const itemId = randomUUID();
    const values = Object.fromEntries(header.map((column, i) => [column, record[i] ?? ""]));
    items.set(itemId, watchlistItemResource(workspace, alias, itemId, values, now, undefined));
  }
}

function watchlistItemResource(
  workspace: WorkspaceState,
  alias: string,
  itemId: string,
  values: Record<string, unknown>,
  now: Date,
  previous: WireResource | undefined,
): WireResource {
  const stamp = now.toISOString();
  return {
    id: `${workspace.resourceId}/providers/Microsoft.SecurityInsights/Watchlists/${alias}/WatchlistItems/${itemId}`,
    name: itemId,
    type: "Microsoft.SecurityInsights/Watchlists/WatchlistItems",
    etag: newSentinelEtag(),
    properties: {
      watchlistItemType: "watchlist-item",
      watchlistItemId: itemId,
      tenantId: TENANT_ID,
      isDeleted: false,
      created: previous?.properties.created ?? stamp,
      updated: stamp,
      createdBy: previous?.properties.createdBy ?? EMULATOR_USER,
      updatedBy: EMULATOR_USER,
      itemsKeyValue: values,
    },
  };
}

const watchlistItems: Kind = {
  label: "Watchlist item",
  type: "Microsoft.SecurityInsights/Watchlists/WatchlistItems",
  collection: (w, parent) => w.itemsOf(parent ?? ""),
  write({ request, name, body, previous, parent = "" }) {
    if (!GUID.test(name)) fail(badRequest(`The watchlist item id '${name}' is not a valid GUID.`));
    const properties = propertiesOf(body);
    requireProps(properties, ["itemsKeyValue"]);
    const values = properties.itemsKeyValue;
    if (!isRecord(values)) invalid("Property 'itemsKeyValue' must be an object.");
    const watchlist = request.workspace.watchlists.get(parent);
    const searchKey = String(watchlist?.properties.itemsSearchKey ?? "");
    if (!(searchKey in values)) fail(badRequest(`The watchlist item does not contain the search key '${searchKey}'.`));
    return watchlistItemResource(request.workspace, watchlist?.name ?? parent, name, values, request.now, previous);
  },
};

const metadata: Kind = {
  label: "Metadata",
  type: "Microsoft.SecurityInsights/metadata",
  collection: (w) => w.metadata,
  patch: true,
  write({ name, id, body }) {
    const properties = propertiesOf(body);
    requireProps(properties, ["kind", "parentId"]);
    checkEnum(properties, "kind", Enums.metadataKind);
    checkString(properties, "parentId", { nonEmpty: true });
    checkString(properties, "contentId");
    checkString(properties, "version");
    const source = properties.source;
    if (source !== undefined) {
      if (!isRecord(source)) invalid("Property 'source' must be an object.");
      requireProps(source, ["kind"]);
      checkEnum(source, "kind", Enums.sourceKind, "source.kind");
    }
    const support = properties.support;
    if (support !== undefined) {
      if (!isRecord(support)) invalid("Property 'support' must be an object.");
      requireProps(support, ["tier"]);
      checkEnum(support, "tier", Enums.supportTier, "support.tier");
    }
    checkBoolean(properties, "isDeleted");
    return { id, name, type: this.type, properties };
  },
};

function stripReadOnly(properties: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(properties).filter(([key]) => !names.includes(key)));
}

const TOP_LEVEL: Record<string, Kind> = {
  alertrules: alertRules,
  incidents,
  bookmarks,
  watchlists,
  metadata,
};

const CHILD: Record<string, { parent: Kind; child: Kind; segment: string }> = {
  "incidents/relations": { parent: incidents, child: incidentRelations, segment: "relations" },
  "watchlists/watchlistitems": { parent: watchlists, child: watchlistItems, segment: "watchlistItems" },
};

/** Routes `rest` = ["providers", "Microsoft.SecurityInsights", ...]. */
export function handleSecurityInsights(request: ArmRequest): ArmReply {
  const [, , kindSegment = "", name, childSegment, childName, ...extra] = request.rest;
  const top = TOP_LEVEL[kindSegment.toLowerCase()];
  if (!top || extra.length > 0) return unknownType(request.rest.slice(2).join("/"));
  const base = `${request.workspace.resourceId}/providers/Microsoft.SecurityInsights`;
  if (name === undefined) return list(request, top, top.collection(request.workspace));
  if (childSegment === undefined) {
    return item(request, top, top.collection(request.workspace), name, `${base}/${kindSegment}/${name}`, undefined);
  }
  const child = CHILD[`${kindSegment.toLowerCase()}/${childSegment.toLowerCase()}`];
  if (!child) return unknownType(`${kindSegment}/${childSegment}`);
  const parent = top.collection(request.workspace).get(name);
  if (!parent) return notFound(`${top.label} '${name}'`);
  const collection = child.child.collection(request.workspace, parent.name);
  if (childName === undefined) return list(request, child.child, collection);
  const id = `${base}/${kindSegment}/${parent.name}/${child.segment}/${childName}`;
  return item(request, child.child, collection, childName, id, parent.name);
}

function unknownType(type: string): ArmReply {
  return armError(
    404,
    "InvalidResourceType",
    `The resource type '${type}' could not be found in the namespace 'Microsoft.SecurityInsights' for api version '2022-09-01-preview'.`,
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
