/**
 * Entra ID bearer tokens for the HTTP API: a JWT signed by the tenant's keys (RS256, keys from its JWKS), issued by
 * the tenant (its `tid` the issuer's), for this API's audience, within its validity, carrying a permission of the
 * API (a scope or an app role: Entra ID gives any application of the tenant a role-less app-only token for the
 * API). Checked by `jose` (`jwtVerify` over `createRemoteJWKSet`, which caches the keys and refetches on an unknown
 * key id at most once per cooldown). A JWKS that cannot be fetched or read makes the request 503 (never 500), and is
 * not fetched again before the retry delay: a down key endpoint is not hammered once per request. The key endpoint
 * is fetched at most once a minute in every case: an unknown key id after a good fetch (jose's cooldown) and a
 * failed fetch (the retry delay) alike.
 */
import {
  createRemoteJWKSet,
  customFetch,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";

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
  /** After a failed key fetch, how long requests are answered 503 without fetching again (`ENTRA_KEY_LIMITS`). */
  readonly keysRetryMs?: number;
  /** How long one fetch of the key set may take (`ENTRA_KEY_LIMITS`). */
  readonly jwksTimeoutMs?: number;
  /**
   * The permissions a token must carry one of: delegated scopes (in `scp`) and app roles (in `roles`). Neither set:
   * any scope or app role of the API.
   */
  readonly acceptedScopes?: readonly string[];
  readonly acceptedRoles?: readonly string[];
}

export interface TokenClaims {
  readonly iss: string;
  readonly aud: string;
  readonly sub?: string;
  readonly oid?: string;
  readonly appid?: string;
  readonly azp?: string;
  readonly tid?: string;
  /** Delegated permissions (scopes), space-separated. */
  readonly scp?: string;
  /** App roles: application permissions, or roles assigned to the user. */
  readonly roles?: readonly string[];
  readonly exp: number;
  readonly nbf?: number;
  readonly [claim: string]: unknown;
}

/**
 * A token refused (401), valid but without an accepted scope or role (403), or the tenant's keys unavailable (503,
 * with the seconds before they are fetched again).
 */
export class TokenError extends Error {
  constructor(
    message: string,
    readonly status: 401 | 403 | 503 = 401,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "TokenError";
  }
}

/**
 * The limits of fetching the tenant's keys (docs/service.md lists them; SHMHUNT_ENTRA_JWKS_TIMEOUT and
 * SHMHUNT_ENTRA_KEYS_RETRY override the last two).
 */
export const ENTRA_KEY_LIMITS = {
  /** An unknown key id refetches the keys at most this often (jose's cooldown). */
  cooldownMs: 60_000,
  /** One fetch of the key set, answer included. */
  jwksTimeoutMs: 5_000,
  /** After a failed fetch, requests are answered 503 this long without fetching again: once a minute, as above. */
  keysRetryMs: 60_000,
  /** The key set's size at most (the tenant's is a few KiB). */
  jwksMaxBytes: 1024 * 1024,
  /** A good key set is kept this long, then fetched again on the next token (jose's `cacheMaxAge`). */
  cacheMaxAgeMs: 600_000,
} as const;

/** A token's `exp` and `nbf` are accepted this many seconds off the service's clock (jose's `clockTolerance`). */
export const CLOCK_SKEW_SECONDS = 300;

