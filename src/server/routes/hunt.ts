/** Hunts (run now), hits, and the incidents the embedded default writes to local state. */
import type { FastifyInstance } from "fastify";
import type { HitStatus } from "../../hunt/types.js";
import { NotFoundError } from "../../app/errors.js";
import { errorSchema, hitSchema, huntReportSchema, incidentSchema } from "../schemas.js";
import type { Services } from "../../app/services.js";

export function registerHuntRoutes(app: FastifyInstance, services: Services): void {
  app.post<{ Body: { ruleId?: string; force?: boolean } }>(
    "/hunt/run",
    {
      schema: {
        tags: ["hunt"],
        summary: "Run the hunts now (due ones, or all with force), then settle pending hits",
        body: {
          type: "object",
          additionalProperties: false,
          properties: { ruleId: { type: "string", maxLength: 100 }, force: { type: "boolean", default: true } },
        },
        response: { 200: huntReportSchema, 501: errorSchema },
      },
    },
    async (request) => {
      const body = request.body ?? {};
      return services.hunt.run({ force: body.force !== false, ...(body.ruleId ? { ruleId: body.ruleId } : {}) });
    },
  );

  app.get<{ Querystring: { ruleId?: string; status?: HitStatus } }>(
    "/hits",
    {
      schema: {
        tags: ["hunt"],
        summary: "Hits and their state (pending, alerted, benign, unverified, overflow)",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            ruleId: { type: "string" },
            status: { type: "string", enum: ["new", "pending", "alerted", "benign", "unverified", "overflow"] },
          },
        },
        response: { 200: { type: "object", properties: { hits: { type: "array", items: hitSchema } } } },
      },
    },
    async (request) => ({ hits: await services.hunt.hits(request.query) }),
  );

  app.get(
    "/incidents",
    {
      schema: {
        tags: ["hunt"],
        summary: "Incidents written to local state (the embedded default, no Sentinel)",
        response: { 200: { type: "object", properties: { incidents: { type: "array", items: incidentSchema } } } },
      },
    },
    async () => ({ incidents: await services.hunt.incidents() }),
  );

  app.get<{ Params: { id: string } }>(
    "/incidents/:id",
    {
      schema: {
        tags: ["hunt"],
        params: { type: "object", properties: { id: { type: "string", maxLength: 64 } }, required: ["id"] },
        response: { 200: incidentSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const incident = await services.state.incident(request.params.id);
      if (!incident) throw new NotFoundError(`no incident ${request.params.id}`);
      return incident;
    },
  );
}
