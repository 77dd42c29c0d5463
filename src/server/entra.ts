/**
 * Entra ID bearer tokens for the HTTP API: a JWT signed by the tenant's keys (RS256, keys from its JWKS), issued by
 * the tenant, for this API's audience, within its validity. Checked by `jose` (`jwtVerify` over
 * `createRemoteJWKSet`, which caches the keys and refetches on an unknown key id at most once per cooldown). A JWKS
 * that cannot be fetched or read makes the request 503 (never 500), and is not fetched again before the retry
 * delay: a down key endpoint is not hammered once per request.
 */
import { createRemoteJWKSet, customFetch, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";

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
  /** After a failed key fetch, how long requests are answered 503 without fetching again; default 30 s. */
  readonly keysRetryMs?: number;
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

/** A token refused (401), or the tenant's keys unavailable (503), with the reason. */
export class TokenError extends Error {
  constructor(
    message: string,
    readonly status: 401 | 503 = 401,
  ) {
    super(message);
    this.name = "TokenError";
  }
}

/** An unknown key id refetches the keys at most this often (jose's cooldown). */
const JWKS_COOLDOWN_MS = 60_000;
const JWKS_TIMEOUT_MS = 5_000;
const KEYS_RETRY_MS = 30_000;

export class EntraTokenValidator {
  private readonly keys: JWTVerifyGetKey;
  private keysFailedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: EntraOptions) {
    const remote = createRemoteJWKSet(new URL(this.jwksUrl), {
      cooldownDuration: JWKS_COOLDOWN_MS,
      timeoutDuration: JWKS_TIMEOUT_MS,
      ...(options.fetch ? { [customFetch]: options.fetch } : {}),
    });
    this.keys = async (header, token) => {
      const retryMs = this.options.keysRetryMs ?? KEYS_RETRY_MS;
      if (Date.now() - this.keysFailedAt < retryMs) {
        throw new TokenError("the tenant's signing keys are unavailable; retry later", 503);
      }
      try {
        return await remote(header, token);
      } catch (error) {
        if (isKeyFetchFailure(error)) {
          this.keysFailedAt = Date.now();
          throw new TokenError(`cannot fetch the tenant's signing keys: ${messageOf(error)}`, 503);
        }
        throw error;
      }
    };
  }

  get jwksUrl(): string {
    return this.options.jwksUrl ?? `https://login.microsoftonline.com/${this.options.tenantId}/discovery/v2.0/keys`;
  }

  get issuers(): readonly string[] {
    const t = this.options.tenantId;
    return this.options.issuers ?? [`https://login.microsoftonline.com/${t}/v2.0`, `https://sts.windows.net/${t}/`];
  }

  /** The token's claims when it is valid; throws TokenError saying why not. */
  async validate(token: string): Promise<TokenClaims> {
    try {
      const { payload } = await jwtVerify(token, this.keys, {
        algorithms: ["RS256"],
        issuer: [...this.issuers],
        audience: [...this.options.audiences],
        requiredClaims: ["exp"],
        clockTolerance: this.options.clockSkewSeconds ?? 300,
        ...(this.options.clock ? { currentDate: this.options.clock() } : {}),
      });
      return payload as JWTPayload as TokenClaims;
    } catch (error) {
      throw error instanceof TokenError ? error : new TokenError(reasonOf(error));
    }
  }
}

/** A failure to get or read the key set (network, timeout, non-200, not JSON, not a JWKS), not a token's fault. */
function isKeyFetchFailure(error: unknown): boolean {
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return true;
  if (!(error instanceof errors.JOSEError)) return true;
  return error.code === "ERR_JOSE_GENERIC";
}

/** Why a token is refused, in a few words (the 401's message). */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "token expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "nbf") return "token not yet valid";
    if (error.claim === "iss") return "token from another issuer";
    if (error.claim === "aud") return "token for another audience";
    if (error.claim === "exp") return "token expired";
    return `token claim ${error.claim} refused`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad token signature";
  if (error instanceof errors.JWKSNoMatchingKey) return "token signed by an unknown key";
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return "unsupported token algorithm";
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return "malformed token";
  return `token refused: ${messageOf(error)}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
