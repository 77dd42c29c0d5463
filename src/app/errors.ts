/** Errors the services raise, and the one HTTP error shape every transport (fastify, Functions) answers with. */
import type { FastifyError } from "fastify";
import { DiagnosticError } from "../diagnostics/index.js";
import { SampleError } from "../store/spool.js";

/** A feature whose service is not configured or not built: HTTP 501 with what to do. */
export class NotAvailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotAvailableError";
  }
}

/** A request the service cannot act on as given: HTTP 400 (or `status`). */
export class BadRequestError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = "BadRequestError";
  }
}

/** A thing asked for that does not exist: HTTP 404. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotFoundError";
  }
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
