/**
 * The fastify host: `buildServer(services, options)` returns the app with every route, the OpenAPI document
 * (/openapi.json) and its UI (/docs), JSON schemas, pino logs without secrets, body limits and authentication.
 * It does not listen: start.ts does, and runs the schedule.
 */
import { type IncomingMessage, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  errorCodes as fastifyErrors,
} from "fastify";
import { type HttpLimits, isLoopback } from "../app/config.js";
import {
  BodyNotJsonError,
  BodyTooLargeError,
  errorResponse,
  HeadersTooLargeError,
  HostNotAllowedError,
  InvalidRequestError,
  MethodNotAllowedError,
  NotFoundError,
  RequestTimeoutError,
} from "../app/errors.js";
import * as operations from "../app/operations.js";
import { AJV_OPTIONS, invalidRequest, noQuery, REQUEST_LIMITS } from "../app/requests.js";
import type { Services } from "../app/services.js";
import { VERSION } from "../app/version.js";
import { registerAuth } from "./auth.js";
import { type EntraOptions, EntraTokenValidator } from "./entra.js";
import { loggerOptions } from "./logging.js";
import { registerContentRoutes } from "./routes/content.js";
import { registerHuntRoutes } from "./routes/hunt.js";
import { registerSampleRoutes } from "./routes/samples.js";

export interface ServerOptions {
  /** The address the server will listen on: decides whether authentication is required. */
  readonly host: string;
  readonly apiKeys: readonly string[];
  /** Accept Entra ID bearer tokens (tenant, audiences). */
  readonly entra?: EntraOptions;
  readonly maxBodyBytes: number;
  readonly maxSampleBytes: number;
  /** Timeouts and the connection cap; Node's and fastify's defaults when absent (tests of routes only). */
  readonly http?: HttpLimits;
  /** Host names accepted in the `Host` header besides loopback ones, when listening on loopback. */
  readonly allowedHosts?: readonly string[];
  /** false: no logs; otherwise the level, and optionally where to write them (tests). */
  readonly logger?: false | { readonly level: string; readonly stream?: NodeJS.WritableStream };
}

