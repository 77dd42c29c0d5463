/**
 * The Azure SDK clients shmhunt uses, each set to the API version content-types.ts names (`API_VERSIONS`):
 * - @azure/arm-securityinsight takes an `apiVersion` option: content deploys speak the stable version, the incident
 *   writer the preview its bookmarks need;
 * - @azure/arm-operationalinsights 9.x sends a constant api-version per operation group (2020-08-01 for saved
 *   searches) and takes no option, so a pipeline policy sets the saved-search requests' `api-version` to ours. The
 *   2025-07-01 model is the 2020-08-01 one (same properties, same etag rule), so the SDK's serializers still fit.
 */
import { OperationalInsightsManagementClient } from "@azure/arm-operationalinsights";
import { SecurityInsights, type SecurityInsightsOptionalParams } from "@azure/arm-securityinsight";
import type { ContentClients } from "./content-client.js";
import { API_VERSIONS } from "./content-types.js";

/** The credential the SDK clients take. */
type Credential = ConstructorParameters<typeof SecurityInsights>[0];
/** Client options the caller adds (endpoint, TLS, retries, an HTTP client); the API version is ours. */
type ClientOptions = Omit<SecurityInsightsOptionalParams, "apiVersion" | "$host">;
type PipelinePolicy = Parameters<OperationalInsightsManagementClient["pipeline"]["addPolicy"]>[0];

/** Sets `api-version` on every saved-search request (the path names `/savedSearches`). */
function savedSearchApiVersionPolicy(apiVersion: string = API_VERSIONS.savedSearches): PipelinePolicy {
  return {
    name: "shmhuntSavedSearchApiVersion",
    sendRequest(request, next) {
      const url = new URL(request.url);
      if (/\/savedSearches(\/|$)/i.test(url.pathname)) {
        url.searchParams.set("api-version", apiVersion);
        request.url = url.toString();
      }
      return next(request);
    },
  };
}

/** The content clients (deploy, plan, prune) at the API versions the templates use. */
export function contentClients(
  credential: Credential,
  subscriptionId: string,
  options: ClientOptions = {},
): ContentClients {
  return {
    securityInsights: new SecurityInsights(credential, subscriptionId, {
      ...options,
      apiVersion: API_VERSIONS.securityInsights,
    }),
    operationalInsights: withSavedSearchApiVersion(
      new OperationalInsightsManagementClient(credential, subscriptionId, options),
    ),
  };
}

function withSavedSearchApiVersion(client: OperationalInsightsManagementClient): OperationalInsightsManagementClient {
  client.pipeline.addPolicy(savedSearchApiVersionPolicy());
  return client;
}

/** The client of the incident writer (incidents.ts): the preview, for bookmark entity mappings, tactics, techniques. */
export function incidentClient(
  credential: Credential,
  subscriptionId: string,
  options: ClientOptions = {},
): SecurityInsights {
  return new SecurityInsights(credential, subscriptionId, { ...options, apiVersion: API_VERSIONS.bookmarksPreview });
}
