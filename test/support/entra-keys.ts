/**
 * An Entra ID tenant for tests: its signing key pair, tokens signed with it (or with a stranger's key), and a JWKS
 * endpoint on 127.0.0.1 whose behaviour a test switches while it runs (serves the keys, drops the connection,
 * answers late, answers garbage), counting the fetches it receives. Claims and issuers are those Microsoft
 * documents for v2.0 access tokens (iss `https://login.microsoftonline.com/<tenant>/v2.0`, aud, exp, nbf, oid, tid,
 * and `scp` for a token issued on behalf of a user, as in the sample v2.0 token of learn.microsoft.com's "Access
 * tokens in the Microsoft identity platform").
 */
import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
export const AUDIENCE = "api://shmhunt";
export const ISSUER = `https://login.microsoftonline.com/${TENANT}/v2.0`;

export const signing = generateKeyPairSync("rsa", { modulusLength: 2048 });
export const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });

export function jwk(key: KeyObject, kid: string) {
  return { ...key.export({ format: "jwk" }), kid, use: "sig", alg: "RS256" };
}

/** An RS256 token of the tenant (valid for ten minutes) with `claims` over the defaults. */
export function token(
  claims: Record<string, unknown>,
  options: { kid?: string; key?: KeyObject; alg?: string } = {},
): string {
  const header = Buffer.from(
    JSON.stringify({ alg: options.alg ?? "RS256", typ: "JWT", kid: options.kid ?? "k1" }),
  ).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const payload = Buffer.from(
    JSON.stringify({
      iss: ISSUER,
      aud: AUDIENCE,
      exp: now + 600,
      nbf: now - 10,
      oid: "user-1",
      tid: TENANT,
      scp: "access_as_user",
      ...claims,
    }),
  ).toString("base64url");
  const signature = sign("RSA-SHA256", Buffer.from(`${header}.${payload}`), options.key ?? signing.privateKey).toString(
    "base64url",
  );
  return `${header}.${payload}.${signature}`;
}

/** What the key endpoint does with a request. */
export type JwksBehaviour =
  | { readonly kind: "keys" }
  | { readonly kind: "drop" }
  | { readonly kind: "body"; readonly body: string; readonly status?: number }
  | { readonly kind: "slow"; readonly ms: number }
  /** Answers the keys once `until` resolves (the test decides when, not the clock). */
  | { readonly kind: "held"; readonly until: Promise<void> };

export interface JwksEndpoint {
  readonly url: string;
  /** Fetches received so far. */
  requests(): number;
  /** Fetches received and not yet answered or closed. */
  unanswered(): number;
  /** Changes what the next fetches get. */
  behave(behaviour: JwksBehaviour): void;
  close(): Promise<void>;
}

/** A JWKS endpoint serving the tenant's key `k1` (`{kind: "keys"}`) or misbehaving as told. */
export async function jwksEndpoint(initial: JwksBehaviour = { kind: "keys" }): Promise<JwksEndpoint> {
  let behaviour = initial;
  let requests = 0;
  let unanswered = 0;
  const keys = JSON.stringify({ keys: [jwk(signing.publicKey, "k1")] });
  const server = createServer((req, res) => {
    requests++;
    unanswered++;
    res.on("close", () => unanswered--);
    const now = behaviour;
    switch (now.kind) {
      case "drop":
        req.socket.destroy();
        return;
      case "body":
        res.statusCode = now.status ?? 200;
        res.setHeader("content-type", "application/json");
        res.end(now.body);
        return;
      case "slow": {
        const timer = setTimeout(() => {
          res.setHeader("content-type", "application/json");
          res.end(keys);
        }, now.ms);
        res.on("close", () => clearTimeout(timer));
        return;
      }
      case "held":
        void now.until.then(() => {
          if (res.destroyed) return;
          res.setHeader("content-type", "application/json");
          res.end(keys);
        });
        return;
      default:
        res.setHeader("content-type", "application/json");
        res.end(keys);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`,
    requests: () => requests,
    unanswered: () => unanswered,
    behave: (next) => {
      behaviour = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