export async function buildServer(services: Services, options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      options.logger === false || options.logger === undefined
        ? false
        : loggerOptions(options.logger.level, options.logger.stream),
    bodyLimit: options.maxBodyBytes,
    routerOptions: { maxParamLength: REQUEST_LIMITS.pathParamChars },
    ajv: { customOptions: { ...AJV_OPTIONS } },
    // A request its schema refuses is SHM_INVALID_REQUEST, worded as the Functions handlers word it.
    schemaErrorFormatter: (errors, dataVar) => invalidRequest(errors, dataVar),
    // A path fastify's router cannot take (bad percent-encoding, a parameter over maxParamLength) is answered before
    // any hook; without this, in a shape of fastify's own (`statusCode`, and "Bad Request" on a 414).
    frameworkErrors: (error, _request, reply) => frameworkError(error, reply as FastifyReply),
    // What Node's HTTP parser refuses before a request exists (a bad request line, headers over its size limit, a
    // request over the timeout): without this, in a shape of fastify's own too.
    clientErrorHandler: (error, socket) => clientError(error as NodeJS.ErrnoException, socket),
    ...(options.http ? httpServerOptions(options.http) : {}),
  });
  if (options.http) {
    app.server.maxConnections = options.http.maxConnections;
    registerIdleWhileAnswering(app, options.http.idleTimeoutMs);
  }
  const routedMethods = collectRoutedMethods(app);
  refuseUnknownQueries(app);
  registerContinueDecision(app, routedMethods);
  registerHostCheck(app, options.host, options.allowedHosts ?? []);
  registerAuth(app, {
    host: options.host,
    apiKeys: options.apiKeys,
    ...(options.entra ? { entra: new EntraTokenValidator(options.entra) } : {}),
  });
  registerEmptyBodies(app);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, body, headers } = errorResponse(ownError(error));
    if (status >= 500 && status !== 501) request.log.error({ err: error }, "request failed");
    // The rest of an over-large or refused upload is not read: close the connection after answering.
    if (status === 413 || status === 415) reply.header("connection", "close");
    if (headers) reply.headers(headers);
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const { status, body, headers } = errorResponse(unrouted(request, routedMethods));
    if (headers) reply.headers(headers);
    return reply.code(status).send(body);
  });

  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "shmhunt",
        version: VERSION,
        description: "Translate, deploy, hunt, scan samples with YARA-X, and read local incidents.",
      },
      components: {
        securitySchemes: {
          apiKey: { type: "apiKey", in: "header", name: "x-api-key" },
          bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "Entra ID access token" },
        },
      },
      security: [...(options.apiKeys.length > 0 ? [{ apiKey: [] }] : []), ...(options.entra ? [{ bearer: [] }] : [])],
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  app.get(
    "/health",
    {
      schema: {
        tags: ["service"],
        summary: "Liveness, the backends in use, and problems (degraded: a broken YARA file, the last good set in use)",
        security: [],
        response: {
          200: {
            type: "object",
            properties: {
              status: { type: "string", enum: ["ok", "degraded"] },
              version: { type: "string" },
              backends: { type: "object", additionalProperties: { type: "string" } },
              problems: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    component: { type: "string" },
                    code: { type: "string" },
                    message: { type: "string" },
                    file: { type: "string" },
                    line: { type: "integer" },
                    column: { type: "integer" },
                  },
                },
              },
            },
          },
        },
      },
    },
    async () => {
      const { status, problems } = await operations.health(services);
      return { status, version: VERSION, backends: services.backends, ...(problems.length > 0 ? { problems } : {}) };
    },
  );
  registerContentRoutes(app, services);
  registerHuntRoutes(app, services);
  await app.register(async (scope) => registerSampleRoutes(scope, services, options.maxSampleBytes));
  return app;
}

/**
 * fastify's and Node's server options from the limits: a slow client (slowloris: headers or a body trickled a byte
 * at a time, an idle socket) is cut off after these, and the connection cap bounds how many it can hold at once.
 */
function httpServerOptions(limits: HttpLimits) {
  return {
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node checks the two timeouts above only this often (30 s by default): at least twice per timeout here.
      connectionsCheckingInterval: Math.max(
        250,
        Math.min(
          30_000,
          Math.floor(Math.min(limits.headersTimeoutMs || 30_000, limits.requestTimeoutMs || 30_000) / 2),
        ),
      ),
    },
  };
}

/**
 * The idle timeout (fastify's `connectionTimeout`: Node closes a socket with no activity for that long) is for a
 * client that goes quiet: it is lifted once the request is whole (its content read, by the parser or by the route
 * that streams it) and put back once the answer is sent, unless Node has set the keep-alive timeout on the socket
 * then. While the server works on a whole request (a hunt waiting on its query, a scan of a large sample, whose own
 * timeout is 60 s by default) nothing goes either way, and without this the socket was closed with no answer.
 */
function registerIdleWhileAnswering(app: FastifyInstance, idleTimeoutMs: number): void {
  if (idleTimeoutMs <= 0) return;
  app.addHook("preHandler", async (request) => {
    const { raw } = request;
    const socket = raw.socket;
    const lift = () => socket.setTimeout(0);
    if (raw.complete) lift();
    else raw.once("end", lift);
  });
  app.addHook("onResponse", async (request) => {
    const socket = request.raw.socket;
    if (!socket.destroyed && socket.timeout === 0) socket.setTimeout(idleTimeoutMs);
  });
}

