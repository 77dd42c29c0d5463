/**
 * The ARM side: parses `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/
 * workspaces/{ws}/...` (literal segments case-insensitive, as ARM), checks `api-version`, finds the workspace,
 * and hands the rest of the path to the saved-search or Security Insights routes.
 */
import type { QueryEngine } from "../query-engine.js";
import type { EmulatorState } from "../state.js";
import type { ArmRequest } from "./context.js";
import { handleSavedSearches, SAVED_SEARCH_API_VERSIONS } from "./saved-searches.js";
import { handleSecurityInsights, SECURITY_INSIGHTS_API_VERSIONS } from "./sentinel.js";
import { ArmFailure, type ArmReply, armError } from "./wire.js";

export interface ArmCall {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly body: unknown;
}

export interface ArmContext {
  readonly state: EmulatorState;
  readonly engine: QueryEngine;
  readonly pageSize: number;
  readonly now: () => Date;
}

export function handleArm(call: ArmCall, context: ArmContext): ArmReply {
  const segments = call.url.pathname
    .split("/")
    .filter((s) => s !== "")
    .map((s) => decodeURIComponent(s));
  const lower = segments.map((s) => s.toLowerCase());
  const shapeOk =
    lower[0] === "subscriptions" &&
    lower[2] === "resourcegroups" &&
    lower[4] === "providers" &&
    lower[5] === "microsoft.operationalinsights" &&
    lower[6] === "workspaces" &&
    segments.length > 8;
  if (!shapeOk) return armError(404, "NotFound", `No route for '${call.url.pathname}' in the shmhunt emulator.`);
  const [, subscriptionId = "", , resourceGroup = "", , , , workspaceName = "", ...rest] = segments;
  const restLower = rest.map((s) => s.toLowerCase());

  let versions: readonly string[];
  let handler: (request: ArmRequest) => ArmReply;
  let type: string;
  if (restLower[0] === "savedsearches") {
    versions = SAVED_SEARCH_API_VERSIONS;
    handler = handleSavedSearches;
    type = "workspaces/savedSearches";
  } else if (restLower[0] === "providers" && restLower[1] === "microsoft.securityinsights" && rest.length >= 3) {
    versions = SECURITY_INSIGHTS_API_VERSIONS;
    handler = handleSecurityInsights;
    type = rest[2] ?? "";
  } else {
    return armError(404, "NotFound", `No route for '${call.url.pathname}' in the shmhunt emulator.`);
  }

  const apiVersion = call.url.searchParams.get("api-version");
  if (!apiVersion) {
    return armError(
      400,
      "MissingApiVersionParameter",
      "The api-version query parameter (?api-version=) is required for all requests.",
    );
  }
  if (!versions.includes(apiVersion)) {
    return armError(
      400,
      "NoRegisteredProviderFound",
      `No registered resource provider found for location 'eastus' and API version '${apiVersion}' for type '${type}'. The supported api-versions are '${versions.join(", ")}'.`,
    );
  }

  const workspace = context.state.find({ subscriptionId, resourceGroup, name: workspaceName });
  if (!workspace) {
    return armError(
      404,
      "ResourceNotFound",
      `The Resource 'Microsoft.OperationalInsights/workspaces/${workspaceName}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    );
  }
  const request: ArmRequest = {
    method: call.method.toUpperCase(),
    workspace,
    rest,
    url: call.url,
    headers: call.headers,
    body: call.body,
    now: context.now(),
    engine: context.engine,
    pageSize: context.pageSize,
  };
  try {
    return handler(request);
  } catch (error) {
    if (error instanceof ArmFailure) return error.reply;
    throw error;
  }
}
