/**
 * `Expect: 100-continue` against a real server on 127.0.0.1, spoken as raw HTTP/1.1 over node:net. RFC 9110
 * §10.1.1: a client sending it waits for an interim 100 (Continue) before the content; a server that answers with a
 * final status code instead spares it sending the content. So a request over its route's limit by its
 * Content-Length gets the route's 413 and never a 100 (the client would otherwise send the whole body, to be
 * refused), while a request within the limit gets 100, then its answer once the body is sent. Any other expectation
 * is answered 417 (RFC 9110 §10.1.1: "A server that receives an Expect field value containing a member other than
 * 100-continue MAY respond with a 417 (Expectation Failed)").
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AttackServer, connect, type RawClient, serve, until } from "./serve.js";

/** The limits set for this server (docs/service.md: SHMHUNT_MAX_SAMPLE_BYTES, SHMHUNT_MAX_BODY_BYTES). */
const MAX_SAMPLE_BYTES = 1024 * 1024;
const MAX_BODY_BYTES = 64 * 1024;

let server: AttackServer;
beforeAll(async () => {
  server = await serve({
    SHMHUNT_MAX_SAMPLE_BYTES: String(MAX_SAMPLE_BYTES),
    SHMHUNT_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
  });
});
afterAll(async () => {
  await server?.stop();
});

/** Sends a request's head only (its line, Host, `headers`; no content) and returns the connection. */
async function head(requestLine: string, headers: readonly string[]): Promise<RawClient> {
  const client = await connect(server.port);
  client.socket.write(`${[requestLine, "Host: 127.0.0.1", ...headers].join("\r\n")}\r\n\r\n`);
  return client;
}

/** The JSON body of the (last) final answer in what the server sent. */
function answerBody(received: string): unknown {
  return JSON.parse(received.slice(received.lastIndexOf("\r\n\r\n") + 4));
}

describe("Expect: 100-continue with a Content-Length over the route's limit", () => {
  it.each([
    ["/samples", "SAMPLE_TOO_LARGE"],
    ["/scan", "SAMPLE_TOO_LARGE"],
  ])("POST %s: 413 %s at once, no 100 (Continue) before it, the body never asked for", async (route, code) => {
    const client = await head(`POST ${route} HTTP/1.1`, [
      "Content-Type: application/octet-stream",
      `Content-Length: ${MAX_SAMPLE_BYTES + 1}`,
      "Expect: 100-continue",
    ]);
    // No byte of the body is sent: the answer must come on the head alone, and the server close the connection
    // (the body it announced was never read).
    await until(client.closed, "the server to answer and close");
    const received = client.received();
    expect(received).not.toMatch(/^HTTP\/1\.1 100/m);
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(answerBody(received)).toMatchObject({ code });
  });

  it("POST /hunt/run (a JSON body over SHMHUNT_MAX_BODY_BYTES): 413 SHM_BODY_TOO_LARGE, no 100 (Continue)", async () => {
    const client = await head("POST /hunt/run HTTP/1.1", [
      "Content-Type: application/json",
      `Content-Length: ${MAX_BODY_BYTES + 1}`,
      "Expect: 100-continue",
    ]);
    await until(client.closed, "the server to answer and close");
    const received = client.received();
    expect(received).not.toMatch(/^HTTP\/1\.1 100/m);
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(answerBody(received)).toMatchObject({ code: "SHM_BODY_TOO_LARGE" });
  });
});

describe("Expect: 100-continue within the limit", () => {
  /**
   * Sends the head alone, expects `100 Continue` and nothing else before any of the body is sent, then sends the body
   * and gives the answer that follows the 100.
   */
  async function afterContinue(requestLine: string, contentType: string, body: string): Promise<string> {
    const client = await head(requestLine, [
      `Content-Type: ${contentType}`,
      `Content-Length: ${Buffer.byteLength(body)}`,
      "Expect: 100-continue",
      "Connection: close",
    ]);
    await until(() => client.received().includes("\r\n\r\n"), "the 100 (Continue)");
    expect(client.received()).toBe("HTTP/1.1 100 Continue\r\n\r\n");
    client.socket.write(body);
    await until(client.closed, "the answer and the end of the connection");
    return client.received().slice("HTTP/1.1 100 Continue\r\n\r\n".length);
  }

  it("POST /scan: 100 (Continue) before any of the body is sent, then the verdict once it is", async () => {
    const body = "not an ELF, just text";
    const answer = await afterContinue("POST /scan HTTP/1.1", "application/octet-stream", body);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answerBody(answer)).toMatchObject({ verdict: "no-match", size: Buffer.byteLength(body) });
  });

  it("POST /hunt/run: 100 (Continue), then the answer to the body sent (a rule not hunted: 404 naming it)", async () => {
    const body = JSON.stringify({ ruleId: "no-such-rule" });
    const answer = await afterContinue("POST /hunt/run HTTP/1.1", "application/json", body);
    expect(answer).toMatch(/^HTTP\/1\.1 404 /);
    expect(answerBody(answer)).toMatchObject({ code: "SHM_NOT_FOUND", message: expect.stringMatching(/no-such-rule/) });
  });
});

describe("an expectation other than 100-continue", () => {
  it("is answered 417 (Expectation Failed), without 100, and the server goes on answering", async () => {
    const client = await head("POST /scan HTTP/1.1", [
      "Content-Type: application/octet-stream",
      "Content-Length: 5",
      "Expect: something-else",
    ]);
    await until(() => /\r\n\r\n/.test(client.received()), "the answer");
    expect(client.received()).toMatch(/^HTTP\/1\.1 417 /);
    expect(client.received()).not.toMatch(/^HTTP\/1\.1 100/m);
    client.socket.destroy();
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