/**
 * `Expect: 100-continue` (RFC 9110 §10.1.1): the client waits for an interim 100 (Continue) before it sends the
 * content, so a request refused on its head alone is answered without the content ever being sent. Node sends 100
 * itself as the request arrives, before any route has looked at it, unless the server listens for 'checkContinue'
 * (Node's http docs: the listener then calls `writeContinue()`, or answers); here such a request goes through the
 * route's hooks without it (host check, authentication, the samples' type and size check, all onRequest), and when
 * the route is about to read the content (preParsing) 100 is sent only if everything decided on the head alone has
 * passed: the RFC asks an origin server for "an immediate response with a final status code, if that status can be
 * determined by examining just the method, target URI, and header fields", else an immediate 100. Answered there,
 * without 100, as the same request without the expectation would be answered:
 * - no route for the path: 404 SHM_NOT_FOUND; a path routed for other methods only: 405 SHM_METHOD_NOT_ALLOWED, with
 *   `Allow` (see `unrouted`);
 * - a Content-Type the route has no parser for, or content without one: fastify's 415;
 * - a query, path parameter or header its schema refuses: 400 SHM_INVALID_REQUEST;
 * - a Content-Length over the route's body limit (`routeOptions.bodyLimit`: SHMHUNT_MAX_BODY_BYTES, or the sample
 *   limit on /samples and /scan): 413 (SAMPLE_TOO_LARGE from src/app/sample-request.ts, or fastify's body limit,
 *   SHM_BODY_TOO_LARGE), before reading.
 * A request whose content is never read (no content announced, or a GET, HEAD or TRACE, which fastify never parses)
 * is answered without 100 too ("A server MAY omit sending a 100 (Continue) response if … the framing indicates that
 * there is no content"). Whenever the answer goes without 100, Node closes the connection after it (the content
 * announced was never read). Another expectation is not seen here: Node answers 417 ('checkExpectation').
 */
function registerContinueDecision(app: FastifyInstance, routedMethods: ReadonlySet<string>): void {
  const expectingContinue = new WeakSet<IncomingMessage>();
  app.server.on("checkContinue", (request: IncomingMessage, response) => {
    expectingContinue.add(request);
    app.server.emit("request", request, response);
  });
  app.addHook("preParsing", async (request, reply) => {
    if (!expectingContinue.delete(request.raw)) return;
    if (request.is404) throw unrouted(request, routedMethods);
    if (BODYLESS_METHODS.has(request.method) || !announcesContent(request.headers)) return;
    // fastify finds the parser by the media type alone (its parameters, such as charset, aside).
    const mediaType = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    if (mediaType === "" || !request.server.hasContentTypeParser(mediaType)) {
      throw new fastifyErrors.FST_ERR_CTP_INVALID_MEDIA_TYPE();
    }
    checkHeadParts(request);
    const length = Number(request.headers["content-length"]);
    if (!(length > request.routeOptions.bodyLimit)) reply.raw.writeContinue();
  });
}

/** The methods whose content fastify never reads (its `bodyless` methods); their answer needs no 100. */
const BODYLESS_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "TRACE"]);

/** Whether the framing announces content (RFC 9112 §6.3): a Transfer-Encoding, or a Content-Length over 0. */
function announcesContent(headers: FastifyRequest["headers"]): boolean {
  if (headers["transfer-encoding"] !== undefined) return true;
  const length = headers["content-length"];
  return length !== undefined && length !== "0";
}

/**
 * The parts of a request its route's schemas judge without the body (path parameters, query, headers), checked as
 * fastify checks them after reading it, in its order, with the same words (`schemaErrorFormatter`).
 */
function checkHeadParts(request: FastifyRequest): void {
  const parts = [
    ["params", request.params],
    ["querystring", request.query],
    ["headers", request.headers],
  ] as const;
  for (const [part, value] of parts) {
    const validate = request.getValidationFunction(part);
    if (validate !== undefined && !validate(value)) throw invalidRequest(validate.errors ?? [], part);
  }
}

