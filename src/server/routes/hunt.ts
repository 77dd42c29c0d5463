/** Hunts (run now), hits, and the incidents the embedded default writes to local state. */
import type { FastifyInstance } from "fastify";
import * as operations from "../../app/operations.js";
import {
  hitsQuery,
  huntRunBody,
  incidentParams,
  incidentsQuery,
  type PageQuery,
  rescanBody,
} from "../../app/requests.js";
import type { Services } from "../../app/services.js";
import type { HitStatus } from "../../hunt/types.js";
import { errorSchema, hitSchema, huntReportSchema, incidentSchema, rescanReportSchema } from "../schemas.js";

export function registerHuntRoutes(app: FastifyInstance, services: Services): void {
  app.post<{ Body: { ruleId?: string; force?: boolean } }>(
    "/hunt/run",
    {
      schema: {
        tags: ["hunt"],
        summary: "Run the hunts now (due ones, or all with force), then settle pending hits",
        body: huntRunBody,
        response: { 200: huntReportSchema, 400: errorSchema, 404: errorSchema, 501: errorSchema },
      },
    },
    async (request) => operations.runHunts(services, request.body ?? {}),
  );

  app.post<{ Body: { limit?: number } }>(
    "/hunt/rescan",
    {
      schema: {
        tags: ["hunt"],
        summary:
          "Scan stored samples again with the YARA rules in use now (a batch), settling the hits their verdicts decided",
        body: rescanBody,
        response: { 200: rescanReportSchema, 400: errorSchema, 501: errorSchema },
      },
    },
    async (request) => operations.rescan(services, request.body ?? {}),
  );

  app.get<{ Querystring: { ruleId?: string; status?: HitStatus } & PageQuery }>(
    "/hits",
    {
      schema: {
        tags: ["hunt"],
        summary: "Hits and their state (pending, alerted, benign, unverified, overflow)",
        querystring: hitsQuery,
        response: {
          200: {
            type: "object",
            properties: { hits: { type: "array", items: hitSchema }, next: { type: "string" } },
          },
          400: errorSchema,
        },
      },
    },
    async (request) => operations.hits(services, request.query),
  );

  app.get<{ Querystring: PageQuery }>(
    "/incidents",
    {
      schema: {
        tags: ["hunt"],
        summary: "Incidents written to local state (the embedded default, no Sentinel)",
        querystring: incidentsQuery,
        response: {
          200: {
            type: "object",
            properties: { incidents: { type: "array", items: incidentSchema }, next: { type: "string" } },
          },
          400: errorSchema,
        },
      },
    },
    async (request) => operations.incidents(services, request.query),
  );

  app.get<{ Params: { id: string } }>(
    "/incidents/:id",
    {
      schema: {
        tags: ["hunt"],
        params: incidentParams,
        response: { 200: incidentSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (request) => operations.incident(services, request.params.id),
  );
}
