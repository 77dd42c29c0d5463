/**
 * Hostile uploads against a real server on 127.0.0.1 (issue 12, items 1, 2, 11 and the temporary paths): wrong
 * content types, cut connections, garbage after a body, and many uploads of one sample at once. Every loop is
 * bounded; the server must answer 4xx (never 500), keep no descriptor or temporary directory, and lose no verdict.
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AttackServer, connect, entries, openDescriptors, rawRequest, serve, until } from "./serve.js";

let server: AttackServer;
beforeAll(async () => {
  server = await serve();
});
afterAll(async () => {
  await server?.stop();
});

const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

describe("content types other than application/octet-stream", () => {
  const types = [
    "text/plain",
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/octet-streamx",
  ];

  it.each(["/scan", "/samples"])("%s answers 415 for each, and 415 without a content type", async (route) => {
    for (const type of types) {
      const response = await fetch(`${server.url}${route}`, {
        method: "POST",
        headers: { "content-type": type },
        body: type.includes("json") ? '{"a":1}' : "hello",
      });
      expect(response.status, type).toBe(415);
      expect(await response.json()).toMatchObject({ code: "SAMPLE_NOT_BYTES" });
    }
    const bare = await rawRequest(
      server.port,
      `POST ${route} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\n`,
      "hello",
    );
    expect(bare).toMatch(/^HTTP\/1\.1 415 /);
  });

  it("300 plain-text posts (what any web page may send) open no descriptor that stays open", async () => {
    const before = openDescriptors();
    for (let batch = 0; batch < 10; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 30 }, () =>
          fetch(`${server.url}/samples`, { method: "POST", headers: { "content-type": "text/plain" }, body: "x" }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(30).fill(415));
      await Promise.all(answers.map((a) => a.arrayBuffer()));
    }
    // Sockets of the client and server close shortly after the answers; nothing else may stay.
    await until(
      () => openDescriptors() <= before + 10,
      `descriptors back to ${before} (+10), now ${openDescriptors()}`,
    );
    expect(entries(server.tmpDir)).toEqual([]);
  });
});

describe("cut uploads", () => {
  it("30 uploads cut mid-body leave no descriptor and no temporary directory, and the server keeps answering", async () => {
    const before = openDescriptors();
    const clients = await Promise.all(Array.from({ length: 30 }, () => connect(server.port)));
    for (const client of clients) {
      client.socket.write(
        "POST /samples HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n",
      );
      client.socket.write(Buffer.alloc(64 * 1024, 7));
    }
    // Each upload is being spooled: its temporary directory exists.
    await until(() => entries(server.tmpDir).length === 30, "30 uploads in the spool");
    for (const client of clients) client.socket.destroy();
    await until(() => entries(server.tmpDir).length === 0, "the spool to be empty");
    await until(() => openDescriptors() <= before + 5, `descriptors back to ${before} (+5), now ${openDescriptors()}`);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it("20 uploads followed by garbage: answered 400 by the HTTP parser, never 5xx, nothing left behind", async () => {
    const before = openDescriptors();
    const body = Buffer.alloc(256 * 1024, 3);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        rawRequest(
          server.port,
          `POST /samples HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`,
          Buffer.concat([body, Buffer.from("\x00\x01GARBAGE NOT HTTP\r\n\r\n")]),
        ),
      ),
    );
    for (const answer of answers) {
      expect(answer).toMatch(/^HTTP\/1\.1 (201|200|400) /);
      expect(answer).not.toMatch(/HTTP\/1\.1 5\d\d /);
    }
    await until(() => entries(server.tmpDir).length === 0, "the spool to be empty");
    await until(() => openDescriptors() <= before + 5, `descriptors back to ${before} (+5), now ${openDescriptors()}`);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});

describe("concurrent uploads of one sample", () => {
  it("40 at once: no 500, exactly one creates it, every answer carries the verdict, which is stored", async () => {
    const body = Buffer.from(`the same sample ${Date.now()}`);
    const answers = await Promise.all(
      Array.from({ length: 40 }, () =>
        fetch(`${server.url}/samples`, {
          method: "POST",
          headers: { "content-type": "application/octet-stream" },
          body,
        }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(39);
    const results = (await Promise.all(answers.map((a) => a.json()))) as Array<{ verdict: { path?: string } }>;
    for (const result of results) {
      expect(result).toMatchObject({ sha256: sha(body), verdict: { verdict: "no-match", sha256: sha(body) } });
      // No temporary path of the server in a verdict.
      expect(JSON.stringify(result)).not.toContain(server.tmpDir);
      expect(result.verdict.path).toBeUndefined();
    }
    const report = await (await fetch(`${server.url}/samples/${sha(body)}`)).json();
    expect(report).toMatchObject({ stored: true, verdict: { sha256: sha(body) } });
    expect(entries(server.tmpDir)).toEqual([]);
  });

  it("a scan's verdict names no temporary path", async () => {
    const response = await fetch(`${server.url}/scan`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: Buffer.from("scan me"),
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain(server.tmpDir);
    expect(JSON.parse(text).path).toBeUndefined();
  });
});

describe("uploads the documentation refuses (docs/service.md)", () => {
  const upload = (route: string, query: string, body: Buffer) =>
    fetch(`${server.url}${route}${query}`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body,
    });
  const EMPTY_SHA256 = sha(Buffer.alloc(0));

  it("an empty sample to /samples: 400 SAMPLE_EMPTY, nothing stored; /scan answers it no-match", async () => {
    const stored = await upload("/samples", "?host=web-01&path=/dev/shm/empty", Buffer.alloc(0));
    expect(stored.status).toBe(400);
    expect(await stored.json()).toMatchObject({ code: "SAMPLE_EMPTY" });
    expect((await fetch(`${server.url}/samples/${EMPTY_SHA256}`)).status).toBe(404);
    const scanned = await upload("/scan", "", Buffer.alloc(0));
    expect(scanned.status).toBe(200);
    expect(await scanned.json()).toMatchObject({ verdict: "no-match", sha256: EMPTY_SHA256 });
  });

  it.each(["%C2%85", "%C2%9B", "%7F"])("a host or path holding the control character %s: 400", async (c) => {
    expect((await upload("/samples", `?host=web${c}01&path=/tmp/x`, Buffer.from("x"))).status).toBe(400);
    expect((await upload("/samples", `?host=web-01&path=/tmp/x${c}y`, Buffer.from("x"))).status).toBe(400);
  });
});

describe("a content coding on a sample (RFC 9110 §8.4)", () => {
  // RFC 9110 §8.4: a Content-Encoding means the body is not the representation's own bytes but a coding of them;
  // "An origin server MAY respond with a status code of 415 (Unsupported Media Type) if a representation in the
  // request message has a content coding that is not acceptable". The service takes a sample's bytes as they come
  // (docs/service.md: "raw bytes (application/octet-stream)"), so a coded body would be stored, hashed and scanned
  // as the compressed bytes: a verdict of the wrong file, which would settle the hits waiting at its host and path.
  it.each(["/samples", "/scan"])(
    "%s refuses a gzip-coded body with 415 SAMPLE_NOT_BYTES; nothing stored",
    async (route) => {
      const body = gzipSync(Buffer.from(`a coded sample ${route} ${Date.now()}`));
      for (const coding of ["gzip", "GZIP", "deflate, identity", "br"]) {
        const response = await fetch(`${server.url}${route}?${route === "/samples" ? "host=web-01&path=/tmp/z" : ""}`, {
          method: "POST",
          headers: { "content-type": "application/octet-stream", "content-encoding": coding },
          body,
        });
        expect(response.status, coding).toBe(415);
        // RFC 9110 §15.5.16: "the Accept-Encoding response header field […] ought to be used to indicate which (if
        // any) content codings would have been accepted in the request".
        expect(response.headers.get("accept-encoding")).toBe("identity");
        expect(await response.json()).toMatchObject({ code: "SAMPLE_NOT_BYTES" });
      }
      expect((await fetch(`${server.url}/samples/${sha(body)}`)).status).toBe(404);
      // `identity` is no coding at all (RFC 9110 §8.4.1): the bytes are the sample's.
      const plain = await fetch(`${server.url}${route}`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream", "content-encoding": "identity" },
        body,
      });
      expect(plain.status).toBeLessThan(300);
      expect(entries(server.tmpDir)).toEqual([]);
    },
  );
});