/**
 * A route without a query schema of its own takes no query parameter (docs/service.md, "Limits and timeouts": none
 * accepted, 400): it gets `noQuery` (an onRoute hook, added before any route). The OpenAPI UI's own routes under
 * /docs are left as they are (its static files, which a browser may ask for with a cache-busting query).
 */
function refuseUnknownQueries(app: FastifyInstance): void {
  app.addHook("onRoute", (route) => {
    if (route.url === "/docs" || route.url.startsWith("/docs/")) return;
    route.schema ??= {};
    route.schema.querystring ??= noQuery;
  });
}

/**
 * Every method some route takes, as fastify registers them (an onRoute hook, added before any route): HEAD among them
 * for each GET route, which fastify exposes as HEAD too (`exposeHeadRoutes`, on by default).
 */
function collectRoutedMethods(app: FastifyInstance): ReadonlySet<string> {
  const methods = new Set<string>();
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) methods.add(method.toUpperCase());
  });
  return methods;
}

/**
 * The answer to a request no route takes. RFC 9110 §15.5.6: a method "known by the origin server but not supported by
 * the target resource" is a 405, and "The origin server MUST generate an Allow header field in a 405 response
 * containing a list of the target resource's currently supported methods" (§10.2.1). So a path that fastify's router
 * matches for other methods (the same lookup as a request's: path parameters, query string, absolute form) is a 405
 * SHM_METHOD_NOT_ALLOWED naming them in `Allow`; a path no route has at all, a 404 SHM_NOT_FOUND. A path the router
 * refuses to match for an over-long parameter (`maxParamLength`) comes back from `findRoute` without `searchParams`:
 * that is no route, and stays a 404.
 */
function unrouted(request: FastifyRequest, routedMethods: ReadonlySet<string>): Error {
  const path = request.url.split("?")[0];
  // A route that takes this method found nothing (the OpenAPI UI's static files: one it does not have): a 404.
  if (request.server.findRoute({ method: request.method, url: request.url })?.searchParams !== undefined)
    return new NotFoundError(`no ${path}`);
  const allowed = [...routedMethods]
    .filter((method) => method !== request.method)
    .filter((method) => request.server.findRoute({ method, url: request.url })?.searchParams !== undefined)
    .sort();
  if (allowed.length === 0) return new NotFoundError(`no route ${request.method} ${path}`);
  return new MethodNotAllowedError(`${request.method} is not allowed on ${path}: ${allowed.join(", ")}`, allowed);
}

/**
 * Every request: RFC 9112 §3.2 asks a 400 of a request with more than one Host header line or an invalid one. On the
 * loopback default (no key needed), a request must also name a loopback host (or one of `allowedHosts`) in its
 * `Host` header: a web page whose DNS name is rebound to 127.0.0.1 sends its own name, and is refused (403).
 */
function registerHostCheck(app: FastifyInstance, host: string, allowedHosts: readonly string[]): void {
  const loopback = isLoopback(host);
  const allowed = new Set(allowedHosts.map((h) => h.toLowerCase()));
  app.addHook("onRequest", async (request) => {
    // Node keeps the first of several Host lines and drops the others: count them in the raw header list.
    const raw = request.raw.rawHeaders;
    let lines = 0;
    for (let i = 0; i < raw.length; i += 2) if (raw[i]?.toLowerCase() === "host") lines++;
    if (lines > 1) throw new InvalidRequestError(`the request has ${lines} Host header lines, not one (RFC 9112 §3.2)`);
    // RFC 9112 §3.2.2: a request in absolute form (`GET http://host/path`) names its host in the request line, and
    // "the origin server MUST ignore the received Host header field (if any) and instead use the host information of
    // the request-target".
    const authority = absoluteFormHost(request.raw.url ?? "");
    const header = authority ?? request.headers.host;
    if (header === undefined) return;
    // RFC 9112 §3.2: a Host header with an invalid field value is a 400; a path, query or user information after a
    // loopback name (`localhost/attacker.example`, `attacker.example@localhost`) would otherwise parse as loopback.
    if (!HOST_FIELD.test(header)) {
      throw new InvalidRequestError(
        `the ${authority === undefined ? "Host header" : "request line's host"} ${JSON.stringify(header.slice(0, 100))} is not a host name and port (RFC 9110 §7.2)`,
      );
    }
    if (!loopback) return;
    const name = hostName(header);
    if (name !== undefined && (isLoopback(name) || allowed.has(name))) return;
    throw new HostNotAllowedError(
      `host ${JSON.stringify(header.slice(0, 100))} is not served here: use a loopback address or set SHMHUNT_ALLOWED_HOSTS`,
    );
  });
}

