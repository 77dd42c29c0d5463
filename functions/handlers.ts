/**
 * Azure Functions handlers: thin adapters from HttpRequest / timer / Event Grid triggers to the same services the
 * fastify host calls. No logic lives here beyond reading the request and shaping the response.
 */
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { EventGridEvent, HttpRequest, HttpResponseInit, InvocationContext, Timer } from "@azure/functions";
import type { DeployMode, SampleQuery } from "../src/app/requests.js";
import type { TranslateRequest } from "../src/app/services.js";
import { VERSION } from "../src/app/version.js";
import { FUNCTION_TIMEOUT_MS, getServices, inInvocation } from "./runtime.js";

/** The application layer's request schemas and operations, loaded on the first request (cold start stays cheap). */
async function api() {
  const [requests, operations] = await Promise.all([
    import("../src/app/requests.js"),
    import("../src/app/operations.js"),
  ]);
  return { ...requests, ...operations };
}

/** GET /api/health: as the fastify host answers it (degraded, with its problems, when a YARA rule file is broken). */
export async function health(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return respond(context, async () => {
    const { noQuery, validateRequest, health } = await api();
    validateRequest(noQuery, queryOf(request), "querystring");
    const services = await getServices();
    const { status, problems } = await health(services);
    return { status, version: VERSION, backends: services.backends, ...(problems.length > 0 ? { problems } : {}) };
  });
}

export async function translate(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return respond(context, async () => {
    const { translateBody, noQuery, validateRequest, translate } = await api();
    validateRequest(noQuery, queryOf(request), "querystring");
    const body = validateRequest<TranslateRequest>(translateBody, await readJson(request), "body");
    return translate(await getServices(), body);
  });
}

/** POST /api/deploy?mode=plan|apply[&prune=true] */
export async function deploy(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return respond(context, async () => {
    const { deployQuery, validateRequest, deploy } = await api();
    const query = validateRequest<{ mode: DeployMode; prune: boolean }>(deployQuery, queryOf(request), "querystring");
    return deploy(await getServices(), query.mode, query);
  });
}

/** POST /api/scan with the sample as the raw body: the verdict, nothing stored. */
export async function scan(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return respond(context, async () => {
    const { noQuery, validateRequest } = await api();
    validateRequest(noQuery, queryOf(request), "querystring");
    const services = await getServices();
    return services.samples.scan(await bodyStream(request, services.config.maxSampleBytes));
  });
}

/** POST /api/samples[?sha256=…] with the sample as the raw body: stored by SHA-256, scanned, hits settled. */
export async function samples(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return respond(context, async () => {
    const { sampleQuery, validateRequest } = await api();
    const query = validateRequest<SampleQuery>(sampleQuery, queryOf(request), "querystring");
    const services = await getServices();
    const claimed = query.sha256 ?? request.headers.get("x-sample-sha256") ?? undefined;
    const result = await services.samples.upload(await bodyStream(request, services.config.maxSampleBytes), {
      ...(claimed ? { sha256: claimed } : {}),
      ...(query.host && query.path ? { host: query.host, path: query.path } : {}),
    });
    return new WithStatus(result.created ? 201 : 200, result);
  });
}

/** GET /api/samples/{sha256}: the sample's verdict. */
export async function sampleVerdict(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return respond(context, async () => {
    const { sampleParams, noQuery, validateRequest, sampleReport } = await api();
    validateRequest(noQuery, queryOf(request), "querystring");
    const params = validateRequest<{ sha256: string }>(sampleParams, { ...request.params }, "params");
    return sampleReport(await getServices(), params.sha256);
  });
}

/**
 * The timer: retry the failed scans, run the due hunts, then settle pending hits. A failure is logged and left to the
 * next tick. Rules not started by the deadline (huntDeadline: functionTimeout less one rule's slowest run and the
 * settle step) are left to the next tick (`deferred`), so that the host does not cut the invocation with rules never
 * reached; so are scan retries (none starts, or waits for a sample's lease, past it).
 */
export function huntTimer(timer: Timer, context: InvocationContext): Promise<void> {
  return inInvocation(context, () => runHuntTimer(timer, context));
}

async function runHuntTimer(timer: Timer, context: InvocationContext): Promise<void> {
  const [services, { tickWithin }] = await Promise.all([getServices(), import("../src/app/hunt-deadline.js")]);
  const { deadline, report } = await tickWithin(services, FUNCTION_TIMEOUT_MS);
  const failed = report.runs.filter((r) => r.status === "failed");
  const deferred = report.runs.filter((r) => r.status === "deferred");
  context.log(
    JSON.stringify({
      event: "hunt",
      pastDue: timer.isPastDue,
      runs: report.runs.length,
      failed: failed.length,
      ...(deferred.length > 0 ? { deferred: deferred.length, deadline: deadline.toISOString() } : {}),
      sweep: report.sweep,
      ...(report.rescan ? { rescan: report.rescan } : {}),
    }),
  );
  for (const run of failed) context.warn(`hunt ${run.ruleId}/${run.target} failed: ${run.error}`);
}

/**
 * The Event Grid trigger on the samples container's BlobCreated events. It receives the event only (the blob's name,
 * size, type), never the blob: a blob over SHMHUNT_MAX_SAMPLE_BYTES is not read (logged, and noted in its metadata);
 * one named by its SHA-256 is scanned where it lies unless its verdict is known; another is streamed through the
 * SDK into the spool and stored under its hash. An event of another account or container is logged and ignored.
 * Returning answers the delivery and a throw fails it (Event Grid retries). An answer after 30 s does not settle it:
 * "Event Grid waits 30 seconds for a response after delivering a message. After 30 seconds, if the endpoint hasn't
 * responded, the message is queued for retry", and an answer within 3 minutes takes the retry out of the queue only
 * on a best-effort basis (Microsoft Learn, Event Grid message delivery and retry). So a large sample's delivery may
 * run again while it is still running: storing is create-if-absent, and the sample is scanned and its waiting hits
 * settled holding its lease (src/hunt/run.ts, SAMPLE_LEASE): the second delivery waits for the first, finds the
 * verdict of the rules in use recorded, and neither scans nor settles again.
 */
