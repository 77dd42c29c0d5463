/** `watchlists` and `watchlists/{alias}/watchlistItems`; CSV `rawContent` becomes items as on upload. */
import { randomUUID } from "node:crypto";
import type { WireResource, WorkspaceState } from "../state.js";
import { EMULATOR_USER, TENANT_ID } from "./context.js";
import { parseCsv } from "./csv.js";
import type { Kind } from "./kind.js";
import { checkString, invalid, propertiesOf, requireProps } from "./validation.js";
import { badRequest, fail, isRecord, newSentinelEtag } from "./wire.js";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * learn.microsoft.com/azure/sentinel/watchlists, "Limitations of watchlists": "the watchlist name and alias must each
 * be between 3 and 64 characters. The first and last characters must be alphanumeric. But you can include
 * whitespaces, hyphens, and underscores in between the first and last characters." (The spec states no pattern.)
 */
const WATCHLIST_NAME = /^[A-Za-z0-9][A-Za-z0-9 _-]{1,62}[A-Za-z0-9]$/;
const NAME_RULE =
  "must be 3 to 64 characters, begin and end with a letter or digit, and hold only letters, digits, spaces, hyphens and underscores";

export const watchlists: Kind = {
  label: "Watchlist",
  type: "Microsoft.SecurityInsights/Watchlists",
  collection: (w) => w.watchlists,
  write({ request, name, id, body, previous }) {
    const properties = propertiesOf(body);
    requireProps(properties, ["displayName", "provider", "itemsSearchKey"]);
    for (const key of ["displayName", "provider", "itemsSearchKey"]) checkString(properties, key, { nonEmpty: true });
    if (!WATCHLIST_NAME.test(name)) invalid(`The watchlist alias '${name}' ${NAME_RULE}.`);
    if (!WATCHLIST_NAME.test(String(properties.displayName)))
      invalid(`The watchlist name '${String(properties.displayName)}' ${NAME_RULE}.`);
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

export const watchlistItems: Kind = {
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
