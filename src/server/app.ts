/**
 * The fastify host: `buildServer(services, options)` returns the app with every route, the OpenAPI document
 * (/openapi.json) and its UI (/docs), JSON schemas, pino logs without secrets, body limits and authentication.
 * It does not listen: start.ts does, and runs the schedule.
 */
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyError, type FastifyInstance } from "fastify";
import { errorResponse } from "../app/errors.js";
import { AJV_OPTIONS } from "../app/requests.js";
import type { Services } from "../app/services.js";
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
  /** false: no logs; otherwise the level, and optionally where to write them (tests). */
  readonly logger?: false | { readonly level: string; readonly stream?: NodeJS.WritableStream };
}

export const VERSION = "0.1.0";

export async function buildServer(services: Services, options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      options.logger === false || options.logger === undefined
        ? false
        : loggerOptions(options.logger.level, options.logger.stream),
    bodyLimit: options.maxBodyBytes,
    ajv: { customOptions: { ...AJV_OPTIONS } },
  });
  registerAuth(app, {
    host: options.host,
    apiKeys: options.apiKeys,
    ...(options.entra ? { entra: new EntraTokenValidator(options.entra) } : {}),
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, body } = errorResponse(error);
    if (status >= 500 && status !== 501) request.log.error({ err: error }, "request failed");
    // The rest of an over-large upload is not read: close the connection after answering.
    if (status === 413) reply.header("connection", "close");
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
        summary: "Liveness and the backends in use",
        security: [],
        response: {
          200: {
            type: "object",
            properties: {
              status: { type: "string" },
              version: { type: "string" },
              backends: { type: "object", additionalProperties: { type: "string" } },
            },
          },
        },
      },
    },
    async () => ({ status: "ok", version: VERSION, backends: services.backends }),
  );
  registerContentRoutes(app, services);
  registerHuntRoutes(app, services);
  await app.register(async (scope) => registerSampleRoutes(scope, services, options.maxSampleBytes));
  return app;
}
