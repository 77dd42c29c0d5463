/**
 * What a sample upload's request must be (`POST /samples`, `POST /scan`), asked by both hosts before the body is
 * read: fastify's route hook (src/server/routes/samples.ts) and the Functions handlers (functions/handlers.ts).
 *
 * - raw bytes: `application/octet-stream`, any other type (or none) refused;
 * - in their own form: a content coding (`Content-Encoding: gzip`, …) would make the coded bytes the sample, stored,
 *   hashed and scanned as another file. RFC 9110 §8.4: "An origin server MAY respond with a status code of 415
 *   (Unsupported Media Type) if a representation in the request message has a content coding that is not
 *   acceptable", and §15.5.16: "If the problem was caused by an unsupported content coding, the Accept-Encoding
 *   response header field (Section 12.5.3) ought to be used to indicate which (if any) content codings would have
 *   been accepted in the request" (here: none, `identity`);
 * - no larger than the sample limit by its Content-Length (a body without one is limited as it is read,
 *   src/store/spool.ts).
 */
import { SampleError } from "../store/spool.js";

/** The request's headers that decide (as sent; undefined when absent). */
export interface SampleRequestHeaders {
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  readonly contentLength: string | undefined;
}

/** A sample request refused with headers of its own in the answer (both hosts send an error's `headers`). */
export class SampleRequestError extends SampleError {
  constructor(
    code: SampleError["code"],
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, message);
  }
}

/** Throws the refusal (415 SAMPLE_NOT_BYTES, 413 SAMPLE_TOO_LARGE) of a sample request; nothing is read before. */
export function checkSampleRequest(headers: SampleRequestHeaders, maxBytes: number): void {
  const type = (headers.contentType ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/octet-stream") {
    throw new SampleRequestError(
      "SAMPLE_NOT_BYTES",
      `a sample is sent as application/octet-stream, not ${type ? JSON.stringify(type) : "without a content type"}`,
    );
  }
  const codings = (headers.contentEncoding ?? "")
    .split(",")
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== "" && c !== "identity");
  if (codings.length > 0) {
    throw new SampleRequestError(
      "SAMPLE_NOT_BYTES",
      `a sample is sent as its own bytes, without a content coding (not ${JSON.stringify(codings.join(", "))})`,
      { "accept-encoding": "identity" },
    );
  }
  const length = Number(headers.contentLength);
  if (headers.contentLength !== undefined && Number.isFinite(length) && length > maxBytes) {
    throw new SampleRequestError("SAMPLE_TOO_LARGE", `sample exceeds the limit of ${maxBytes} bytes`);
  }
}
