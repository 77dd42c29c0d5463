/**
 * What to do about an error the Azure services answered a deploy step with: the raw message is kept, and a
 * one-line advice says what the operator should change (a data connector to enable, a role to grant, a name to
 * free), so a failed deploy is actionable without reading the REST reference.
 */
import { REGISTRY, TARGETS, tableIn, targetOfTable } from "../targets/index.js";
import type { PlanStep } from "./plan.js";

export interface ServiceErrorInfo {
  readonly status?: number;
  readonly code?: string;
  readonly message: string;
  /** What to do about it. */
  readonly advice: string;
}

function statusOf(error: unknown): number | undefined {
  const s = (error as { statusCode?: unknown })?.statusCode;
  return typeof s === "number" ? s : undefined;
}

function codeOf(error: unknown): string | undefined {
  const c = (error as { code?: unknown })?.code;
  return typeof c === "string" ? c : undefined;
}

function queryOf(step: PlanStep | undefined): string {
  const q = step?.desired?.properties.query;
  return typeof q === "string" ? q : "";
}

/** The table named by the service's message, else the tables the query reads that a target's connector fills. */
export function missingTableAdvice(message: string, query: string): string {
  const named = /'([A-Za-z_][\w]*)'/.exec(message)?.[1];
  const candidates = named ? [named] : [];
  for (const target of TARGETS) {
    const table = tableIn(query, target);
    if (table) candidates.push(table);
  }
  for (const table of candidates) {
    const target = targetOfTable(table);
    if (target) {
      return `the workspace has no table ${table}: enable ${REGISTRY[target].connector}, wait for its first data, then deploy again`;
    }
  }
  return `a table the query reads does not exist in the workspace${named ? ` (${named})` : ""}: enable the data connector that provides it, then deploy again`;
}

const KIND_ROLE: Record<string, string> = {
  savedSearch: "Microsoft Sentinel Contributor (savedSearches/write) on the workspace",
  workspaceFunction: "Microsoft Sentinel Contributor (savedSearches/write) on the workspace",
  alertRule: "Microsoft Sentinel Contributor (Microsoft.SecurityInsights/alertRules/write) on the workspace",
  watchlist: "Microsoft Sentinel Contributor (Microsoft.SecurityInsights/watchlists/write) on the workspace",
  watchlistItem: "Microsoft Sentinel Contributor (Microsoft.SecurityInsights/watchlists/write) on the workspace",
  metadata: "Microsoft Sentinel Contributor (Microsoft.SecurityInsights/metadata/write) on the workspace",
};

/** Explains an error of a deploy step (or of reading the workspace, with no step). */
export function explainServiceError(error: unknown, step?: PlanStep): ServiceErrorInfo {
  const status = statusOf(error);
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  const base = { ...(status !== undefined ? { status } : {}), ...(code ? { code } : {}), message };
  const what = step ? `${step.action} ${step.kind} ${step.name}` : "reading the workspace content";

  if (status === 400 && /tables? does not exist|does not refer to any known table/i.test(message)) {
    return { ...base, advice: missingTableAdvice(message, queryOf(step)) };
  }
  if (status === 400 && /SyntaxError|SemanticError|FailedToResolve/i.test(message)) {
    return {
      ...base,
      advice: `the service rejected the query of ${step?.name ?? "a rule"}: check that its functions and watchlists exist (deploy them first) and run shmhunt validate; a translator defect should be reported`,
    };
  }
  if (status === 401) {
    return {
      ...base,
      advice:
        "the credential was refused: sign in (az login) or fix the managed identity / service principal that DefaultAzureCredential picks",
    };
  }
  if (status === 403) {
    const role = step ? (KIND_ROLE[step.kind] ?? KIND_ROLE.alertRule) : "Microsoft Sentinel Reader on the workspace";
    return {
      ...base,
      advice: `the identity may not do this (${what}): grant it ${role} (see docs/infra.md, appWorkspaceRole=sentinelContributor)`,
    };
  }
  if (status === 404 && !step) {
    return {
      ...base,
      advice:
        "the workspace was not found or Microsoft Sentinel is not enabled on it: check SHMHUNT_SUBSCRIPTION_ID, SHMHUNT_RESOURCE_GROUP and SHMHUNT_WORKSPACE_NAME",
    };
  }
  if (status === 409) {
    return {
      ...base,
      advice: `a conflicting resource exists (${what}): another saved search may already use this function alias, or the resource changed meanwhile; resolve it and deploy again`,
    };
  }
  if (status === 429 || (status !== undefined && status >= 500)) {
    return {
      ...base,
      advice: "the service is busy or failing: run the deploy again later (steps already done show as unchanged)",
    };
  }
  if (status === 400) {
    return { ...base, advice: `the service refused the content (${what}): fix the rule setting the message names` };
  }
  return { ...base, advice: "check the network and the Azure settings, then deploy again" };
}
