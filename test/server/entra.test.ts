import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createServices } from "../../src/app/compose.js";
import { loadConfig } from "../../src/app/config.js";
import type { Services } from "../../src/app/services.js";
import { buildServer } from "../../src/server/app.js";
import { ENTRA_KEY_LIMITS, EntraTokenValidator, TokenError } from "../../src/server/entra.js";
import { AUDIENCE, type JwksEndpoint, jwksEndpoint, signing, stranger, TENANT, token } from "../support/entra-keys.js";
import { until } from "../support/until.js";

/** The classic key confusion: the token HS256-signed with the tenant's *public* key (PEM) as the HMAC secret. */
function hs256WithPublicKey(): string {
  const [, payload] = token({}).split(".");
  const header = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT", kid: "k1" })).toString("base64url");
  const secret = signing.publicKey.export({ format: "pem", type: "spki" });
  return `${header}.${payload}.${createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url")}`;
}

let jwks: JwksEndpoint;
let jwksUrl: string;
const jwksRequests = () => jwks.requests();
const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-entra-"));

beforeAll(async () => {
  jwks = await jwksEndpoint();
  jwksUrl = jwks.url;
});
afterAll(async () => {
  await jwks.close();
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
    // Microsoft's tokens are RS256 ("Access tokens in the Microsoft identity platform", "Validate the signature").
    ["HS256 signed with the tenant's public key as the secret", hs256WithPublicKey(), "unsupported token algorithm"],
  ])("refuses %s", async (_name, jwt, reason) => {
    await expect(validator().validate(jwt)).rejects.toThrow(reason);
  });

  describe("what Microsoft's documentation asks of a web API validating its access tokens", () => {
    /** The refusal of `jwt` by a fresh validator: a 401 TokenError, or undefined when it is accepted. */
    const refusal = (jwt: string) =>
      validator()
        .validate(jwt)
        .then(
          () => undefined,
          (e: unknown) => e,
        );

    // learn.microsoft.com, "Microsoft identity platform and the OAuth 2.0 client credentials flow", "Controlling
    // tokens without the roles claim": "Microsoft Entra ID doesn't require that applications be authorized to get
    // tokens for another application. Thus, app-only tokens can be issued without a roles claim. Applications that
    // expose APIs must implement permission checks in order to accept tokens." And "Protected web API: Verify scopes
    // and app roles": Microsoft.Identity.Web "throws an exception when neither roles nor scopes are in the claims
    // provided: IDW10201: Neither scope or roles claim was found in the bearer token."
    it.each([
      ["neither scp nor roles (an app-only token any application of the tenant can get)", { scp: undefined }],
      ["an empty scp and no roles", { scp: "" }],
      ["no scp and an empty roles", { scp: undefined, roles: [] }],
    ])("refuses a token with %s", async (_name, claims) => {
      const error = await refusal(token(claims));
      expect(error).toBeInstanceOf(TokenError);
      expect(error).toMatchObject({ status: 401 });
    });

    it("accepts a token with a scope (delegated) or an app role (application permission)", async () => {
      expect(await refusal(token({ scp: "access_as_user" }))).toBeUndefined();
      expect(await refusal(token({ scp: undefined, roles: ["access_as_application"] }))).toBeUndefined();
    });

    // learn.microsoft.com, "Protected web API: Verify scopes and app roles": "Your API needs to verify that the
    // token used to call the API is requested with the expected claims. These claims in particular need
    // verification: The scopes if the API is called on behalf of a user. The app roles if the API can be called from
    // a daemon app." Microsoft.Identity.Web's RequiredScopeAttribute: a token that "does not have any of these
    // acceptedScopes in its scope claim" is answered "403 (Forbidden)" with "a message telling which scopes are
    // expected in the token". The `scp` claim is space-separated ("Access tokens", claims reference).
    describe("with the accepted scopes and app roles set (SHMHUNT_ENTRA_SCOPES, SHMHUNT_ENTRA_ROLES)", () => {
      const strict = (jwt: string) =>
        new EntraTokenValidator({
          tenantId: TENANT,
          audiences: [AUDIENCE],
          jwksUrl,
          acceptedScopes: ["Hunts.Run"],
          acceptedRoles: ["Hunts.Run.All"],
        })
          .validate(jwt)
          .then(
            () => undefined,
            (e: unknown) => e,
          );

      it("accepts a token holding one of them, among others", async () => {
        expect(await strict(token({ scp: "User.Read Hunts.Run" }))).toBeUndefined();
        expect(await strict(token({ scp: undefined, roles: ["Other", "Hunts.Run.All"] }))).toBeUndefined();
      });

      it.each([
        ["another scope of the API", { scp: "Incidents.Read" }],
        ["a scope only a prefix of the accepted one", { scp: "Hunts.Run.Extra Hunts" }],
        ["the accepted role's name as a scope", { scp: "Hunts.Run.All" }],
        ["another app role", { scp: undefined, roles: ["Incidents.Read.All"] }],
        ["the accepted scope's name as an app role", { scp: undefined, roles: ["Hunts.Run"] }],
      ])("refuses with a 403 naming what it accepts a token with %s", async (_name, claims) => {
        const error = await strict(token(claims));
        expect(error).toBeInstanceOf(TokenError);
        expect(error).toMatchObject({ status: 403 });
        expect((error as Error).message).toMatch(
          /a scope \(scp\) of Hunts\.Run or an app role \(roles\) of Hunts\.Run\.All/,
        );
      });
    });

    // learn.microsoft.com, "Access tokens in the Microsoft identity platform", "Validate the issuer": "web APIs
    // validating access tokens need to validate the issuer of the token (iss claim) against: [...] the tenant ID
    // (tid claim) of the token"; its recap: `if (issUri.Segments[1] != token["tid"]) throw validationException;`.
    it.each([
      ["a tid of another tenant than its issuer's", { tid: "9188040d-6c67-4c5b-b112-36a304b66dad" }],
      ["no tid", { tid: undefined }],
      ["a tid of another tenant, v1 issuer", { iss: `https://sts.windows.net/${TENANT}/`, tid: "other" }],
    ])("refuses a token with %s", async (_name, claims) => {
      const error = await refusal(token(claims));
      expect(error).toBeInstanceOf(TokenError);
      expect(error).toMatchObject({ status: 401 });
    });
  });

  it("a flood of tokens with random key ids: one fetch of the keys per cooldown, and good tokens are not held up", async () => {
    const v = validator();
    await v.validate(token({}));
    const before = jwksRequests();
    const start = Date.now();
    const clock = vi.spyOn(Date, "now");
    try {
      for (let round = 1; round <= 2; round++) {
        // Past the cooldown: an unknown key id may refetch the set (a rotation), once for the whole flood.
        clock.mockReturnValue(start + round * (ENTRA_KEY_LIMITS.cooldownMs + 1000));
        let answerTheFetch = () => {};
        jwks.behave({ kind: "held", until: new Promise<void>((resolve) => (answerTheFetch = resolve)) });
        let flood: Promise<unknown>[] = [];
        try {
          flood = Array.from({ length: 100 }, (_, i) =>
            v.validate(token({}, { kid: `random-${round}-${i}` })).catch((e: unknown) => e),
          );
          await until(() => jwksRequests() - before === round, "the flood's fetch of the keys");
          // A good token meanwhile is checked with the keys in hand, without waiting for the fetch: that is still
          // unanswered when the token is through (a validator that waited would see it answered or timed out).
          expect(await v.validate(token({}))).toMatchObject({ oid: "user-1" });
          expect(jwks.unanswered()).toBe(1);
        } finally {
          answerTheFetch();
        }
        for (const refusal of await Promise.all(flood)) expect(refusal).toMatchObject({ status: 401 });
        expect(jwksRequests() - before).toBe(round);
      }
    } finally {
      clock.mockRestore();
      jwks.behave({ kind: "keys" });
    }
  });

  it("fetches the keys once, not per request", async () => {
    const v = validator();
    const before = jwksRequests();
    for (let i = 0; i < 5; i++) await v.validate(token({}));
    expect(jwksRequests() - before).toBe(1);
  });

  describe("when the key endpoint is down or answers garbage", () => {
    /** A JWKS endpoint answering with `body` (undefined: drops the connection). */
    const keyServer = (body: string | undefined) =>
      jwksEndpoint(body === undefined ? { kind: "drop" } : { kind: "body", body });

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
          expect(answer.headers["retry-after"]).toBe(String(ENTRA_KEY_LIMITS.keysRetryMs / 1000));
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
        // An app-only token without a role (any application of the tenant can get one, see above): refused.
        const roleless = await app.inject({
          method: "GET",
          url: "/incidents",
          headers: { authorization: `Bearer ${token({ scp: undefined, oid: "app-1", sub: "app-1" })}` },
        });
        expect(roleless.statusCode).toBe(401);
        expect((await app.inject({ method: "GET", url: "/incidents" })).statusCode).toBe(401);
        expect((await app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);
      } finally {
        await app.close();
      }
    });

    it("answers 403 Forbidden to a valid token without an accepted scope or role, 200 with one", async () => {
      const app = await buildServer(services, {
        host: "0.0.0.0",
        apiKeys: [],
        entra: { tenantId: TENANT, audiences: [AUDIENCE], jwksUrl, acceptedScopes: ["Hunts.Run"] },
        maxBodyBytes: 1024,
        maxSampleBytes: 1024,
      });
      try {
        const ask = (scp: string) =>
          app.inject({ method: "GET", url: "/incidents", headers: { authorization: `Bearer ${token({ scp })}` } });
        const refused = await ask("Incidents.Read");
        expect(refused.statusCode).toBe(403);
        expect(refused.json()).toMatchObject({ error: "Forbidden" });
        expect(refused.json().message).toMatch(/Hunts\.Run/);
        expect((await ask("Hunts.Run")).statusCode).toBe(200);
      } finally {
        await app.close();
      }
    });

    it("reads the accepted scopes and roles with the tenant and audience only", () => {
      const env = { SHMHUNT_ENTRA_TENANT_ID: TENANT, SHMHUNT_ENTRA_AUDIENCE: AUDIENCE };
      expect(
        loadConfig({ ...env, SHMHUNT_ENTRA_SCOPES: "Hunts.Run, Deploy.Apply", SHMHUNT_ENTRA_ROLES: "Hunts.Run.All" })
          .entra,
      ).toEqual({
        tenantId: TENANT,
        audiences: [AUDIENCE],
        acceptedScopes: ["Hunts.Run", "Deploy.Apply"],
        acceptedRoles: ["Hunts.Run.All"],
      });
      expect(() => loadConfig({ SHMHUNT_ENTRA_SCOPES: "Hunts.Run" })).toThrow(/SHMHUNT_ENTRA_SCOPES/);
      expect(() => loadConfig({ ...env, SHMHUNT_ENTRA_ROLES: "Hunts Run" })).toThrow(
        /cannot hold a space \(SHMHUNT_ENTRA_ROLES\)/,
      );
    });

    it("reads the Entra settings together", () => {
      expect(loadConfig({ SHMHUNT_ENTRA_TENANT_ID: TENANT, SHMHUNT_ENTRA_AUDIENCE: `${AUDIENCE}, x` }).entra).toEqual({
        tenantId: TENANT,
        audiences: [AUDIENCE, "x"],
      });
      expect(() => loadConfig({ SHMHUNT_ENTRA_TENANT_ID: TENANT })).toThrow(/go together/);
    });

    // learn.microsoft.com, "Access tokens in the Microsoft identity platform": a tenant-specific metadata endpoint
    // may name the tenant by its GUID or by a domain name (`https://login.microsoftonline.com/contoso.onmicrosoft.com/
    // v2.0/.well-known/openid-configuration`), but the issuer of its tokens is
    // `https://login.microsoftonline.com/{tenantid}/v2.0`, and the `tid` claim "is a GUID". A tenant set by its
    // domain name (or `common`, `organizations`) would make every token "from another issuer": refused at start.
    it.each(["contoso.onmicrosoft.com", "common", "organizations"])(
      "refuses SHMHUNT_ENTRA_TENANT_ID=%s at start (not the tenant's GUID: no token would ever be accepted)",
      (tenant) => {
        expect(() => loadConfig({ SHMHUNT_ENTRA_TENANT_ID: tenant, SHMHUNT_ENTRA_AUDIENCE: AUDIENCE })).toThrow(
          /SHMHUNT_ENTRA_TENANT_ID|GUID/,
        );
      },
    );

    it("accepts the tenant's GUID written in capitals, as its tokens write it (lower case)", async () => {
      const entra = loadConfig({
        SHMHUNT_ENTRA_TENANT_ID: TENANT.toUpperCase(),
        SHMHUNT_ENTRA_AUDIENCE: AUDIENCE,
      }).entra;
      expect(entra).toBeDefined();
      const v = new EntraTokenValidator({ ...(entra as NonNullable<typeof entra>), jwksUrl });
      expect(await v.validate(token({}))).toMatchObject({ tid: TENANT });
    });
  });
});
