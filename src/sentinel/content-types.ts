/**
 * Each kind of content shmhunt deploys, as Azure Resource Manager names it: the resource type and the API version
 * whose model the desired properties follow (the Bicep generator emits these; the SDK adapter speaks the same
 * models through @azure/arm-operationalinsights and @azure/arm-securityinsight).
 *
 * Saved searches are children of the workspace; the Security Insights kinds are extension resources scoped to
 * the workspace (`scope: workspace` in Bicep); watchlist items are children of their watchlist.
 */
import type { ResourceKind } from "./plan.js";

interface ArmTypeInfo {
  readonly armType: string;
  readonly apiVersion: string;
  /** True for Microsoft.SecurityInsights extension resources (deployed with `scope` = the workspace). */
  readonly extensionOfWorkspace: boolean;
}

/**
 * The API versions shmhunt speaks, one owner for the SDK clients (clients.ts), the ARM templates and the Bicep.
 * Each is the newest stable version whose model carries every property shmhunt writes, checked against the spec files
 * (../shared/reference/azure-specs):
 * - `savedSearches` 2025-07-01 (OperationalInsights/stable/2025-07-01/SavedSearches.json: category, displayName,
 *   query, functionAlias, functionParameters, version, tags, etag, as 2020-08-01 has them);
 * - `securityInsights` 2025-12-01 (SecurityInsights/stable/2025-12-01: AlertRules.json's Scheduled rule has
 *   entityMappings, eventGroupingSettings, incidentConfiguration, customDetails, tactics and techniques;
 *   Watchlists.json, Metadata.json, Incidents.json with comments and relations);
 * - `bookmarksPreview` 2022-09-01-preview, kept for ONE feature: a hunting bookmark's `entityMappings`, `tactics`
 *   and `techniques` (Bookmarks.json: the 2025-12-01 BookmarkProperties has none of the three). The incident writer
 *   (incidents.ts) speaks it; nothing that deploys content does.
 */
export const API_VERSIONS = {
  savedSearches: "2025-07-01",
  securityInsights: "2025-12-01",
  bookmarksPreview: "2022-09-01-preview",
} as const;

const savedSearches: ArmTypeInfo = {
  armType: "Microsoft.OperationalInsights/workspaces/savedSearches",
  apiVersion: API_VERSIONS.savedSearches,
  extensionOfWorkspace: false,
};

const securityInsights = (type: string): ArmTypeInfo => ({
  armType: `Microsoft.SecurityInsights/${type}`,
  apiVersion: API_VERSIONS.securityInsights,
  extensionOfWorkspace: true,
});

export const armTypes: Readonly<Record<ResourceKind, ArmTypeInfo>> = {
  workspaceFunction: savedSearches,
  savedSearch: savedSearches,
  alertRule: securityInsights("alertRules"),
  watchlist: securityInsights("watchlists"),
  watchlistItem: securityInsights("watchlists/watchlistItems"),
  metadata: securityInsights("metadata"),
};

export interface WorkspaceRef {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly workspaceName: string;
}

/** The ARM id of the workspace. */
export function workspaceResourceId(workspace: WorkspaceRef): string {
  const { subscriptionId, resourceGroup, workspaceName } = workspace;
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.OperationalInsights/workspaces/${workspaceName}`;
}

/** The ARM id of a content resource of the workspace (what metadata `parentId` holds). */
export function contentResourceId(workspace: WorkspaceRef, kind: ResourceKind, name: string, parent?: string): string {
  const base = workspaceResourceId(workspace);
  switch (kind) {
    case "savedSearch":
    case "workspaceFunction":
      return `${base}/savedSearches/${name}`;
    case "alertRule":
      return `${base}/providers/Microsoft.SecurityInsights/alertRules/${name}`;
    case "watchlist":
      return `${base}/providers/Microsoft.SecurityInsights/watchlists/${name}`;
    case "watchlistItem":
      return `${base}/providers/Microsoft.SecurityInsights/watchlists/${parent ?? ""}/watchlistItems/${name}`;
    case "metadata":
      return `${base}/providers/Microsoft.SecurityInsights/metadata/${name}`;
  }
}

/**
 * The workspace the content is built for before it becomes a template (Bicep, ARM): every ARM id derived from it
 * is replaced by a reference to the deployed resource; a trace of it left in a template is an error.
 */
export const placeholderWorkspace: WorkspaceRef = {
  subscriptionId: "00000000-0000-0000-0000-00000000b1c3",
  resourceGroup: "shmhunt-bicep-placeholder-rg",
  workspaceName: "shmhunt-bicep-placeholder-ws",
};
const placeholderMarker = "shmhunt-bicep-placeholder";

/**
 * How a template (ARM, Bicep) names the workspace and the desired resources where the content holds their ARM ids
 * (metadata `parentId`, built for `workspace`): a lookup from such an id, in any case, to the template's expression.
 */
export function templateReferences<
  R extends { readonly kind: ResourceKind; readonly name: string; readonly parent?: string },
>(
  workspace: WorkspaceRef,
  resources: readonly R[],
  workspaceExpression: string,
  expressionOf: (resource: R, index: number) => string,
): (text: string) => string | undefined {
  const ids = new Map<string, string>([[workspaceResourceId(workspace).toLowerCase(), workspaceExpression]]);
  for (const [i, r] of resources.entries()) {
    ids.set(contentResourceId(workspace, r.kind, r.name, r.parent).toLowerCase(), expressionOf(r, i));
  }
  return (text) => ids.get(text.toLowerCase());
}

/** A template holds no trace of the workspace the content was built for (an id no reference replaced). */
export function assertNoWorkspaceTrace(template: string, workspace: WorkspaceRef, format: "ARM" | "Bicep"): void {
  const traces = [placeholderMarker, workspace.subscriptionId].filter((t) => template.includes(t));
  if (traces.length) {
    throw new Error(
      `the desired content holds an id of the workspace that is not one of its resources (${traces.join(", ")}): it cannot be expressed in ${format}`,
    );
  }
}
