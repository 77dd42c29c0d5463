/**
 * The fastify host: `buildServer(services, options)` returns the app with every route, the OpenAPI document
 * (/openapi.json) and its UI (/docs), JSON schemas, pino logs without secrets, body limits and authentication.
 * It does not listen: start.ts does, and runs the schedule.
 */
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyError, type FastifyInstance } from "fastify";
import { DiagnosticError } from "../diagnostics/index.js";
import { SampleError } from "../store/spool.js";
import { registerAuth } from "./auth.js";
import { BadRequestError, NotAvailableError, NotFoundError } from "./errors.js";
import { loggerOptions } from "./logging.js";
import { registerContentRoutes } from "./routes/content.js";
import { registerHuntRoutes } from "./routes/hunt.js";
import { registerSampleRoutes } from "./routes/samples.js";
import type { Services } from "./services.js";

export interface ServerOptions {
  /** The address the server will listen on: decides whether authentication is required. */
  readonly host: string;
  readonly apiKeys: readonly string[];
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
    ajv: { customOptions: { removeAdditional: false, coerceTypes: "array", allErrors: false } },
  });
  registerAuth(app, options);
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
        securitySchemes: { apiKey: { type: "apiKey", in: "header", name: "x-api-key" } },
      },
      security: options.apiKeys.length > 0 ? [{ apiKey: [] }] : [],
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

/** One error shape for every route: `{ error, message, code?, diagnostics? }`. */
export function errorResponse(error: unknown): { status: number; body: Record<string, unknown> } {
  if (error instanceof SampleError) {
    const status = error.code === "SAMPLE_TOO_LARGE" ? 413 : error.code === "SAMPLE_HASH_MISMATCH" ? 422 : 400;
    return { status, body: { error: httpName(status), message: error.message, code: error.code } };
  }
  if (error instanceof DiagnosticError) {
    return {
      status: 400,
      body: { error: "Bad Request", message: error.message.split("\n")[0], diagnostics: error.diagnostics },
    };
  }
  if (error instanceof NotAvailableError)
    return { status: 501, body: { error: "Not Implemented", message: error.message } };
  if (error instanceof NotFoundError) return { status: 404, body: { error: "Not Found", message: error.message } };
  if (error instanceof BadRequestError)
    return { status: error.status, body: { error: httpName(error.status), message: error.message } };
  const fastifyError = error as Partial<FastifyError>;
  if (typeof fastifyError.statusCode === "number" && fastifyError.statusCode < 500) {
    return {
      status: fastifyError.statusCode,
      body: { error: httpName(fastifyError.statusCode), message: fastifyError.message ?? "", code: fastifyError.code },
    };
  }
  return { status: 500, body: { error: "Internal Server Error", message: "the request failed; see the service log" } };
}

function httpName(status: number): string {
  return (
    {
      400: "Bad Request",
      401: "Unauthorized",
      404: "Not Found",
      413: "Payload Too Large",
      415: "Unsupported Media Type",
      422: "Unprocessable Entity",
    }[status] ?? "Error"
  );
}
