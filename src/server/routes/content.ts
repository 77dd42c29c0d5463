/** Translate and deploy: served by the translation and deploy stages when they are plugged into Services. */
import type { FastifyInstance } from "fastify";
import { TARGETS } from "../../targets/index.js";
import { NotAvailableError } from "../errors.js";
import { anyObject, errorSchema } from "../schemas.js";
import type { Services, TranslateRequest } from "../services.js";

export function registerContentRoutes(app: FastifyInstance, services: Services): void {
  app.post<{ Body: TranslateRequest }>(
    "/translate",
    {
      schema: {
        tags: ["content"],
        summary: "Translate an EQL query or a rule file to KQL for a target",
        body: {
          type: "object",
          required: ["target"],
          additionalProperties: false,
          properties: {
            target: { type: "string", enum: [...TARGETS] },
            eql: { type: "string", maxLength: 100_000 },
            rule: { type: "string", maxLength: 1_000_000, description: "a rule file (TOML)" },
          },
          oneOf: [{ required: ["eql"] }, { required: ["rule"] }],
        },
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
          501: errorSchema,
        },
      },
    },
    async (request) => {
      if (!services.translate) throw new NotAvailableError("translation is not available in this build");
      return services.translate.translate(request.body);
    },
  );

  for (const step of ["plan", "apply"] as const) {
    app.post<{ Body: { prune?: boolean } }>(
      `/deploy/${step}`,
      {
        schema: {
          tags: ["content"],
          summary: step === "plan" ? "Compute the Sentinel content changes" : "Apply the Sentinel content changes",
          body: {
            type: "object",
            additionalProperties: false,
            properties: { prune: { type: "boolean", default: false } },
          },
          response: { 200: anyObject, 400: errorSchema, 501: errorSchema },
        },
      },
      async (request) => {
        if (!services.deploy)
          throw new NotAvailableError("deploy needs a Sentinel workspace and the deploy stage; not configured");
        const prune = request.body?.prune === true;
        return step === "plan" ? services.deploy.plan({ prune }) : services.deploy.apply({ prune });
      },
    );
  }
}