/**
 * A POST without a body to a route whose JSON body has no required key (`/hunt/run`, `/hunt/rescan`, `/deploy/plan`,
 * `/deploy/apply`: every field optional, docs/service.md) is that route's empty object, its defaults then applied by
 * the schema: `curl -X POST …/hunt/run` runs the hunts, as `-d '{}'` does (it was a 400 "body must be object"). A
 * body that is there is judged by the route's schema as before.
 */
function registerEmptyBodies(app: FastifyInstance): void {
  app.addHook("preValidation", async (request) => {
    if (request.body !== undefined) return;
    const body = request.routeOptions.schema?.body as { type?: string; required?: readonly string[] } | undefined;
    if (body?.type === "object" && (body.required?.length ?? 0) === 0) request.body = {};
  });
}

/**
 * RFC 9110 §7.2 `Host = uri-host [ ":" port ]`, uri-host from RFC 3986: an IP-literal in brackets, or a reg-name
 * (unreserved, pct-encoded and sub-delims characters; an IPv4 address is one too).
 */
const HOST_FIELD = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::[0-9]*)?$/;

/** The authority of a request-target in absolute form (`http://host:port/path`), as written; undefined otherwise. */
function absoluteFormHost(target: string): string | undefined {
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(target);
  return match ? match[1] : undefined;
}

function hostName(header: string): string | undefined {
  try {
    const name = new URL(`http://${header}`).hostname.toLowerCase();
    return name.startsWith("[") && name.endsWith("]") ? name.slice(1, -1) : name;
  } catch {
    return undefined;
  }
}

/**
 * A request Node's HTTP parser refused, answered in the one error shape on the raw socket, then closed (as fastify's
 * own handler does, without its `statusCode` field): 431 for headers over the parser's limit (RFC 6585 §5), 408 for a
 * request over the timeout (RFC 9110 §15.5.9), else 400. A reset connection gets nothing.
 */
function clientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const refused =
    error.code === "HPE_HEADER_OVERFLOW"
      ? new HeadersTooLargeError("the request's header fields are over the size limit")
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? new RequestTimeoutError("the request did not arrive within the request timeout")
        : new InvalidRequestError("the request is not a valid HTTP/1.1 request (RFC 9112)");
  const { status, body } = errorResponse(refused);
  const json = JSON.stringify(body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
    );
  }
  socket.destroy(error);
}

/** A path the router refused, in the one error shape; the message does not echo a parameter over the limit. */
function frameworkError(error: FastifyError, reply: FastifyReply): void {
  const { status, body } = errorResponse(error);
  const message =
    error.code === "FST_ERR_MAX_PARAM_LENGTH"
      ? `a path parameter is over the limit of ${REQUEST_LIMITS.pathParamChars} characters`
      : String(body.message).slice(0, 200);
  void reply.code(status).send({ ...body, message });
}

/**
 * fastify's own errors about a request's body, as the codes of the one table (src/app/errors.ts), so that a client
 * sees the same code from this host and from the Functions app.
 */
function ownError(error: FastifyError): unknown {
  switch (error.code) {
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new BodyNotJsonError(error.message);
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new BodyTooLargeError(error.message);
    default:
      return error;
  }
}
