/**
 * The Azure Functions app (Node v4 programming model). Registration only: every handler is a thin adapter in
 * handlers.ts over the services in src/. Importing this module loads @azure/functions and the adapters, nothing
 * heavy (no Kusto.Language, no YARA binding, no Azure SDK client): those load on first use (cold start).
 *
 * App settings read here: SHMHUNT_HUNT_SCHEDULE (the timer's NCRONTAB, e.g. "0 *\/5 * * * *"). The Event Grid
 * trigger needs no connection: the samples are read through the SDK with the service's own storage settings.
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
// BlobCreated events of the samples container (infra/blob-events.bicep subscribes this function's endpoint). An
// Event Grid trigger, not a blob trigger: the host hands over the event only, never the blob's content, so a blob
// over the sample limit is never read (a blob trigger's host reads the whole blob into memory first).
app.eventGrid("sampleArrived", { handler: sampleArrived });
