/**
 * Deep and long inputs against a real server on 127.0.0.1 (issue 12, items 4 and 13, and the Host check): every
 * one is a 4xx naming the limit or the field, never a 500, and the server keeps answering.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLoopback } from "../../src/app/config.js";
import { type AttackServer, postJson, rawRequest, serve } from "./serve.js";

let server: AttackServer;
beforeAll(async () => {
  server = await serve();
});
afterAll(async () => {
  await server?.stop();
});

const post = (route: string, body: unknown) => postJson(server, route, body);

describe("/translate: deep and long queries", () => {
  it("2,000 nested parentheses: 400 naming the depth limit", async () => {
    const eql = `process where ${"(".repeat(2000)}process.name == "a"${")".repeat(2000)}`;
    const response = await post("/translate", { target: "defender", eql });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      code: "SHM_LIMIT_EXCEEDED",
      message: expect.stringMatching(/2000 deep, over the limit of 256/),
    });
  });

  it("a rule file whose query nests 3,000 deep: 400 naming the limit", async () => {
    const rule = `[rule]\nquery = '''\nprocess where ${"(".repeat(3000)}true${")".repeat(3000)}\n'''\n`;
    const response = await post("/translate", { target: "defender", rule });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(
      /rule nests brackets 3000 deep, over the limit of 256/,
    );
  });

  it("a 2,000-term or chain (over 16 KiB): 400 naming the size limit", async () => {
    const eql = `process where ${Array.from({ length: 2000 }, (_, i) => `process.pid == ${i}`).join(" or ")}`;
    const response = await post("/translate", { target: "defender", eql });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(
      /body\/eql must NOT have more than 16384 characters/,
    );
    // The server still translates a sane query.
    expect((await post("/translate", { target: "defender", eql: 'process where process.name == "a"' })).status).toBe(
      200,
    );
  });
});

describe("long and unusual parameters", () => {
  it.each([
    ["a 5,000-character rule id", `/hits?ruleId=${"a".repeat(5000)}`, /ruleId must NOT have more than 100/],
    ["64 × é as a rule id", `/hits?ruleId=${encodeURIComponent("é".repeat(64))}`, /ruleId must match pattern/],
    ["a rule id with a slash", `/hits?ruleId=${encodeURIComponent("../../etc")}`, /ruleId must match pattern/],
    ["an unknown query parameter", "/hits?x=1", /must NOT have additional properties/],
    ["64 × é as an incident id", `/incidents/${encodeURIComponent("é".repeat(64))}`, /id must/],
    ["a sample hash of 65 characters", `/samples/${"c".repeat(65)}`, /sha256 must NOT have more than 64/],
    ["an incident id of 65 characters", `/incidents/${"b".repeat(65)}`, /id must NOT have more than 64/],
  ])("%s: 400", async (_name, route, message) => {
    const response = await fetch(`${server.url}${route}`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(message);
  });

  it.each([
    ["an incident id", `/incidents/${"b".repeat(5000)}`],
    ["a sample hash", `/samples/${"c".repeat(5000)}`],
  ])("%s of 5,000 characters in the path: 414 (fastify's path parameter limit), never 500", async (_name, route) => {
    const response = await fetch(`${server.url}${route}`);
    expect(response.status).toBe(414);
    // docs/service.md: "Errors have one shape: { "error", "message", "code"?, "diagnostics"? }"; the error names the
    // status, 414 "URI Too Long" (RFC 9110 §15.5.15), and the message does not echo the 5,000 characters back.
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ error: "URI Too Long", code: "FST_ERR_MAX_PARAM_LENGTH" });
    expect(Object.keys(body).sort()).toEqual(["code", "error", "message"]);
    expect(String(body.message).length).toBeLessThan(300);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
  });

  it("a path whose percent-encoding is not valid: 400 in the one error shape", async () => {
    const response = await fetch(`${server.url}/samples/%zz`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ error: "Bad Request", code: "FST_ERR_BAD_URL" });
    expect(Object.keys(body).sort()).toEqual(["code", "error", "message"]);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
  });

  it("a claimed hash of 5,000 characters on an upload: 400 before the body is read", async () => {
    const response = await fetch(`${server.url}/samples?sha256=${"0".repeat(5000)}`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: Buffer.from("x"),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(/sha256 must NOT have more than 64/);
  });

  it("a run for a 5,000-character rule id: 400", async () => {
    const response = await post("/hunt/run", { ruleId: "r".repeat(5000) });
    expect(response.status).toBe(400);
  });
});

describe("DNS rebinding on the loopback default", () => {
  it.each(["attacker.example", "127.0.0.1.attacker.example", "attacker.example:8080"])(
    "a request naming host %s is refused (403), whatever the route",
    async (host) => {
      for (const route of ["/incidents", "/hits", "/health"]) {
        const answer = await rawRequest(
          server.port,
          `GET ${route} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
        );
        expect(answer, route).toMatch(/^HTTP\/1\.1 403 /);
        expect(answer).toContain("SHM_HOST_NOT_ALLOWED");
      }
    },
  );

  // RFC 9110 §7.2: Host = uri-host [ ":" port ]; RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request)
  // status code to any HTTP/1.1 request message that lacks a Host header field and to any request message that
  // contains more than one Host header field line or a Host header field with an invalid field value." A path, a
  // query, a fragment or user information after a loopback name is not a host: it is not served as loopback.
  it.each(["localhost/attacker.example", "127.0.0.1/x", "attacker.example@localhost", "localhost?x", "localhost#x"])(
    "a Host header %s that is not a host name and port is refused (400), whatever the route",
    async (host) => {
      for (const route of ["/incidents", "/health"]) {
        const answer = await rawRequest(
          server.port,
          `GET ${route} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
        );
        expect(answer, route).toMatch(/^HTTP\/1\.1 400 /);
      }
    },
  );

  // The same clause of RFC 9112 §3.2: "more than one Host header field line" is a 400. Node keeps the first of
  // them and drops the rest, so a loopback name first let a request through whatever the other one named.
  it.each([
    ["127.0.0.1", "attacker.example"],
    ["attacker.example", "127.0.0.1"],
    ["127.0.0.1", "127.0.0.1"],
  ])("two Host header lines (%s, then %s) are refused (400), whatever the route", async (first, second) => {
    for (const route of ["/incidents", "/health"]) {
      const answer = await rawRequest(
        server.port,
        `GET ${route} HTTP/1.1\r\nHost: ${first}\r\nHost: ${second}\r\nConnection: close\r\n\r\n`,
      );
      expect(answer, route).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).toContain("SHM_INVALID_REQUEST");
    }
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it("beyond loopback too (RFC 9112 §3.2 names any request): two Host lines or an invalid one are a 400", async () => {
    const key = "k".repeat(20);
    const wide = await serve({ SHMHUNT_HOST: "0.0.0.0", SHMHUNT_API_KEYS: key });
    try {
      for (const hosts of [["shmhunt.example", "attacker.example"], ["shmhunt.example/x"]]) {
        const lines = hosts.map((h) => `Host: ${h}\r\n`).join("");
        const answer = await rawRequest(
          wide.port,
          `GET /incidents HTTP/1.1\r\n${lines}x-api-key: ${key}\r\nConnection: close\r\n\r\n`,
        );
        expect(answer, hosts.join(" + ")).toMatch(/^HTTP\/1\.1 400 /);
      }
      const one = await rawRequest(
        wide.port,
        `GET /incidents HTTP/1.1\r\nHost: shmhunt.example\r\nx-api-key: ${key}\r\nConnection: close\r\n\r\n`,
      );
      expect(one).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      await wide.stop();
    }
  });

  // Node's HTTP parser refuses these before a request exists; they are answered in the one error shape
  // (docs/service.md: `{ error, message, code? }`): 431 for header fields over the limit (RFC 6585 §5, "431 Request
  // Header Fields Too Large"), 400 for a request line that is not HTTP (RFC 9112 §3: "Recipients of an invalid
  // request-line SHOULD respond with either a 400 (Bad Request) error or a 301 (Moved Permanently) redirect").
  it("requests Node's parser refuses are answered in the one error shape, and the server keeps answering", async () => {
    const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as object;
    const big = await rawRequest(
      server.port,
      `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
    );
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    expect(bodyOf(big)).toEqual({
      error: "Request Header Fields Too Large",
      message: expect.any(String),
      code: "SHM_HEADERS_TOO_LARGE",
    });
    const garbled = await rawRequest(server.port, "GET hits\r\n\r\n");
    expect(garbled).toMatch(/^HTTP\/1\.1 400 /);
    expect(bodyOf(garbled)).toEqual({ error: "Bad Request", message: expect.any(String), code: "SHM_INVALID_REQUEST" });
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  // RFC 9112 §3.2.2: "When an origin server receives a request with an absolute-form of request-target, the origin
  // server MUST ignore the received Host header field (if any) and instead use the host information of the
  // request-target." A loopback Host beside a foreign name in the request line let the request through.
  it("a request in absolute form is judged by the host in its request line, not by its Host header", async () => {
    const foreign = await rawRequest(
      server.port,
      `GET http://attacker.example/incidents HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    );
    expect(foreign).toMatch(/^HTTP\/1\.1 403 /);
    expect(foreign).toContain("SHM_HOST_NOT_ALLOWED");
    const invalid = await rawRequest(
      server.port,
      `GET http://attacker.example@127.0.0.1/incidents HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    );
    expect(invalid).toMatch(/^HTTP\/1\.1 400 /);
    const own = await rawRequest(
      server.port,
      `GET http://127.0.0.1:${server.port}/incidents HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n`,
    );
    expect(own).toMatch(/^HTTP\/1\.1 200 /);
  });

  it.each(["127.0.0.1", `127.0.0.1:PORT`, "localhost:PORT", "[::1]:PORT"])("host %s is served", async (host) => {
    const header = host.replace("PORT", String(server.port));
    const answer = await rawRequest(
      server.port,
      `GET /incidents HTTP/1.1\r\nHost: ${header}\r\nConnection: close\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
  });

  it("isLoopback takes loopback addresses, not host names that look like them", () => {
    expect(["127.0.0.1", "127.1.2.3", "::1", "localhost", "LOCALHOST"].every(isLoopback)).toBe(true);
    expect(
      ["127.0.0.1.attacker.example", "127.evil.example", "127.0.0.256", "127.0.0.1.", "0.0.0.0", "10.0.0.1"].some(
        isLoopback,
      ),
    ).toBe(false);
  });
});
