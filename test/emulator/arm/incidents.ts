/** `incidents`, `bookmarks` and `incidents/{id}/relations`, with the fields the service keeps and derives. */

import type { WireResource } from "../state.js";
import { EMULATOR_USER } from "./context.js";
import { type Kind, stripReadOnly, type WriteContext } from "./kind.js";
import { checkEnum, checkString, checkStringArray, Enums, invalid, propertiesOf, requireProps } from "./validation.js";
import { armError, badRequest, fail, isRecord } from "./wire.js";

export const incidents: Kind = {
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
          commentsCount: workspace.childrenOf("incidents/comments", resource.name).list().length,
          alertProductNames: [],
          tactics: [],
          techniques: [],
        },
      },
    };
  },
  afterDelete(workspace, name) {
    workspace.incidentRelations.delete(name.toLowerCase());
    workspace.children.delete(`incidents/comments/${name.toLowerCase()}`);
  },
};

/** `incidents/{id}/comments`: the message the client writes; author and times are the service's (readOnly). */
export const incidentComments: Kind = {
  label: "Comment",
  type: "Microsoft.SecurityInsights/Incidents/Comments",
  collection: (w, parent) => w.childrenOf("incidents/comments", parent ?? ""),
  write({ request, name, id, body, previous }) {
    const properties = propertiesOf(body);
    const now = request.now.toISOString();
    return {
      id,
      name,
      type: this.type,
      properties: {
        message: properties.message,
        createdTimeUtc: previous?.properties.createdTimeUtc ?? now,
        lastModifiedTimeUtc: now,
        author: { objectId: EMULATOR_USER.objectId, email: EMULATOR_USER.email, name: EMULATOR_USER.name },
      },
    };
  },
};

/** `bookmarks/{id}/relations` (2022-09-01-preview only; not in the stable API). */
export const bookmarkRelations: Kind = {
  label: "Relation",
  type: "Microsoft.SecurityInsights/bookmarks/relations",
  collection: (w, parent) => w.childrenOf("bookmarks/relations", parent ?? ""),
  write(context) {
    return { ...relationOf(context), type: this.type };
  },
};

export const bookmarks: Kind = {
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

export const incidentRelations: Kind = {
  label: "Relation",
  type: "Microsoft.SecurityInsights/incidents/relations",
  collection: (w, parent) => w.relationsOf(parent ?? ""),
  write(context) {
    return { ...relationOf(context), type: this.type };
  },
};

/** An incident or bookmark relation: its related resource must be a Security Insights resource of the workspace. */
function relationOf({ request, name, id, body }: WriteContext): WireResource {
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
    kind.toLowerCase() === "bookmarks" ? "Microsoft.SecurityInsights/Bookmarks" : `Microsoft.SecurityInsights/${kind}`;
  return {
    id,
    name,
    type: "",
    properties: { relatedResourceId: related, relatedResourceName: relatedName, relatedResourceType: relatedType },
  };
}
