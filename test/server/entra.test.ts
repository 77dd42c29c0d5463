import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServices } from "../../src/app/compose.js";
import { loadConfig } from "../../src/app/config.js";
import type { Services } from "../../src/app/services.js";
import { buildServer } from "../../src/server/app.js";
import { EntraTokenValidator, TokenError } from "../../src/server/entra.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const AUDIENCE = "api://shmhunt";
const ISSUER = `https://login.microsoftonline.com/${TENANT}/v2.0`;

const signing = generateKeyPairSync("rsa", { modulusLength: 2048 });
const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });
let jwksRequests = 0;
let jwks: Server;
let jwksUrl: string;
const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-entra-"));

function jwk(key: KeyObject, kid: string) {
  return { ...key.export({ format: "jwk" }), kid, use: "sig", alg: "RS256" };
}

function token(claims: Record<string, unknown>, options: { kid?: string; key?: KeyObject; alg?: string } = {}): string {
  const header = Buffer.from(
    JSON.stringify({ alg: options.alg ?? "RS256", typ: "JWT", kid: options.kid ?? "k1" }),
  ).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const payload = Buffer.from(
    JSON.stringify({ iss: ISSUER, aud: AUDIENCE, exp: now + 600, nbf: now - 10, oid: "user-1", ...claims }),
  ).toString("base64url");
  const signature = sign("RSA-SHA256", Buffer.from(`${header}.${payload}`), options.key ?? signing.privateKey).toString(
    "base64url",
  );
  return `${header}.${payload}.${signature}`;
}

