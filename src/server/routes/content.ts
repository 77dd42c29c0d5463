/** Translate and deploy: served by the translation and deploy stages when they are plugged into Services. */
import type { FastifyInstance } from "fastify";
import * as operations from "../../app/operations.js";
import { DEPLOY_MODES, deployBody, translateBody } from "../../app/requests.js";
import type { Services, TranslateRequest } from "../../app/services.js";
import { anyObject, errorSchema } from "../schemas.js";

export function registerContentRoutes(app: FastifyInstance, services: Services): void {
  app.post<{ Body: TranslateRequest }>(
    "/translate",
    {
      schema: {
        tags: ["content"],
        summary: "Translate an EQL query or a rule file to KQL for a target",
        body: translateBody,
        response: {
          200: {
            type: "object",
            properties: {
              target: { type: "string" },
              kql: { type: "string" },
              notes: { type: "array", items: { type: "string" } },
            },
          },
          400: errorSchema,
          422: errorSchema,
          501: errorSchema,
        },
      },
    },
    async (request) => operations.translate(services, request.body),
  );

  for (const step of DEPLOY_MODES) {
    app.post<{ Body: { prune?: boolean } }>(
      `/deploy/${step}`,
      {
        schema: {
          tags: ["content"],
          summary: step === "plan" ? "Compute the Sentinel content changes" : "Apply the Sentinel content changes",
          body: deployBody,
          response: { 200: anyObject, 400: errorSchema, 501: errorSchema, 502: errorSchema },
        },
      },
      async (request) => operations.deploy(services, step, request.body ?? {}),
    );
  }
}
