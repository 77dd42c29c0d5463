/**
 * A local TokenCredential for the emulator: it hands the Azure SDKs a signed JWT (HS256 with a key shared with the
 * emulator), so their own bearer-token policy runs unchanged and the emulator can tell its tokens from anything
 * else. The audience is the scope the client asked for, minus `/.default`, as Entra ID does.
 */
import { createHmac, randomUUID } from "node:crypto";
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";

/** The key the emulator verifies tokens with unless it is given another one. Not a secret: a test fixture. */
export const DEFAULT_TOKEN_KEY = "shmhunt-emulator-token-key";

export interface TokenClaims {
  readonly aud: string;
  readonly iss: string;
  readonly sub: string;
  readonly oid: string;
  readonly tid: string;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
}

export class LocalTokenCredential implements TokenCredential {
  /** Every scope list asked for, in order: tests read it to see which audience each client requests. */
  readonly requestedScopes: string[][] = [];
  private readonly key: string;
  private readonly lifetimeSeconds: number;

  constructor(options: { readonly key?: string; readonly lifetimeSeconds?: number } = {}) {
    this.key = options.key ?? DEFAULT_TOKEN_KEY;
    this.lifetimeSeconds = options.lifetimeSeconds ?? 3600;
  }

  async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
    const list = Array.isArray(scopes) ? scopes : [scopes];
    this.requestedScopes.push([...list]);
    const now = Math.floor(Date.now() / 1000);
    const claims: TokenClaims = {
      aud: audienceOf(list[0] ?? ""),
      iss: "https://sts.windows.net/00000000-0000-0000-0000-000000000000/",
      sub: "shmhunt-emulator-user",
      oid: "2046feea-040d-4a46-9e2b-91c2941bfa70",
      tid: "00000000-0000-0000-0000-000000000000",
      iat: now,
      nbf: now - 60,
      exp: now + this.lifetimeSeconds,
    };
    return { token: signJwt(claims, this.key), expiresOnTimestamp: claims.exp * 1000, tokenType: "Bearer" };
  }
}

/** `https://api.loganalytics.io/.default` → `https://api.loganalytics.io`. */
export function audienceOf(scope: string): string {
  return scope.replace(/\/?\.default$/, "");
}

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}

export function signJwt(claims: object, key: string): string {
  const head = base64url(JSON.stringify({ alg: "HS256", typ: "JWT", kid: randomUUID() }));
  const body = base64url(JSON.stringify(claims));
  const signature = createHmac("sha256", key).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${signature}`;
}

export type TokenCheck =
  | { readonly ok: true; readonly claims: TokenClaims }
  | { readonly ok: false; readonly reason: "missing" | "invalid" | "expired" };

/** Checks an `Authorization` header value: a Bearer JWT signed with `key`, not expired. */
export function verifyBearer(header: string | undefined, key: string, nowSeconds = Date.now() / 1000): TokenCheck {
  if (!header) return { ok: false, reason: "missing" };
  const match = /^Bearer\s+([\w-]+)\.([\w-]+)\.([\w-]+)$/i.exec(header.trim());
  if (!match) return { ok: false, reason: "invalid" };
  const [, head, body, signature] = match as unknown as [string, string, string, string];
  const expected = createHmac("sha256", key).update(`${head}.${body}`).digest("base64url");
  if (expected !== signature) return { ok: false, reason: "invalid" };
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as TokenClaims;
  } catch {
    return { ok: false, reason: "invalid" };
  }
  if (typeof claims.exp !== "number" || claims.exp < nowSeconds) return { ok: false, reason: "expired" };
  return { ok: true, claims };
}
