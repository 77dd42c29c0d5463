/**
 * Entra ID bearer tokens for the HTTP API: a JWT signed by the tenant's keys (RS256, keys from its JWKS, cached
 * and refreshed when an unknown key id shows up), issued by the tenant, for this API's audience, within its
 * validity. Only node:crypto is used; nothing is trusted from the token before its signature checks.
 */
import { createPublicKey, type JsonWebKey, type KeyObject, verify } from "node:crypto";

export interface EntraOptions {
  readonly tenantId: string;
  /** The API's application id URI or client id: the `aud` a token must carry. */
  readonly audiences: readonly string[];
  /** Default: the tenant's v2.0 discovery keys. Tests point this at a local server. */
  readonly jwksUrl?: string;
  /** Accepted issuers; default: the tenant's v1 and v2 issuers. */
  readonly issuers?: readonly string[];
  readonly clockSkewSeconds?: number;
  readonly clock?: () => Date;
  readonly fetch?: typeof fetch;
}

export interface TokenClaims {
  readonly iss: string;
  readonly aud: string;
  readonly sub?: string;
  readonly oid?: string;
  readonly appid?: string;
  readonly azp?: string;
  readonly exp: number;
  readonly nbf?: number;
  readonly [claim: string]: unknown;
}

export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenError";
  }
}

const JWKS_REFRESH_MIN_MS = 60_000;

export class EntraTokenValidator {
  private keys = new Map<string, KeyObject>();
  private fetchedAt = 0;
  private inflight: Promise<void> | undefined;

  constructor(private readonly options: EntraOptions) {}

  get jwksUrl(): string {
    return this.options.jwksUrl ?? `https://login.microsoftonline.com/${this.options.tenantId}/discovery/v2.0/keys`;
  }

  get issuers(): readonly string[] {
    const t = this.options.tenantId;
    return this.options.issuers ?? [`https://login.microsoftonline.com/${t}/v2.0`, `https://sts.windows.net/${t}/`];
  }

  /** The token's claims when it is valid; throws TokenError saying why not. */
  async validate(token: string): Promise<TokenClaims> {
    const parts = token.split(".");
    if (parts.length !== 3) throw new TokenError("not a JWT");
    const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
    const header = decodePart(headerPart) as { alg?: unknown; kid?: unknown; typ?: unknown };
    if (header.alg !== "RS256") throw new TokenError(`unsupported token algorithm ${String(header.alg)}`);
    if (typeof header.kid !== "string") throw new TokenError("token has no key id");
    const key = await this.key(header.kid);
    const signed = Buffer.from(`${headerPart}.${payloadPart}`);
    if (!verify("RSA-SHA256", signed, key, Buffer.from(signaturePart, "base64url"))) {
      throw new TokenError("bad token signature");
    }
    const claims = decodePart(payloadPart) as Partial<TokenClaims>;
    const now = Math.floor((this.options.clock?.() ?? new Date()).getTime() / 1000);
    const skew = this.options.clockSkewSeconds ?? 300;
    if (typeof claims.exp !== "number" || claims.exp + skew < now) throw new TokenError("token expired");
    if (typeof claims.nbf === "number" && claims.nbf - skew > now) throw new TokenError("token not yet valid");
    if (typeof claims.iss !== "string" || !this.issuers.includes(claims.iss))
      throw new TokenError("token from another issuer");
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.some((a) => typeof a === "string" && this.options.audiences.includes(a))) {
      throw new TokenError("token for another audience");
    }
    return claims as TokenClaims;
  }

  private async key(kid: string): Promise<KeyObject> {
    const known = this.keys.get(kid);
    if (known) return known;
    // An unknown key id: the tenant may have rotated its keys. Refetch, at most once a minute.
    if (Date.now() - this.fetchedAt >= JWKS_REFRESH_MIN_MS || this.keys.size === 0) await this.refresh();
    const key = this.keys.get(kid);
    if (!key) throw new TokenError("token signed by an unknown key");
    return key;
  }

  private refresh(): Promise<void> {
    this.inflight ??= (async () => {
      try {
        const response = await (this.options.fetch ?? fetch)(this.jwksUrl);
        if (!response.ok) throw new TokenError(`cannot fetch the signing keys (${response.status})`);
        const body = (await response.json()) as { keys?: Array<JsonWebKey & { kid?: string; use?: string }> };
        const keys = new Map<string, KeyObject>();
        for (const jwk of body.keys ?? []) {
          if (jwk.kty !== "RSA" || typeof jwk.kid !== "string" || (jwk.use && jwk.use !== "sig")) continue;
          keys.set(jwk.kid, createPublicKey({ key: jwk, format: "jwk" }));
        }
        this.keys = keys;
        this.fetchedAt = Date.now();
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }
}

function decodePart(part: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    if (typeof value !== "object" || value === null) throw new Error();
    return value as Record<string, unknown>;
  } catch {
    throw new TokenError("malformed token");
  }
}
