/**
 * Reads and writes the workspace content shmhunt manages, through the real Azure SDK clients:
 * saved searches (hunting queries and workspace functions) with @azure/arm-operationalinsights, and analytics
 * rules, watchlists, watchlist items and metadata with @azure/arm-securityinsight.
 *
 * The managed marker: every content item shmhunt deploys has a Sentinel metadata resource whose source is
 * shmhunt's (markers.ts), and saved searches also carry a `managedBy: shmhunt` tag. Only marked resources are
 * `managed`, and prune deletes nothing else.
 */
import type { OperationalInsightsManagementClient, SavedSearch } from "@azure/arm-operationalinsights";
import type {
  AlertRuleUnion,
  MetadataModel,
  SecurityInsights,
  Watchlist,
  WatchlistItem,
} from "@azure/arm-securityinsight";
import { awaitAsyncOperation, type RequestSender } from "./async-operation.js";
import { contentResourceId, type WorkspaceRef } from "./content-types.js";
import { isManagedWatchlistItem } from "./desired.js";
import { isManagedMetadata, isManagedSavedSearch } from "./markers.js";
import type { ActualResource, Json, PlanStep, ResourceKind } from "./plan.js";
import { sdkModel } from "./render-sdk.js";

/**
 * A call the SDK makes as a plain one that the API version answers asynchronously (async-operation.ts): a 201 or 202
 * naming its operation, followed to its end. The client (1.0.0-beta.6) does not expect a 202: it arrives as an
 * error carrying the answer.
 */
interface Answer {
  readonly status: number;
  readonly headers: { get(name: string): string | undefined };
}

async function longRunning(
  client: RequestSender,
  what: string,
  call: (onResponse: (response: Answer) => void) => Promise<unknown>,
): Promise<void> {
  let answer: Answer | undefined;
  try {
    await call((response) => {
      answer = response;
    });
  } catch (error) {
    // (By its fields: the client's RestError may be another copy of the class than this module's.)
    const response = (error as { name?: unknown; response?: Answer }).response;
    if ((error as { name?: unknown }).name !== "RestError" || response?.status !== 202) throw error;
    answer = response;
  }
  if (answer && (answer.status === 201 || answer.status === 202))
    await awaitAsyncOperation(client, answer.headers, what);
}

export interface ContentClients {
  readonly securityInsights: SecurityInsights;
  readonly operationalInsights: OperationalInsightsManagementClient;
}

/** Server-populated envelope fields that are never part of what shmhunt owns. */
const envelope = new Set(["id", "name", "type", "systemData", "etag"]);

function ownedProperties(model: object): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(model)) {
    if (envelope.has(key) || value === undefined) continue;
    out[key] = (value instanceof Date ? value.toISOString() : value) as Json;
  }
  return out;
}

export class SentinelContentClient {
  constructor(
    private readonly clients: ContentClients,
    private readonly workspace: WorkspaceRef,
  ) {}

