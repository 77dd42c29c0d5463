/**
 * JSON bodies under HTTP streaming (app.setup({ enableHttpStream: true }) in functions/index.ts): the body is the
 * client's stream, so the handler must stop reading at SHMHUNT_MAX_BODY_BYTES rather than buffer whatever the
 * client sends.
 *
 * Oracle: "Stream HTTP requests and responses in Node.js Azure Functions"
 * (https://learn.microsoft.com/azure/azure-functions/node-http-stream): "Use request.body directly for maximum
 * benefits of streaming. Methods like request.text() buffer the entire body and return a string, which defeats the
 * purpose of streaming." With streaming on, the only limit before the handler is the host's
 * FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, which the Bicep raises to the sample limit (256 MiB by default), far over the
 * 1 MiB JSON limit.
 */
import { HttpRequest, type HttpRequestInit, InvocationContext } from "@azure/functions";
import { afterAll, describe, expect, it } from "vitest";
import { translate } from "../../functions/handlers.js";
import { setServices } from "../../functions/runtime.js";
import type { Services } from "../../src/app/services.js";

const MAX_BODY_BYTES = 4096;
const CHUNK = 1024;

// Only the configuration is read before a body is refused.
setServices({ config: { maxBodyBytes: MAX_BODY_BYTES } } as unknown as Services);
afterAll(() => setServices(undefined));

/** A body of `total` bytes served in chunks as the reader pulls them, counting what was pulled. */
function countedBody(total: number): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let served = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (served >= total) {
          controller.close();
          return;
        }
        const size = Math.min(CHUNK, total - served);
        served += size;
        controller.enqueue(new Uint8Array(size).fill(0x20));
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => served };
}

/**
 * A request as the library builds it when streaming (createStreamRequest in @azure/functions'
 * src/http/HttpRequest.ts: a native Request over the proxied body, duplex "half").
 */
function streamedRequest(body: ReadableStream<Uint8Array>, headers: Record<string, string> = {}): HttpRequest {
  const nativeRequest = new Request("http://localhost/api/translate", {
    method: "POST",
    body,
    duplex: "half",
    headers: { "content-type": "application/json", ...headers },
  } as RequestInit);
  return new HttpRequest({ nativeRequest, params: {} } as unknown as HttpRequestInit);
}

const context = () => new InvocationContext({ functionName: "translate" });

describe("JSON bodies over SHMHUNT_MAX_BODY_BYTES, streamed", () => {
  it("a chunked body is refused with 413 once the limit is crossed, not read to its end", async () => {
    const body = countedBody(MAX_BODY_BYTES * 64);
    const response = await translate(streamedRequest(body.stream), context());
    expect(response).toMatchObject({ status: 413, jsonBody: { code: "SHM_BODY_TOO_LARGE" } });
    expect(body.pulled()).toBeLessThanOrEqual(MAX_BODY_BYTES + 2 * CHUNK);
  });

  it("a Content-Length over the limit is refused with 413 before any of the body is read", async () => {
    const total = MAX_BODY_BYTES * 64;
    const body = countedBody(total);
    const response = await translate(streamedRequest(body.stream, { "content-length": String(total) }), context());
    expect(response).toMatchObject({ status: 413, jsonBody: { code: "SHM_BODY_TOO_LARGE" } });
    expect(body.pulled()).toBeLessThanOrEqual(CHUNK);
  });

  it("a body within the limit is still read whole (the check can pass)", async () => {
    const text = JSON.stringify({ target: "x", eql: "process where true" });
    const encoded = new TextEncoder().encode(text);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoded.slice(0, 10));
        controller.enqueue(encoded.slice(10));
        controller.close();
      },
    });
    const response = await translate(streamedRequest(stream), context());
    // Read and parsed: the schema refuses the target (400), not the size (413) nor the JSON.
    expect(response).toMatchObject({ status: 400, jsonBody: { code: "SHM_INVALID_REQUEST" } });
  });
});
