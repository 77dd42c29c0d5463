/**
 * Authentication of the HTTP API: an API key in the `x-api-key` header (or `Authorization: ApiKey <key>`),
 * compared in constant time. Required whenever the server listens beyond loopback; /health stays open for probes.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { isLoopback } from "./config.js";

export interface AuthOptions {
  readonly host: string;
  readonly apiKeys: readonly string[];
}

/** Routes reachable without a key: liveness probes. */
const OPEN_ROUTES = new Set(["/health"]);

export function assertAuthConfigured(options: AuthOptions): void {
  if (!isLoopback(options.host) && options.apiKeys.length === 0) {
    throw new Error(
      `refusing to listen on ${options.host} without authentication: set SHMHUNT_API_KEYS (or listen on 127.0.0.1)`,
    );
  }
}

export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  assertAuthConfigured(options);
  if (options.apiKeys.length === 0) return;
  const digests = options.apiKeys.map(digest);
  app.addHook("onRequest", async (request, reply) => {
    if (OPEN_ROUTES.has(request.routeOptions.url ?? "")) return;
    const presented = presentedKey(request);
    const ok = presented !== undefined && digests.some((d) => timingSafeEqual(d, digest(presented)));
    if (!ok) {
      reply.header("www-authenticate", 'ApiKey header="x-api-key"');
      return reply.code(401).send({ error: "Unauthorized", message: "a valid API key is required (x-api-key header)" });
    }
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