  /**
   * Everything of the kinds shmhunt deploys, each marked managed or not. Watchlist items are read for managed
   * watchlists and for the `watchlists` named (the desired ones: a watchlist whose metadata a failed deploy did
   * not write yet still has shmhunt's rows).
   */
  async readActual(options: { readonly watchlists?: readonly string[] } = {}): Promise<ActualResource[]> {
    const wanted = new Set((options.watchlists ?? []).map((w) => w.toLowerCase()));
    const { resourceGroup: rg, workspaceName: ws } = this.workspace;
    const { securityInsights: si, operationalInsights: oi } = this.clients;
    const out: ActualResource[] = [];

    const metadata: MetadataModel[] = [];
    for await (const m of si.metadata.list(rg, ws)) metadata.push(m);
    const managedParents = new Set(metadata.filter(isManagedMetadata).map((m) => (m.parentId ?? "").toLowerCase()));
    for (const m of metadata) {
      out.push(this.actual("metadata", m.name ?? "", m, isManagedMetadata(m)));
    }

    const searches = await oi.savedSearches.listByWorkspace(rg, ws);
    for (const s of searches.value ?? []) {
      const kind: ResourceKind = s.functionAlias ? "workspaceFunction" : "savedSearch";
      out.push(this.actual(kind, s.name ?? "", s, isManagedSavedSearch(s)));
    }

    for await (const rule of si.alertRules.list(rg, ws)) {
      const managed = managedParents.has((rule.id ?? "").toLowerCase());
      out.push(this.actual("alertRule", rule.name ?? "", rule, managed));
    }

    for await (const w of si.watchlists.list(rg, ws)) {
      const alias = w.watchlistAlias ?? w.name ?? "";
      const managed = managedParents.has((w.id ?? "").toLowerCase());
      out.push(this.actual("watchlist", alias, w, managed));
      if (!managed && !wanted.has(alias.toLowerCase())) continue;
      // Only shmhunt's own rows: an analyst's additions (random ids) are kept through every deploy and prune.
      for await (const item of si.watchlistItems.list(rg, ws, alias)) {
        const itemName = item.name ?? "";
        const own = isManagedWatchlistItem(alias, itemName, item.itemsKeyValue);
        out.push({ ...this.actual("watchlistItem", itemName, item, own), parent: alias });
      }
    }
    return out;
  }

  /** Carries out one create, update or delete step of a plan. */
  async apply(step: PlanStep): Promise<void> {
    if (step.action === "unchanged") return;
    const { resourceGroup: rg, workspaceName: ws } = this.workspace;
    const { securityInsights: si, operationalInsights: oi } = this.clients;
    const name = step.name;

    if (step.action === "delete") {
      switch (step.kind) {
        case "savedSearch":
        case "workspaceFunction":
          return oi.savedSearches.delete(rg, ws, name);
        case "alertRule":
          return si.alertRules.delete(rg, ws, name);
        case "watchlist":
          return longRunning(si, `deleting watchlist ${name}`, (onResponse) =>
            si.watchlists.delete(rg, ws, name, { onResponse }),
          );
        case "watchlistItem":
          return si.watchlistItems.delete(rg, ws, requireParent(step), name);
        case "metadata":
          return si.metadata.delete(rg, ws, name);
      }
    }

    const properties = step.desired ? sdkModel(step.desired) : {};
    switch (step.kind) {
      case "savedSearch":
      case "workspaceFunction":
        // SavedSearches.json: "To override an existing saved search, use "*" or specify the current Etag"
        await oi.savedSearches.createOrUpdate(rg, ws, name, {
          ...properties,
          etag: step.actual?.etag,
        } as unknown as SavedSearch);
        return;
      case "alertRule":
        await si.alertRules.createOrUpdate(rg, ws, name, properties as unknown as AlertRuleUnion);
        return;
      case "watchlist":
        // Its items are written next: the watchlist must be there, its operation over.
        return longRunning(si, `writing watchlist ${name}`, (onResponse) =>
          si.watchlists.createOrUpdate(rg, ws, name, properties as unknown as Watchlist, { onResponse }),
        );
      case "watchlistItem":
        await si.watchlistItems.createOrUpdate(
          rg,
          ws,
          requireParent(step),
          name,
          properties as unknown as WatchlistItem,
        );
        return;
      case "metadata":
        await si.metadata.create(rg, ws, name, properties as unknown as MetadataModel);
        return;
    }
  }

  /** The ARM id of a workspace child resource, as metadata `parentId` expects it. */
  resourceId(kind: ResourceKind, name: string, parent?: string): string {
    return contentResourceId(this.workspace, kind, name, parent);
  }

  private actual(
    kind: ResourceKind,
    name: string,
    model: object & { etag?: string },
    managed: boolean,
  ): ActualResource {
    return { kind, name, managed, properties: ownedProperties(model), ...(model.etag ? { etag: model.etag } : {}) };
  }
}

function requireParent(step: PlanStep): string {
  if (!step.parent) throw new Error(`watchlist item '${step.name}' has no watchlist`);
  return step.parent;
}
