/**
 * What a request asks of the services, once for every transport: the fastify routes and the Functions handlers
 * validate the request (requests.ts), call one of these, and shape the answer (errors.ts for failures).
 */
import path from "node:path";
import type { HitStatus } from "../hunt/types.js";
import type { DeployReport } from "../sentinel/deploy.js";
import { DEPLOY_NOT_CONFIGURED } from "./deploy-service.js";
import { InvalidRequestError, LimitExceededError, NotAvailableError, NotFoundError } from "./errors.js";
import { type DeployMode, nestingDepth, type PageQuery, REQUEST_LIMITS } from "./requests.js";
import type { SampleReport, Services, TranslateRequest, TranslateResponse } from "./services.js";

export function translate(services: Services, request: TranslateRequest): Promise<TranslateResponse> {
  if (!services.translate) throw new NotAvailableError("translation is not available in this build");
  const text = request.eql ?? request.rule ?? "";
  const depth = nestingDepth(text);
  if (depth > REQUEST_LIMITS.nestingDepth) {
    throw new LimitExceededError(
      `${request.eql !== undefined ? "eql" : "rule"} nests brackets ${depth} deep, over the limit of ${REQUEST_LIMITS.nestingDepth}`,
    );
  }
  return services.translate.translate(request);
}

export function deploy(
  services: Services,
  mode: DeployMode,
  options: { readonly prune?: boolean },
): Promise<DeployReport> {
  if (!services.deploy) throw new NotAvailableError(DEPLOY_NOT_CONFIGURED);
  const prune = options.prune === true;
  return mode === "plan" ? services.deploy.plan({ prune }) : services.deploy.apply({ prune });
}

export function runHunts(services: Services, request: { readonly ruleId?: string; readonly force?: boolean }) {
  return services.hunt.run({ force: request.force !== false, ...(request.ruleId ? { ruleId: request.ruleId } : {}) });
}

/** Scans stored samples again with the rules in use now, at most `limit` of them (src/hunt/rescan.ts). */
export function rescan(services: Services, request: { readonly limit?: number }) {
  return services.hunt.rescan(request.limit !== undefined ? { limit: request.limit } : {});
}

export async function hits(
  services: Services,
  query: { readonly ruleId?: string; readonly status?: HitStatus } & PageQuery,
) {
  const filter = {
    ...(query.ruleId ? { ruleId: query.ruleId } : {}),
    ...(query.status ? { status: query.status } : {}),
  };
  // The page is picked before the hits' acquisitions are read: only its hits are looked up.
  let next: string | undefined;
  const hits = await services.hunt.hits(filter, (all) => {
    const page = pageOf(all, (hit) => hit.key, query, "hit");
    next = page.next;
    return page.items;
  });
  return { hits, ...(next ? { next } : {}) };
}

export async function incidents(services: Services, query: PageQuery) {
  const { items, next } = pageOf(await services.hunt.incidents(), (incident) => incident.id, query, "incident");
  return { incidents: items, ...(next ? { next } : {}) };
}

/**
 * One page of a list in its own order: up to `limit` items after the one whose key is `after`, and `next`, the key
 * of its last item, when more follow. A key no longer in the list (or never in it) is a 400: the client starts over.
 */
function pageOf<T>(
  all: readonly T[],
  keyOf: (item: T) => string,
  query: PageQuery,
  what: string,
): { items: T[]; next?: string } {
  const limit = query.limit ?? REQUEST_LIMITS.pageItems;
  let from = 0;
  if (query.after !== undefined) {
    const at = all.findIndex((item) => keyOf(item) === query.after);
    if (at < 0) throw new InvalidRequestError(`after: no ${what} ${query.after} in this list; start again without it`);
    from = at + 1;
  }
  const items = all.slice(from, from + limit);
  return from + limit < all.length ? { items, next: keyOf(items[items.length - 1] as T) } : { items };
}

export async function incident(services: Services, id: string) {
  const found = await services.state.incident(id);
  if (!found) throw new NotFoundError(`no incident ${id}`);
  return found;
}

/** A sample's report; 404 when the sample is neither stored nor scanned. */
export async function sampleReport(services: Services, sha256: string): Promise<SampleReport> {
  const report = await services.samples.report(sha256);
  if (!report.stored && !report.verdict) throw new NotFoundError(`no sample ${report.sha256}`);
  return report;
}

/** One problem /health reports: which part, its code, what, and where (file relative to the rules folder). */
interface HealthProblem {
  readonly component: "yara-rules";
  readonly code: string;
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
}

/**
 * The service's health: `ok`, or `degraded` with the problems (a broken YARA file: the last good rule set is still
 * in use, and the diagnostic names the file, line and column).
 */
export async function health(services: Services): Promise<{ status: "ok" | "degraded"; problems: HealthProblem[] }> {
  const problems = (await services.samples.ruleProblems()).map(
    (d): HealthProblem => ({
      component: "yara-rules",
      code: d.code,
      message: d.message,
      ...(d.file ? { file: path.relative(services.config.rulesDir, d.file) || d.file } : {}),
      ...(d.span ? { line: d.span.start.line, column: d.span.start.column } : {}),
    }),
  );
  return { status: problems.length > 0 ? "degraded" : "ok", problems };
}
