/**
 * `Microsoft.OperationalInsights/workspaces/savedSearches`: PUT, GET, LIST, DELETE, all answered with HTTP 200
 * (the SDK accepts nothing else), the list as `{"__metadata":{}, "value":[...]}` with camelCase properties, etags
 * in Log Analytics' `W/"datetime'…'"` form. A saved search with a function alias is a workspace function.
 */
import type { ArmRequest } from "./context.js";
import { methodNotAllowed } from "./sentinel.js";
import { checkString, invalid, propertiesOf, requireProps } from "./validation.js";
import {
  type ArmReply,
  armError,
  checkPreconditions,
  isRecord,
  newSavedSearchEtag,
  notFound,
  sameEtag,
} from "./wire.js";

const ALIAS = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function handleSavedSearches(request: ArmRequest): ArmReply {
  const [, name, ...extra] = request.rest;
  const searches = request.workspace.savedSearches;
  if (extra.length > 0) return armError(404, "NotFound", `No route for ${request.rest.join("/")}.`);
  if (name === undefined) {
    if (request.method !== "GET") return methodNotAllowed(request.method);
    return { status: 200, body: { __metadata: {}, value: searches.list() } };
  }
  const existing = searches.get(name);
  switch (request.method) {
    case "GET":
      return existing ? { status: 200, body: existing } : notFound(`Saved search '${name}'`);
    case "DELETE":
      checkPreconditions(request.headers, existing?.etag);
      searches.delete(name);
      return { status: 200 };
    case "PUT": {
      checkPreconditions(request.headers, existing?.etag);
      const properties = propertiesOf(request.body);
      requireProps(properties, ["category", "displayName", "query"]);
      for (const key of ["category", "displayName", "query", "functionAlias", "functionParameters"])
        checkString(properties, key);
      if (typeof properties.query === "string" && properties.query.trim() === "")
        invalid("Property 'query' must not be empty.");
      const alias = properties.functionAlias;
      if (typeof alias === "string" && alias !== "") {
        if (!ALIAS.test(alias)) invalid(`Property 'functionAlias' '${alias}' is not a valid function name.`);
        const clash = searches
          .list()
          .find((s) => s.name.toLowerCase() !== name.toLowerCase() && s.properties.functionAlias === alias);
        if (clash)
          return armError(
            409,
            "Conflict",
            `The function alias '${alias}' is already used by saved search '${clash.name}'.`,
          );
      }
      if (
        properties.version !== undefined &&
        (typeof properties.version !== "number" || !Number.isInteger(properties.version))
      ) {
        invalid("Property 'version' must be an integer.");
      }
      const tags = properties.tags ?? [];
      if (
        !Array.isArray(tags) ||
        tags.some((t) => !isRecord(t) || typeof t.name !== "string" || typeof t.value !== "string")
      ) {
        invalid("Property 'tags' must be an array of { name, value } strings.");
      }
      const bodyEtag = isRecord(request.body) ? request.body.etag : undefined;
      // SavedSearches.json, SavedSearch.etag: "To override an existing saved search, use "*" or specify the
      // current Etag" — an update without it is refused
      if (existing && (bodyEtag === undefined || bodyEtag === null || bodyEtag === "")) {
        return armError(
          409,
          "Conflict",
          `Saved search '${name}' already exists: to override an existing saved search, use * or specify the current Etag.`,
        );
      }
      if (existing?.etag && typeof bodyEtag === "string" && bodyEtag !== "*" && !sameEtag(bodyEtag, existing.etag)) {
        return armError(
          409,
          "Conflict",
          `The etag ${bodyEtag} does not match saved search '${name}' (${existing.etag}).`,
        );
      }
      const resource = {
        id: `${request.workspace.resourceId}/savedSearches/${existing?.name ?? name}`,
        name: existing?.name ?? name,
        type: "Microsoft.OperationalInsights/savedSearches",
        etag: newSavedSearchEtag(request.now),
        properties: { ...properties, tags },
      };
      searches.set(name, resource);
      return { status: 200, body: resource };
    }
    default:
      return methodNotAllowed(request.method);
  }
}
