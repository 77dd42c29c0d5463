/**
 * The Azure Functions app (Node v4 programming model). Registration only: every handler is a thin adapter in
 * handlers.ts over the services in src/. Importing this module loads @azure/functions and the adapters, nothing
 * heavy (no Kusto.Language, no YARA binding, no Azure SDK client): those load on first use (cold start).
 *
 * App settings read here: SHMHUNT_HUNT_SCHEDULE (the timer's NCRONTAB, e.g. "0 *\/5 * * * *"), and the
 * `SHMHUNT_STORAGE` connection for the blob trigger (identity-based: SHMHUNT_STORAGE__blobServiceUri, …).
 */
import { app } from "@azure/functions";
import { deploy, health, huntTimer, sampleArrived, samples, sampleVerdict, scan, translate } from "./handlers.js";

// Samples are streamed, not buffered by the worker.
app.setup({ enableHttpStream: true });

app.timer("hunt", { schedule: "%SHMHUNT_HUNT_SCHEDULE%", handler: huntTimer });
app.http("health", { methods: ["GET"], authLevel: "anonymous", route: "health", handler: health });
app.http("translate", { methods: ["POST"], authLevel: "function", route: "translate", handler: translate });
app.http("deploy", { methods: ["POST"], authLevel: "function", route: "deploy", handler: deploy });
app.http("scan", { methods: ["POST"], authLevel: "function", route: "scan", handler: scan });
app.http("samples", { methods: ["POST"], authLevel: "function", route: "samples", handler: samples });
app.http("sampleVerdict", {
  methods: ["GET"],
  authLevel: "function",
  route: "samples/{sha256}",
  handler: sampleVerdict,
});
// Event Grid source: the only blob trigger the Flex Consumption plan runs (infra/blob-events.bicep subscribes it).
app.storageBlob("sampleArrived", {
  path: "samples/{name}",
  connection: "SHMHUNT_STORAGE",
  source: "EventGrid",
  handler: sampleArrived,
});
