/**
 * Authentication of the HTTP API: an API key in the `x-api-key` header (or `Authorization: ApiKey <key>`),
 * compared in constant time, or an Entra ID bearer token (`Authorization: Bearer <jwt>`, see entra.ts). Required
 * whenever the server listens beyond loopback; /health (probes) and the OpenAPI document and UI stay open.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { isLoopback } from "../app/config.js";
import { type EntraTokenValidator, TokenError } from "./entra.js";

export interface AuthOptions {
  readonly host: string;
  readonly apiKeys: readonly string[];
  readonly entra?: EntraTokenValidator;
}

/** Reachable without a key: liveness probes, and the API's description (the UI then sends the key it is given). */
function isOpen(route: string): boolean {
  return route === "/health" || route === "/openapi.json" || route === "/docs" || route.startsWith("/docs/");
}

export function assertAuthConfigured(options: {
  readonly host: string;
  readonly apiKeys: readonly string[];
  readonly entra?: unknown;
}): void {
  if (!isLoopback(options.host) && options.apiKeys.length === 0 && !options.entra) {
    throw new Error(
      `refusing to listen on ${options.host} without authentication: set SHMHUNT_API_KEYS or SHMHUNT_ENTRA_TENANT_ID and SHMHUNT_ENTRA_AUDIENCE (or listen on 127.0.0.1)`,
    );
  }
}

export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  assertAuthConfigured(options);
  if (options.apiKeys.length === 0 && !options.entra) return;
  const digests = options.apiKeys.map(digest);
  const entra = options.entra;
  app.addHook("onRequest", async (request, reply) => {
    if (isOpen(request.routeOptions.url ?? "")) return;
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "")?.[1];
    let reason = "a valid API key (x-api-key header) or Entra ID bearer token is required";
    if (bearer && entra) {
      try {
        const claims = await entra.validate(bearer);
        request.log.debug({ oid: claims.oid, appid: claims.appid ?? claims.azp }, "bearer token accepted");
        return;
      } catch (error) {
        if (!(error instanceof TokenError)) throw error;
        if (error.status === 403) {
          // A valid token without an accepted scope or role: authenticated, not allowed (RFC 9110 §15.5.4).
          request.log.info({ reason: error.message }, "bearer token without an accepted permission");
          return reply.code(403).send({ error: "Forbidden", message: error.message });
        }
        if (error.status === 503) {
          // The tenant's keys could not be fetched: the token is not known to be bad; the client may retry.
          request.log.warn({ reason: error.message }, "bearer token not checked");
          return reply
            .code(503)
            .header("retry-after", String(error.retryAfterSeconds ?? Math.ceil(entra.keysRetryMs / 1000)))
            .send({ error: "Service Unavailable", message: error.message });
        }
        reason = `bearer token refused: ${error.message}`;
      }
    } else {
      const presented = presentedKey(request);
      if (presented !== undefined && digests.some((d) => timingSafeEqual(d, digest(presented)))) return;
    }
    reply.header("www-authenticate", entra ? 'Bearer, ApiKey header="x-api-key"' : 'ApiKey header="x-api-key"');
    return reply.code(401).send({ error: "Unauthorized", message: reason });
  });
}

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers["x-api-key"];
  if (typeof header === "string" && header.length > 0) return header;
  const authorization = request.headers.authorization;
  const match = authorization ? /^ApiKey\s+(.+)$/i.exec(authorization) : null;
  return match?.[1];
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
