/**
 * Samples and scans. Bodies are raw bytes (application/octet-stream) handed to the service as a stream: never
 * buffered whole, limited by SHMHUNT_MAX_SAMPLE_BYTES (not by the JSON body limit), hashed while they flow.
 */
import type { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import * as operations from "../../app/operations.js";
import { type SampleQuery, sampleParams, sampleQuery } from "../../app/requests.js";
import { checkSampleRequest } from "../../app/sample-request.js";
import type { Services } from "../../app/services.js";
import { errorSchema, sampleReportSchema, uploadSchema, verdictSchema } from "../schemas.js";

export function registerSampleRoutes(app: FastifyInstance, services: Services, maxSampleBytes: number): void {
  // Scoped to this plugin: the stream is passed on as it is; the service enforces the size limit while reading.
  // Only raw bytes: the JSON and text parsers fastify registers by default are removed from this scope, and any
  // other content type is refused (415) as the request arrives, before its body is read or anything is opened.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/octet-stream", (_request, payload, done) => done(null, payload));
  // What the request must be (type, coding, Content-Length) is the application layer's, shared with the Functions
  // handlers: refused (415, 413) as the request arrives, before its body is read or anything is opened.
  app.addHook("onRequest", async (request) => {
    if (request.method !== "POST") return;
    checkSampleRequest(
      {
        contentType: request.headers["content-type"],
        contentEncoding: request.headers["content-encoding"],
        contentLength: request.headers["content-length"],
      },
      maxSampleBytes,
    );
  });
  const binaryBody = { consumes: ["application/octet-stream"] };

  app.post<{ Querystring: SampleQuery }>(
    "/samples",
    {
      bodyLimit: maxSampleBytes,
      schema: {
        tags: ["samples"],
        summary: "Upload a sample (raw bytes); it is stored by SHA-256, scanned, and settles waiting hits",
        ...binaryBody,
        querystring: sampleQuery,
        response: {
          200: uploadSchema,
          201: uploadSchema,
          400: errorSchema,
          413: errorSchema,
          415: errorSchema,
          422: errorSchema,
          507: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const claimed = request.query.sha256 ?? headerValue(request.headers["x-sample-sha256"]);
      const { host, path } = request.query;
      const result = await services.samples.upload(request.body as Readable, {
        ...(claimed ? { sha256: claimed } : {}),
        ...(host && path ? { host, path } : {}),
      });
      return reply.code(result.created ? 201 : 200).send(result);
    },
  );

  app.get<{ Params: { sha256: string } }>(
    "/samples/:sha256",
    {
      schema: {
        tags: ["samples"],
        summary: "A sample's verdict",
        params: sampleParams,
        response: { 200: sampleReportSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (request) => operations.sampleReport(services, request.params.sha256),
  );

  app.post(
    "/scan",
    {
      bodyLimit: maxSampleBytes,
      schema: {
        tags: ["samples"],
        summary: "Scan bytes with the YARA rules without storing them",
        ...binaryBody,
        response: {
          200: verdictSchema,
          400: errorSchema,
          413: errorSchema,
          415: errorSchema,
          501: errorSchema,
          507: errorSchema,
        },
      },
    },
    async (request) => services.samples.scan(request.body as Readable),
  );
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
