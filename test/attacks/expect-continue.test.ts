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
import { type AttackServer, connect, type RawClient, rawRequest, serve, until } from "./serve.js";

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

/**
 * Sends a request's head only (its line, Host, `headers`; no content) and returns the connection. `host`: the Host
 * header's value, and `port` the server's, when not the default server's.
 */
async function head(
  requestLine: string,
  headers: readonly string[],
  { host = "127.0.0.1", port = server.port }: { readonly host?: string; readonly port?: number } = {},
): Promise<RawClient> {
  const client = await connect(port);
  client.socket.write(`${[requestLine, `Host: ${host}`, ...headers].join("\r\n")}\r\n\r\n`);
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

  it("POST /hunt/run with a charset parameter on its JSON Content-Type: 100 (Continue), the type still taken", async () => {
    const body = JSON.stringify({ ruleId: "no-such-rule" });
    const answer = await afterContinue("POST /hunt/run HTTP/1.1", "application/json; charset=utf-8", body);
    expect(answer).toMatch(/^HTTP\/1\.1 404 /);
    expect(answerBody(answer)).toMatchObject({ code: "SHM_NOT_FOUND", message: expect.stringMatching(/no-such-rule/) });
  });
});

/**
 * RFC 9110 §10.1.1: an origin server receiving a request with 100-continue and an indication that content will follow
 * "MUST send either: an immediate response with a final status code, if that status can be determined by examining
 * just the method, target URI, and header fields, or an immediate 100 (Continue) response"; and it "MAY omit sending
 * a 100 (Continue) response if … the framing indicates that there is no content". So a refusal decided on the head
 * (the route, the method, the Content-Type, the query, the Host, the credentials) comes at once, with no 100 before
 * it and without any of the body sent; and a request with no content, or one whose content is never read (a GET), is
 * answered without 100 too.
 */