beforeAll(async () => {
  jwks = createServer((_req, res) => {
    jwksRequests++;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ keys: [jwk(signing.publicKey, "k1")] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
  jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/keys`;
});
afterAll(async () => {
  await new Promise((resolve) => jwks.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe("Entra ID bearer tokens", () => {
  const validator = () => new EntraTokenValidator({ tenantId: TENANT, audiences: [AUDIENCE], jwksUrl });

  it("accepts a token signed by the tenant's key, for this audience, in time", async () => {
    const v = validator();
    expect(await v.validate(token({}))).toMatchObject({ oid: "user-1", aud: AUDIENCE });
    // Also the v1 issuer of the same tenant.
    expect(await v.validate(token({ iss: `https://sts.windows.net/${TENANT}/` }))).toMatchObject({ oid: "user-1" });
  });

  it.each([
    ["an expired token", token({ exp: Math.floor(Date.now() / 1000) - 3600 }), "token expired"],
    ["a token not yet valid", token({ nbf: Math.floor(Date.now() / 1000) + 3600 }), "not yet valid"],
    ["another audience", token({ aud: "api://other" }), "another audience"],
    ["another tenant", token({ iss: "https://login.microsoftonline.com/other/v2.0" }), "another issuer"],
    ["a stranger's signature", token({}, { key: stranger.privateKey }), "bad token signature"],
    ["an unknown key id", token({}, { kid: "k9" }), "unknown key"],
    [
      "alg none",
      `${Buffer.from('{"alg":"none","kid":"k1"}').toString("base64url")}.${Buffer.from("{}").toString("base64url")}.`,
      "unsupported token algorithm",
    ],
    ["garbage", "not.a.jwt", "malformed"],
  ])("refuses %s", async (_name, jwt, reason) => {
    await expect(validator().validate(jwt)).rejects.toThrow(reason);
  });

  it("fetches the keys once, not per request", async () => {
    const v = validator();
    const before = jwksRequests;
    for (let i = 0; i < 5; i++) await v.validate(token({}));
    expect(jwksRequests - before).toBe(1);
  });

  describe("when the key endpoint is down or answers garbage", () => {
    /** A JWKS server answering with `body` (undefined: drops the connection), counting its requests. */
    async function keyServer(
      body: string | undefined,
    ): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
      let requests = 0;
      const server = createServer((req, res) => {
        requests++;
        if (body === undefined) {
          req.socket.destroy();
          return;
        }
        res.setHeader("content-type", "application/json");
        res.end(body);
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`,
        requests: () => requests,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    }

    it.each([
      ["drops the connection", undefined],
      ["answers text that is not JSON", "<html>oops</html>"],
      ["answers JSON that is not a key set", '{"keys": "none"}'],
    ])("%s: 503, and the keys are fetched once, not per request", async (_name, body) => {
      const server = await keyServer(body);
      try {
        const v = new EntraTokenValidator({ tenantId: TENANT, audiences: [AUDIENCE], jwksUrl: server.url });
        for (let i = 0; i < 4; i++) {
          const error = await v.validate(token({})).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(TokenError);
          expect((error as TokenError).status).toBe(503);
        }
        expect(server.requests()).toBe(1);
      } finally {
        await server.close();
      }
    });

    it("on the HTTP API: 503 with Retry-After (never 500), and the keys are fetched once, not per request", async () => {
      const server = await keyServer("not json");
      const services = await createServices(loadConfig({ SHMHUNT_DATA_DIR: dir }, dir), { scanner: null });
      const app = await buildServer(services, {
        host: "0.0.0.0",
        apiKeys: [],
        entra: { tenantId: TENANT, audiences: [AUDIENCE], jwksUrl: server.url },
        maxBodyBytes: 1024,
        maxSampleBytes: 1024,
      });
      try {
        for (let i = 0; i < 3; i++) {
          const answer = await app.inject({
            method: "GET",
            url: "/incidents",
            headers: { authorization: `Bearer ${token({})}` },
          });
          expect(answer.statusCode).toBe(503);
          expect(answer.headers["retry-after"]).toBe("30");
          expect(answer.json().message).toMatch(/signing keys/);
        }
        expect(server.requests()).toBe(1);
      } finally {
        await app.close();
        await services.close();
        await server.close();
      }
    });

    it("a port nobody listens on: 503", async () => {
      const server = await keyServer(undefined);
      await server.close();
      const v = new EntraTokenValidator({ tenantId: TENANT, audiences: [AUDIENCE], jwksUrl: server.url });
      const error = await v.validate(token({})).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: "TokenError", status: 503 });
    });
  });

  describe("on the HTTP API", () => {
    let services: Services;
    beforeAll(async () => {
      services = await createServices(loadConfig({ SHMHUNT_DATA_DIR: dir }, dir), { scanner: null });
    });
    afterAll(async () => services.close());

    it("lets a server listen beyond loopback with Entra ID alone, and checks tokens", async () => {
      const app = await buildServer(services, {
        host: "0.0.0.0",
        apiKeys: [],
        entra: { tenantId: TENANT, audiences: [AUDIENCE], jwksUrl },
        maxBodyBytes: 1024,
        maxSampleBytes: 1024,
      });
      try {
        const ok = await app.inject({
          method: "GET",
          url: "/incidents",
          headers: { authorization: `Bearer ${token({})}` },
        });
        expect(ok.statusCode).toBe(200);
        const expired = await app.inject({
          method: "GET",
          url: "/incidents",
          headers: { authorization: `Bearer ${token({ exp: 1 })}` },
        });
        expect(expired.statusCode).toBe(401);
        expect(expired.json().message).toBe("bearer token refused: token expired");
        expect((await app.inject({ method: "GET", url: "/incidents" })).statusCode).toBe(401);
        expect((await app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);
      } finally {
        await app.close();
      }
    });

    it("reads the Entra settings together", () => {
      expect(loadConfig({ SHMHUNT_ENTRA_TENANT_ID: TENANT, SHMHUNT_ENTRA_AUDIENCE: `${AUDIENCE}, x` }).entra).toEqual({
        tenantId: TENANT,
        audiences: [AUDIENCE, "x"],
      });
      expect(() => loadConfig({ SHMHUNT_ENTRA_TENANT_ID: TENANT })).toThrow(/go together/);
    });
  });
});