/** The body's text; throws when it is longer than `limit` bytes. */
async function readAtMost(response: Response, limit: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength;
    if (size > limit) throw new Error(`the key set is over ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export class EntraTokenValidator {
  private readonly keys: JWTVerifyGetKey;
  private keysFailedAt = Number.NEGATIVE_INFINITY;
  /** The cached key set proved unusable (a key that cannot verify): fetch it again after the retry delay. */
  private reloadDue = false;
  /** That fetch, awaited by every request meanwhile. */
  private reloading: Promise<void> | undefined;

  constructor(private readonly options: EntraOptions) {
    const remote = createRemoteJWKSet(new URL(this.jwksUrl), {
      cooldownDuration: ENTRA_KEY_LIMITS.cooldownMs,
      cacheMaxAge: ENTRA_KEY_LIMITS.cacheMaxAgeMs,
      timeoutDuration: options.jwksTimeoutMs ?? ENTRA_KEY_LIMITS.jwksTimeoutMs,
      // Every fetch goes through `fetchKeySet`, which records a failure before any waiting request resumes: a
      // request arriving as the fetch fails finds the failure, and does not fetch again.
      [customFetch]: (url: string, init: RequestInit) => this.fetchKeySet(url, init),
    });
    this.keys = async (header, token) => {
      const waited = Date.now() - this.keysFailedAt;
      if (waited < this.keysRetryMs) {
        throw new TokenError(
          "the tenant's signing keys are unavailable; retry later",
          503,
          Math.ceil((this.keysRetryMs - waited) / 1000),
        );
      }
      try {
        if (this.reloadDue) {
          // One fetch for every request waiting; the set is due again until a fetch succeeds.
          this.reloading ??= remote
            .reload()
            .then(() => {
              this.reloadDue = false;
            })
            .finally(() => {
              this.reloading = undefined;
            });
          await this.reloading;
        }
        return await remote(header, token);
      } catch (error) {
        if (isKeyFetchFailure(error)) {
          this.keysFailedAt = Date.now();
          throw new TokenError(
            `cannot fetch the tenant's signing keys: ${messageOf(error)}`,
            503,
            Math.ceil(this.keysRetryMs / 1000),
          );
        }
        throw error;
      }
    };
  }

  /**
   * One fetch of the key set, read whole (at most `ENTRA_KEY_LIMITS.jwksMaxBytes`) and checked to be a key set;
   * a failure is recorded before it is thrown.
   */
  private async fetchKeySet(url: string, init: RequestInit): Promise<Response> {
    try {
      const response = await (this.options.fetch ?? fetch)(url, init);
      if (response.status !== 200) throw new Error(`the key endpoint answered ${response.status}`);
      const text = await readAtMost(response, ENTRA_KEY_LIMITS.jwksMaxBytes);
      const json = JSON.parse(text) as { keys?: unknown };
      if (!Array.isArray(json.keys) || !json.keys.every((k) => typeof k === "object" && k !== null)) {
        throw new Error("the key endpoint's answer is not a JSON Web Key Set");
      }
      return new Response(text, { status: 200, headers: { "content-type": "application/json" } });
    } catch (error) {
      this.keysFailedAt = Date.now();
      throw error;
    }
  }

  /** After a failed key fetch, how long before the keys are fetched again. */
  get keysRetryMs(): number {
    return this.options.keysRetryMs ?? ENTRA_KEY_LIMITS.keysRetryMs;
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
        clockTolerance: this.options.clockSkewSeconds ?? CLOCK_SKEW_SECONDS,
        ...(this.options.clock ? { currentDate: this.options.clock() } : {}),
      });
      const claims = payload as JWTPayload as TokenClaims;
      // Microsoft's rules beyond jose's checks ("Access tokens in the Microsoft identity platform", "Validate the
      // issuer"): the token's tenant (`tid`) is the one its issuer names.
      if (claims.tid === undefined || claims.tid !== issuerTenant(claims.iss)) {
        throw new TokenError("token from another tenant");
      }
      // "Controlling tokens without the roles claim": any application of the tenant can get an app-only token
      // for this API, without a role; an API must check permissions (Microsoft.Identity.Web's IDW10201 refuses
      // a token with neither a scope nor a role).
      if (!hasPermission(claims)) throw new TokenError("token carries no scope (scp) or app role (roles)");
      // "Your API needs to verify that the token used to call the API is requested with the expected claims": the
      // scopes (on behalf of a user) and the app roles (a daemon app) ("Protected web API: Verify scopes and app
      // roles"); one missing is a 403 naming those expected, as Microsoft.Identity.Web's RequiredScope answers.
      const refusal = permissionRefusal(claims, this.options);
      if (refusal) throw new TokenError(refusal, 403);
      return claims;
    } catch (error) {
      if (error instanceof TokenError) throw error;
      if (!(error instanceof errors.JOSEError)) {
        // Not the token's fault (every refusal of a token is a JOSEError): the key the set gave for it cannot
        // verify anything (garbage key material). The set is fetched again after the retry delay.
        this.keysFailedAt = Date.now();
        this.reloadDue = true;
        throw new TokenError(
          `the tenant's signing key ${JSON.stringify(String(decodeKid(token)).slice(0, 64))} is unusable: ${messageOf(error)}`,
          503,
          Math.ceil(this.keysRetryMs / 1000),
        );
      }
      throw new TokenError(reasonOf(error));
    }
  }
}

/** The tenant an issuer names: the first segment of its path (`https://sts.windows.net/<tid>/`). */
function issuerTenant(issuer: string): string | undefined {
  try {
    return new URL(issuer).pathname.split("/")[1];
  } catch {
    return undefined;
  }
}

/** A delegated scope (`scp`) or an app role (`roles`) of this API: a permission granted to the caller. */
function hasPermission(claims: TokenClaims): boolean {
  const scp: unknown = claims.scp;
  const roles: unknown = claims.roles;
  if (typeof scp === "string" && scp.trim() !== "") return true;
  return Array.isArray(roles) && roles.some((role) => typeof role === "string" && role !== "");
}

/** Why the token carries none of the accepted scopes and roles, when some are set; undefined when it does. */
function permissionRefusal(
  claims: TokenClaims,
  options: Pick<EntraOptions, "acceptedScopes" | "acceptedRoles">,
): string | undefined {
  const scopes = options.acceptedScopes ?? [];
  const roles = options.acceptedRoles ?? [];
  if (scopes.length === 0 && roles.length === 0) return undefined;
  const scp: unknown = claims.scp;
  const held = typeof scp === "string" ? scp.split(" ") : [];
  if (scopes.some((scope) => held.includes(scope))) return undefined;
  const heldRoles: unknown = claims.roles;
  if (Array.isArray(heldRoles) && roles.some((role) => heldRoles.includes(role))) return undefined;
  const expected = [
    ...(scopes.length > 0 ? [`a scope (scp) of ${scopes.join(", ")}`] : []),
    ...(roles.length > 0 ? [`an app role (roles) of ${roles.join(", ")}`] : []),
  ];
  return `token carries none of the permissions this API accepts: ${expected.join(" or ")}`;
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

/** The `kid` of a token's header, when it has one. */
function decodeKid(token: string): unknown {
  try {
    return decodeProtectedHeader(token).kid;
  } catch {
    return undefined;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