describe("Expect: 100-continue on a request refused on its head alone", () => {
  /** Sends the head alone and returns everything received once a whole answer (its head and body) has arrived. */
  async function answerToHead(
    requestLine: string,
    headers: readonly string[],
    options?: { readonly host?: string; readonly port?: number },
  ): Promise<string> {
    const client = await head(requestLine, [...headers, "Expect: 100-continue"], options);
    // A 100 (Continue) ends the wait too: the assertions then fail on it at once.
    await until(() => completeAnswer(client.received()), "a whole answer, with none of the body sent");
    client.socket.destroy();
    return client.received();
  }

  /** Whether `received` holds a 100, or a head and after it as many bytes as its Content-Length says. */
  function completeAnswer(received: string): boolean {
    const end = received.indexOf("\r\n\r\n");
    if (end < 0) return false;
    if (received.startsWith("HTTP/1.1 100")) return true;
    const length = /^content-length: *(\d+)/im.exec(received.slice(0, end));
    return length !== null && received.length - end - 4 >= Number(length[1]);
  }

  function expectFinalAtOnce(received: string, status: number, code?: string): void {
    expect(received).not.toMatch(/^HTTP\/1\.1 100/m);
    expect(received).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    if (code !== undefined) expect(answerBody(received)).toMatchObject({ code });
  }

  /** The status line and body of the same request sent whole, without the expectation. */
  async function answerWithout(requestLine: string, headers: readonly string[], body: string): Promise<string> {
    const head = `${[requestLine, "Host: 127.0.0.1", ...headers, "Connection: close"].join("\r\n")}\r\n\r\n`;
    return rawRequest(server.port, head, body);
  }

  it.each([
    ["POST /hunt/run HTTP/1.1", "application/xml", "<run>now</run>"],
    ["POST /no-such-route HTTP/1.1", "application/json", '{"force":true}'],
    ["POST /samples?sha256=not-a-hash HTTP/1.1", "application/octet-stream", "sample bytes"],
  ])("%s: refused at once with the answer the request without the expectation gets", async (line, type, body) => {
    const headers = [`Content-Type: ${type}`, `Content-Length: ${Buffer.byteLength(body)}`];
    const refused = await answerToHead(line, headers);
    const whole = await answerWithout(line, headers, body);
    expect(refused.split("\r\n")[0]).toBe(whole.split("\r\n")[0]);
    expect(answerBody(refused)).toEqual(answerBody(whole));
  });

  /**
   * Requests whose final answer is decided on their head alone: answered at once, with no 100 (Continue) first.
   * RFC 9110 §15.5.16: 415 when "the content is in a format not supported by this method on the target resource";
   * §15.5.6: 405 for a method the target resource does not support, with an Allow header listing those it does
   * (§10.2.1). The GET cases announce no content, or content the route never reads.
   */
  const DECIDED_ON_THE_HEAD: ReadonlyArray<{
    readonly what: string;
    readonly line: string;
    readonly headers: readonly string[];
    readonly host?: string;
    readonly status: number;
    readonly code?: string;
    readonly also?: (received: string) => void;
  }> = [
    {
      what: "POST /hunt/run (a JSON route) with a Content-Type it does not take",
      line: "POST /hunt/run HTTP/1.1",
      headers: ["Content-Type: application/xml", "Content-Length: 20"],
      status: 415,
    },
    {
      what: "POST /hunt/run with content but no Content-Type",
      line: "POST /hunt/run HTTP/1.1",
      headers: ["Content-Length: 20"],
      status: 415,
    },
    {
      what: "POST to a route that does not exist",
      line: "POST /no-such-route HTTP/1.1",
      headers: ["Content-Type: application/json", "Content-Length: 20"],
      status: 404,
      code: "SHM_NOT_FOUND",
    },
    {
      what: "PUT on a route that only takes POST",
      line: "PUT /hunt/run HTTP/1.1",
      headers: ["Content-Type: application/json", "Content-Length: 20"],
      status: 405,
      code: "SHM_METHOD_NOT_ALLOWED",
      also: (received) => expect(received).toMatch(/^allow: POST\r$/im),
    },
    {
      what: "DELETE /samples/{sha256} with content",
      line: `DELETE /samples/${"0".repeat(64)} HTTP/1.1`,
      headers: ["Content-Type: application/octet-stream", "Content-Length: 20"],
      status: 405,
      code: "SHM_METHOD_NOT_ALLOWED",
      also: (received) => expect(received).toMatch(/^allow: GET, HEAD\r$/im),
    },
    {
      what: "POST /samples with a query its schema refuses",
      line: "POST /samples?sha256=not-a-hash HTTP/1.1",
      headers: ["Content-Type: application/octet-stream", "Content-Length: 20"],
      status: 400,
      code: "SHM_INVALID_REQUEST",
      also: (received) =>
        expect(answerBody(received)).toMatchObject({ message: expect.stringMatching(/^querystring/) }),
    },
    {
      what: "POST /hunt/run naming a host not served here",
      line: "POST /hunt/run HTTP/1.1",
      headers: ["Content-Type: application/json", "Content-Length: 20"],
      host: "attacker.example",
      status: 403,
    },
    { what: "GET /health (no content)", line: "GET /health HTTP/1.1", headers: [], status: 200 },
    {
      what: "GET /health announcing content it never reads",
      line: "GET /health HTTP/1.1",
      headers: ["Content-Length: 20"],
      status: 200,
    },
  ];

  it.each(DECIDED_ON_THE_HEAD)("$what: $status at once, no 100 (Continue)", async (request) => {
    const received = await answerToHead(
      request.line,
      request.headers,
      request.host ? { host: request.host } : undefined,
    );
    expectFinalAtOnce(received, request.status, request.code);
    request.also?.(received);
  });

  it("POST /hunt/run with no content (Content-Length: 0): its answer without a 100 (Continue) first", async () => {
    const received = await answerToHead("POST /hunt/run HTTP/1.1", [
      "Content-Type: application/json",
      "Content-Length: 0",
    ]);
    expect(received).not.toMatch(/^HTTP\/1\.1 100/m);
    expect(received).toMatch(/^HTTP\/1\.1 [2-5]\d\d /);
  });

  describe("with API keys", () => {
    let keyed: AttackServer;
    beforeAll(async () => {
      keyed = await serve({ SHMHUNT_API_KEYS: "expect-continue-test-key-0123456789" });
    });
    afterAll(async () => {
      await keyed?.stop();
    });

    it("POST /hunt/run without a key: 401 at once, no 100 (Continue)", async () => {
      const received = await answerToHead(
        "POST /hunt/run HTTP/1.1",
        ["Content-Type: application/json", "Content-Length: 20"],
        { port: keyed.port },
      );
      expectFinalAtOnce(received, 401);
    });
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
