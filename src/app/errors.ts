/**
 * Every coded error a request can end in, with its HTTP status, in one table (as fastify's `lib/errors.js`), and
 * the one HTTP error shape every transport (fastify, Functions) answers with. An error is classified by its
 * `code`, never by its message text. Codes raised below this layer (a sample refused by src/store, a translation
 * refused by src/kql) are listed here too, so that a code without a status is a compile error.
 */
import { DiagnosticError } from "../diagnostics/index.js";
import type { TranslationRefusedCode } from "../kql/refusal.js";
import type { SampleErrorCode } from "../store/spool.js";

const ERROR_STATUS = {
  /** A request that does not match the API's schema (src/app/requests.ts). */
  SHM_INVALID_REQUEST: 400,
  /** A body that is not a JSON object. */
  SHM_BODY_NOT_JSON: 400,
  SHM_BODY_TOO_LARGE: 413,
  /** Rule text, a query or a setting with errors naming file, line, column or field (a DiagnosticError). */
  SHM_INVALID_INPUT: 400,
  SHM_NOT_FOUND: 404,
  /** A method no route takes on a path that has routes for others (RFC 9110 §15.5.6); `Allow` names those. */
  SHM_METHOD_NOT_ALLOWED: 405,
  /** A feature whose backend is not configured or not built, with what to do. */
  SHM_NOT_AVAILABLE: 501,
  /** The Sentinel workspace could not be read: nothing was planned or changed. */
  SHM_WORKSPACE_UNREADABLE: 502,
  /** src/kql: the query cannot be expressed on the target (names the field or construct). */
  TRANSLATION_REFUSED: 422,
  /** src/store: a sample refused for what it is. */
  SAMPLE_TOO_LARGE: 413,
  SAMPLE_HASH_MISMATCH: 422,
  SAMPLE_BAD_HASH: 400,
  SAMPLE_EMPTY: 400,
  /** A body that is not raw bytes (`application/octet-stream`): refused before anything is read or opened. */
  SAMPLE_NOT_BYTES: 415,
  /** The upload ended before its last byte (the connection was cut). */
  SAMPLE_INCOMPLETE: 400,
  /** The temporary folder is full (ENOSPC, EDQUOT) or the file size limit is reached (EFBIG): RFC 4918 507. */
  SAMPLE_NO_SPACE: 507,
  /** A request over one of the service's limits (size, depth, length); the message names the limit. */
  SHM_LIMIT_EXCEEDED: 400,
  /** The Host header names no host this server answers for (DNS rebinding on the loopback default). */
  SHM_HOST_NOT_ALLOWED: 403,
  /** The request did not arrive within the server's request timeout (RFC 9110 §15.5.9). */
  SHM_REQUEST_TIMEOUT: 408,
  /** The request's header fields are over the HTTP parser's size limit (RFC 6585 §5). */
  SHM_HEADERS_TOO_LARGE: 431,
} as const satisfies Record<TranslationRefusedCode | SampleErrorCode | `SHM_${string}`, number>;

type ErrorCode = keyof typeof ERROR_STATUS;

/** An error of the application layer: a code from the table, its status, a message for people. */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "AppError";
    this.status = ERROR_STATUS[code];
  }
}

/** fastify's `createError(code, message, status)`: a class per code, whose instances carry the code and status. */
function createError(code: ErrorCode, name: string) {
  const ErrorClass = class extends AppError {
    constructor(message: string) {
      super(code, message);
      this.name = name;
    }
  };
  return ErrorClass;
}

export const InvalidRequestError = createError("SHM_INVALID_REQUEST", "InvalidRequestError");
export const BodyNotJsonError = createError("SHM_BODY_NOT_JSON", "BodyNotJsonError");
export const BodyTooLargeError = createError("SHM_BODY_TOO_LARGE", "BodyTooLargeError");
export const NotFoundError = createError("SHM_NOT_FOUND", "NotFoundError");
/**
 * RFC 9110 §15.5.6: "The origin server MUST generate an Allow header field in a 405 response containing a list of
 * the target resource's currently supported methods" (§10.2.1): `allowed`, sent as the error's `headers`.
 */
