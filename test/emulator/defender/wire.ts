/**
 * Defender for Endpoint wire conventions (learn.microsoft.com/defender-endpoint/api/common-errors): the error body
 * `{"error":{"code","message","target"}}` where `target` is "a unique ID parameter for tracking"; the codes of its
 * table; and the answer type the Defender routes return (JSON, or raw bytes for a download link).
 */
import { randomUUID } from "node:crypto";

export interface DefenderReply {
  readonly status: number;
  readonly body?: unknown;
  /** Raw bytes instead of JSON (the blob behind a download link, or Azure Storage's XML error). */
  readonly raw?: { readonly contentType: string; readonly data: Buffer };
  readonly headers?: Readonly<Record<string, string>>;
}

/** The codes of the common-errors table used by the emulator, with their HTTP status. */
export const DEFENDER_ERRORS = {
  BadRequest: 400,
  ODataError: 400,
  InvalidInput: 400,
  InvalidRequestBody: 400,
  InvalidHashValue: 400,
  MissingRequiredParameter: 400,
  // api/run-live-response, Limitations 8: "subsequent requests are responded to with HTTP 400 - ActiveRequestAlreadyExists"
  ActiveRequestAlreadyExists: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  ResourceNotFound: 404,
  TooManyRequests: 429,
  InternalServerError: 500,
} as const;

export type DefenderErrorCode = keyof typeof DEFENDER_ERRORS;

export function defenderError(code: DefenderErrorCode, message: string, status?: number): DefenderReply {
  return { status: status ?? DEFENDER_ERRORS[code], body: { error: { code, message, target: randomUUID() } } };
}

/** common-errors, Throttling: "A Retry-After in the response header indicating how long to wait (in seconds)". */
export function tooManyRequests(retryAfterSeconds: number, message: string): DefenderReply {
  return {
    ...defenderError("TooManyRequests", message),
    headers: { "retry-after": String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  };
}

/** Thrown inside a Defender route to answer with an error. */
export class DefenderFailure extends Error {
  constructor(readonly reply: DefenderReply) {
    super(JSON.stringify(reply.body));
  }
}

export function failWith(reply: DefenderReply): never {
  throw new DefenderFailure(reply);
}

/**
 * Azure Storage's answer to a SAS link past its expiry (`se`): 403 AuthenticationFailed with an
 * AuthenticationErrorDetail "Signature not valid in the specified time frame: Start [...] - Expiry [...] - Current [...]"
 * (the live response link is a blob SAS URL, api/get-live-response-result example: `...?se=...&sp=r&sv=...&sr=b&sig=...`).
 */
export function expiredSas(start: Date, expiry: Date, now: Date): DefenderReply {
  const xml =
    '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code>' +
    "<Message>Server failed to authenticate the request. Make sure the value of Authorization header is formed " +
    `correctly including the signature.\nRequestId:${randomUUID()}\nTime:${now.toISOString()}</Message>` +
    `<AuthenticationErrorDetail>Signature not valid in the specified time frame: Start [${start.toUTCString()}] - ` +
    `Expiry [${expiry.toUTCString()}] - Current [${now.toUTCString()}]</AuthenticationErrorDetail></Error>`;
  return {
    status: 403,
    raw: { contentType: "application/xml", data: Buffer.from(xml, "utf8") },
    headers: { "x-ms-error-code": "AuthenticationFailed" },
  };
}
