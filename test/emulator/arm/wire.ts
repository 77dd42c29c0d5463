/**
 * ARM wire conventions the emulator's routes share: the error body (`{"error":{"code","message"}}`, as
 * arm.errors.json), etags, `value`/`nextLink` paging with `$top` and `$skipToken`, and the answer type routes return.
 */
import { randomBytes } from "node:crypto";

export interface ArmReply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export function armError(status: number, code: string, message: string): ArmReply {
  return { status, body: { error: { code, message } } };
}

export const badRequest = (message: string): ArmReply => armError(400, "BadRequest", message);

export function notFound(what: string): ArmReply {
  return armError(404, "NotFound", `${what} was not found.`);
}

/** Thrown inside a route to answer with an ARM error. */
export class ArmFailure extends Error {
  constructor(readonly reply: ArmReply) {
    super(JSON.stringify(reply.body));
  }
}

export function fail(reply: ArmReply): never {
  throw new ArmFailure(reply);
}

/** A fresh Sentinel-style etag: `"0300bf09-0000-0000-0000-5c37296e0000"` (the quotes are part of it). */
export function newSentinelEtag(): string {
  const hex = randomBytes(10).toString("hex");
  return `"${hex.slice(0, 8)}-0000-0000-0000-${hex.slice(8, 20)}"`;
}

/** A Log Analytics saved-search etag: `W/"datetime'2024-01-01T00%3A00%3A00.000Z'"`. */
export function newSavedSearchEtag(now: Date): string {
  return `W/"datetime'${encodeURIComponent(now.toISOString())}'"`;
}

/** Etags compared without weak marker and quotes (clients echo them in either form). */
export function sameEtag(a: string, b: string): boolean {
  const norm = (s: string) => s.trim().replace(/^W\//, "").replace(/^"|"$/g, "");
  return norm(a) === norm(b);
}

/**
 * Checks `If-Match` / `If-None-Match` against the current etag (undefined: no resource). A mismatch is 412
 * PreconditionFailed, as ARM answers.
 */
export function checkPreconditions(headers: Readonly<Record<string, unknown>>, current: string | undefined): void {
  const ifMatch = headerValue(headers["if-match"]);
  if (ifMatch !== undefined) {
    const ok =
      current !== undefined && (ifMatch.trim() === "*" || ifMatch.split(",").some((e) => sameEtag(e, current)));
    if (!ok) {
      fail(
        armError(
          412,
          "PreconditionFailed",
          current === undefined
            ? "The resource does not exist, so the If-Match precondition failed."
            : `The If-Match etag ${ifMatch} does not match the resource's current etag ${current}.`,
        ),
      );
    }
  }
  const ifNoneMatch = headerValue(headers["if-none-match"]);
  if (ifNoneMatch !== undefined && current !== undefined) {
    if (ifNoneMatch.trim() === "*" || ifNoneMatch.split(",").some((e) => sameEtag(e, current))) {
      fail(armError(412, "PreconditionFailed", "The resource exists, so the If-None-Match precondition failed."));
    }
  }
}

function headerValue(value: unknown): string | undefined {
  if (Array.isArray(value)) return value.join(",");
  return typeof value === "string" ? value : undefined;
}

export interface PageRequest {
  /** The absolute URL of the list (without `$skipToken`). */
  readonly listUrl: URL;
  readonly pageSize: number;
}

/**
 * One page of a list: `{ value, nextLink? }`. `$top` caps the number of items returned in all; `$skipToken` is the
 * offset the emulator put in the previous nextLink.
 */
export function page<T>(items: readonly T[], request: PageRequest): { value: T[]; nextLink?: string } {
  const params = request.listUrl.searchParams;
  const skip = Number(params.get("$skipToken") ?? "0");
  const topText = params.get("$top");
  const top = topText === null ? Number.POSITIVE_INFINITY : Number(topText);
  if (!Number.isInteger(skip) || skip < 0) fail(badRequest(`Invalid $skipToken '${params.get("$skipToken")}'.`));
  if (topText !== null && (!Number.isInteger(top) || top < 0)) fail(badRequest(`Invalid $top '${topText}'.`));
  const limit = Math.min(items.length, top);
  const end = Math.min(limit, skip + request.pageSize);
  const value = items.slice(skip, end);
  if (end >= limit) return { value };
  const next = new URL(request.listUrl);
  next.searchParams.set("$skipToken", String(end));
  return { value, nextLink: next.toString() };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
