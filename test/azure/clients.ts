/**
 * The real SDK clients, pointed at the emulator: endpoint + the emulator's CA (Node TLS `ca`, via the pipeline's
 * `tlsOptions`), the emulator's local credential, and short retry delays so retry tests stay fast. Nothing else
 * is changed: the SDKs' bearer-token, retry and throttling policies run as shipped.
 */
import { OperationalInsightsManagementClient } from "@azure/arm-operationalinsights";
import { SecurityInsights } from "@azure/arm-securityinsight";
import type { PipelineRetryOptions } from "@azure/core-rest-pipeline";
import { LogsQueryClient } from "@azure/monitor-query-logs";
import { contentClients } from "../../src/sentinel/clients.js";
import type { Emulator } from "../emulator/server.js";

export const fastRetry: PipelineRetryOptions = { maxRetries: 3, retryDelayInMs: 20, maxRetryDelayInMs: 100 };

export interface Clients {
  readonly sentinel: SecurityInsights;
  readonly operationalInsights: OperationalInsightsManagementClient;
  readonly logs: LogsQueryClient;
}

export function makeClients(emulator: Emulator, retryOptions: PipelineRetryOptions = fastRetry): Clients {
  const subscriptionId = emulator.workspace.subscriptionId;
  return {
    sentinel: new SecurityInsights(emulator.credential, subscriptionId, {
      ...emulator.armClientOptions(),
      retryOptions,
    }),
    operationalInsights: new OperationalInsightsManagementClient(emulator.credential, subscriptionId, {
      ...emulator.armClientOptions(),
      retryOptions,
    }),
    logs: new LogsQueryClient(emulator.credential, { ...emulator.logsClientOptions(), retryOptions }),
  };
}

/** The content clients `shmhunt deploy` builds (src/sentinel/clients.ts: the API versions of content-types.ts). */
export function makeContentClients(emulator: Emulator, retryOptions: PipelineRetryOptions = fastRetry) {
  return contentClients(emulator.credential, emulator.workspace.subscriptionId, {
    ...emulator.armClientOptions(),
    retryOptions,
  });
}

/** The emulated workspace's incidents, bookmarks and incident relations, read back through the Sentinel SDK. */
export async function sentinelRecords(clients: Clients, emulator: Emulator) {
  const ws = emulator.workspace;
  const incidents = [];
  for await (const incident of clients.sentinel.incidents.list(ws.resourceGroup, ws.name)) incidents.push(incident);
  const bookmarks = [];
  for await (const bookmark of clients.sentinel.bookmarks.list(ws.resourceGroup, ws.name)) bookmarks.push(bookmark);
  const relations = [];
  for (const incident of incidents) {
    for await (const r of clients.sentinel.incidentRelations.list(ws.resourceGroup, ws.name, incident.name!))
      relations.push(r);
  }
  return { incidents, bookmarks, relations };
}