export class MethodNotAllowedError extends AppError {
  readonly headers: Readonly<Record<string, string>>;
  constructor(message: string, allowed: readonly string[]) {
    super("SHM_METHOD_NOT_ALLOWED", message);
    this.name = "MethodNotAllowedError";
    this.headers = { allow: allowed.join(", ") };
  }
}
export const NotAvailableError = createError("SHM_NOT_AVAILABLE", "NotAvailableError");
export const LimitExceededError = createError("SHM_LIMIT_EXCEEDED", "LimitExceededError");
export const HostNotAllowedError = createError("SHM_HOST_NOT_ALLOWED", "HostNotAllowedError");
export const WorkspaceUnreadableError = createError("SHM_WORKSPACE_UNREADABLE", "WorkspaceUnreadableError");
export const RequestTimeoutError = createError("SHM_REQUEST_TIMEOUT", "RequestTimeoutError");
export const HeadersTooLargeError = createError("SHM_HEADERS_TOO_LARGE", "HeadersTooLargeError");

/** The status of a coded error of the table; undefined for any other error. */
function statusOfCode(code: unknown): number | undefined {
  return typeof code === "string" && Object.hasOwn(ERROR_STATUS, code) ? ERROR_STATUS[code as ErrorCode] : undefined;
}

/**
 * One error shape for every route: `{ error, message, code?, diagnostics? }`; with `headers`, the response headers a
 * coded error asks for (its own `headers` record, e.g. Accept-Encoding on a sample sent with a content coding).
 */
export function errorResponse(error: unknown): {
  status: number;
  body: Record<string, unknown>;
  headers?: Readonly<Record<string, string>>;
} {
  if (error instanceof DiagnosticError) {
    const code: ErrorCode = "SHM_INVALID_INPUT";
    return {
      status: ERROR_STATUS[code],
      body: {
        error: httpName(ERROR_STATUS[code]),
        message: error.message.split("\n")[0],
        code,
        diagnostics: error.diagnostics,
      },
    };
  }
  const coded = error as { code?: unknown; message?: unknown; statusCode?: unknown };
  const message = typeof coded?.message === "string" ? coded.message : "";
  const status = statusOfCode(coded?.code);
  if (status !== undefined) {
    const headers = headersOf(error);
    return { status, body: { error: httpName(status), message, code: coded.code }, ...(headers ? { headers } : {}) };
  }
  // An error of the HTTP framework about the request itself (fastify's FST_ERR_* with a 4xx statusCode).
  if (typeof coded?.statusCode === "number" && coded.statusCode >= 400 && coded.statusCode < 500) {
    const code = typeof coded.code === "string" ? { code: coded.code } : {};
    return { status: coded.statusCode, body: { error: httpName(coded.statusCode), message, ...code } };
  }
  return { status: 500, body: { error: "Internal Server Error", message: "the request failed; see the service log" } };
}

/** An error's own `headers` record of strings, if it has one. */
function headersOf(error: unknown): Readonly<Record<string, string>> | undefined {
  const headers = (error as { headers?: unknown } | undefined)?.headers;
  if (typeof headers !== "object" || headers === null) return undefined;
  const entries = Object.entries(headers).filter((entry): entry is [string, string] => typeof entry[1] === "string");
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

function httpName(status: number): string {
  return (
    {
      400: "Bad Request",
      401: "Unauthorized",
      404: "Not Found",
      405: "Method Not Allowed",
      413: "Payload Too Large",
      414: "URI Too Long",
      415: "Unsupported Media Type",
      403: "Forbidden",
      408: "Request Timeout",
      431: "Request Header Fields Too Large",
      422: "Unprocessable Entity",
      501: "Not Implemented",
      502: "Bad Gateway",
      503: "Service Unavailable",
      507: "Insufficient Storage",
    }[status] ?? "Error"
  );
}