export function sampleArrived(event: EventGridEvent, context: InvocationContext): Promise<void> {
  return inInvocation(context, () => settleArrival(event, context));
}

async function settleArrival(event: EventGridEvent, context: InvocationContext): Promise<void> {
  const [services, { blobArrivalOf }] = await Promise.all([getServices(), import("../src/app/blob-events.js")]);
  const arrival = blobArrivalOf(event, services.samples.arrivalContainer());
  if (arrival.kind === "ignored") {
    context.warn(
      JSON.stringify({ event: "sample-event-ignored", id: event.id, subject: event.subject, reason: arrival.reason }),
    );
    return;
  }
  const result = await services.samples.arrived(arrival.name, arrival.size);
  switch (result.kind) {
    case "too-large":
      context.warn(
        JSON.stringify({
          event: "sample",
          name: result.name,
          unread: "too-large",
          size: result.size,
          limit: result.limit,
          noted: result.noted,
        }),
      );
      return;
    case "missing":
    case "changed":
      context.warn(JSON.stringify({ event: "sample", name: result.name, unread: result.kind }));
      return;
    case "busy":
      // Another delivery of this arrival held the sample's lease (scanning it) for a whole lease's time: its work.
      context.warn(
        JSON.stringify({
          event: "sample",
          name: result.name,
          sha256: result.sha256,
          created: result.created,
          busy: true,
        }),
      );
      return;
    case "refused":
      context.warn(
        JSON.stringify({
          event: "sample",
          name: result.name,
          unread: result.kind,
          code: result.code,
          reason: result.message,
        }),
      );
      return;
    case "settled":
      context.log(
        JSON.stringify({
          event: "sample",
          name: result.name,
          sha256: result.sha256,
          created: result.created,
          scanned: result.known ? "known" : (result.verdict?.verdict ?? "none"),
          ...(result.resolution ? { resolution: result.resolution } : {}),
        }),
      );
  }
}

/** A handler result with a status other than 200. */
class WithStatus {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {}
}

async function respond(context: InvocationContext, work: () => Promise<unknown>): Promise<HttpResponseInit> {
  try {
    const result = await inInvocation(context, work);
    if (result instanceof WithStatus) return { status: result.status, jsonBody: result.body };
    return { status: 200, jsonBody: result };
  } catch (error) {
    const { errorResponse } = await import("../src/app/errors.js");
    const { status, body, headers } = errorResponse(error);
    // As the fastify host logs it: the answer tells the client to see the service log.
    if (status >= 500 && status !== 501) context.error("request failed", error);
    return { status, jsonBody: body, ...(headers ? { headers: { ...headers } } : {}) };
  }
}

/**
 * The JSON body, read from the request's stream and refused (413) once it passes SHMHUNT_MAX_BODY_BYTES: with HTTP
 * streaming on, request.text() would buffer whatever the client sends (up to the host's own, much larger limit).
 */
async function readJson(request: HttpRequest): Promise<Record<string, unknown>> {
  const [{ BodyNotJsonError, BodyTooLargeError }, services] = await Promise.all([
    import("../src/app/errors.js"),
    getServices(),
  ]);
  const maxBytes = services.config.maxBodyBytes;
  const tooLarge = () => new BodyTooLargeError(`the body exceeds the limit of ${maxBytes} bytes`);
  const length = Number(request.headers.get("content-length"));
  if (Number.isFinite(length) && length > maxBytes) throw tooLarge();
  const chunks: Uint8Array[] = [];
  if (request.body) {
    const reader = (request.body as WebReadableStream<Uint8Array>).getReader();
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
  }
  // As request.text() decodes: UTF-8, a byte order mark dropped.
  const text = new TextDecoder().decode(Buffer.concat(chunks));
  try {
    const value = JSON.parse(text || "{}");
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not an object");
    return value as Record<string, unknown>;
  } catch {
    throw new BodyNotJsonError("the body must be a JSON object");
  }
}

/**
 * The query parameters, without `code` (the function key the Functions host accepts in the query); a parameter given
 * more than once is the list of its values, as fastify's query parser gives it, so the schema refuses it on both hosts.
 */
function queryOf(request: HttpRequest): Record<string, string | string[]> {
  const values = new Map<string, string[]>();
  for (const [name, value] of request.query) {
    if (name !== "code") values.set(name, [...(values.get(name) ?? []), value]);
  }
  return Object.fromEntries([...values].map(([name, all]) => [name, all.length === 1 ? all[0]! : all]));
}

/**
 * A sample request's body as a Node stream (not read into memory here), once its headers pass the checks both hosts
 * make (src/app/sample-request.ts: raw bytes, no content coding, a Content-Length within the limit).
 */
async function bodyStream(request: HttpRequest, maxBytes: number): Promise<Readable> {
  const { checkSampleRequest } = await import("../src/app/sample-request.js");
  checkSampleRequest(
    {
      contentType: request.headers.get("content-type") ?? undefined,
      contentEncoding: request.headers.get("content-encoding") ?? undefined,
      contentLength: request.headers.get("content-length") ?? undefined,
    },
    maxBytes,
  );
  return request.body ? Readable.fromWeb(request.body as WebReadableStream<Uint8Array>) : Readable.from([]);
}
