/**
 * `shmhunt deploy`: the rules' Sentinel content, planned against the workspace and applied step by step.
 *
 * 1. Load and validate every rule (src/rules validateAll, with the translation check of src/kql). Any error stops
 *    here: nothing in the workspace is touched, so a deploy is never half made of a broken rule set.
 * 2. Build the desired content (desired.ts), read the actual content (content-client.ts), plan (plan.ts).
 * 3. Apply mode: carry out the create / update / delete steps in plan order, stopping at the first failure with
 *    what was done, what failed (and what to do about it), and what was not done. Running it again resumes: the
 *    steps done show as unchanged.
 */
import { stat } from "node:fs/promises";
import { Codes, type Diagnostic, DiagnosticError } from "../diagnostics/index.js";
import type { LoadedRule } from "../rules/types.js";
import { functionsDir } from "../targets/index.js";
import { type ContentClients, SentinelContentClient } from "./content-client.js";
import type { WorkspaceRef } from "./content-types.js";
import { buildDesiredContent, type TranslationLike } from "./desired.js";
import {
  type KeptResource,
  type Plan,
  type PlanAction,
  type PlanStep,
  planDeployment,
  type ResourceKind,
} from "./plan.js";
import { explainServiceError, type ServiceErrorInfo } from "./service-errors.js";

type DeployMode = "plan" | "apply";

interface DeployOptions extends DeployProgress {
  /** The rules folder (every `.toml`, `.yar` and `.kql` in it is validated); or `rules`, already loaded. */
  readonly rulesDir?: string;
  readonly rules?: readonly LoadedRule[];
  readonly clients: ContentClients;
  readonly workspace: WorkspaceRef;
  readonly mode: DeployMode;
  /** Delete managed resources the rules no longer describe (never anything else). */
  readonly prune: boolean;
  /** The workspace functions to deploy (`<Name>.kql`); default shmhunt's `kql/functions`. */
  readonly functionsDir?: string;
}

/**
 * What an apply tells its caller as it goes (a progress display), at most once per step. Neither is called when the
 * deploy stops before its plan is made (an invalid rule, an unreadable workspace).
 */
export interface DeployProgress {
  /** Apply: the plan is made; `total` steps (creates, updates, deletes) to carry out, in order. */
  readonly onApplying?: (total: number) => void;
  /** Called after each step is carried out. */
  readonly onStep?: (step: StepReport) => void;
}

/** A plan step as reported (without the resource bodies). */
export interface StepReport {
  readonly action: PlanAction;
  readonly kind: ResourceKind;
  readonly name: string;
  readonly parent?: string;
  /** What a person recognises it by: the display name, the content a metadata describes, a watchlist row's value. */
  readonly label?: string;
  readonly changes?: readonly string[];
}

export interface DeployReport {
  readonly mode: DeployMode;
  readonly prune: boolean;
  readonly workspace: string;
  readonly rules: number;
  readonly counts: Plan["counts"];
  readonly steps: readonly StepReport[];
  /** Prune: shmhunt's resources no longer in the rules, kept all the same (a watchlist holding others' rows). */
  readonly kept: Plan["kept"];
  /** Apply: the steps carried out (creates, updates, deletes), in order. */
  readonly applied: readonly StepReport[];
  /** Apply, after a failure: the steps not attempted. */
  readonly notApplied: readonly StepReport[];
  readonly failed?: StepReport & { readonly error: ServiceErrorInfo };
  /** False when a step failed. */
  readonly ok: boolean;
}

/** The workspace could not be read: nothing was planned or changed. */
export class DeployError extends Error {
  constructor(readonly info: ServiceErrorInfo) {
    super(`${info.message.split("\n")[0]} — ${info.advice}`);
    this.name = "DeployError";
  }
}

export const defaultFunctionsDir = functionsDir;

function labelOf(step: PlanStep): string | undefined {
  const p = (step.desired ?? step.actual)?.properties ?? {};
  const row = p.itemsKeyValue as { readonly [key: string]: unknown } | undefined;
  const label = p.displayName ?? p.contentId ?? row?.Value;
  return typeof label === "string" && label !== step.name ? label : undefined;
}

function stepReport(step: PlanStep): StepReport {
  const label = labelOf(step);
  return {
    action: step.action,
    kind: step.kind,
    name: step.name,
    ...(step.parent !== undefined ? { parent: step.parent } : {}),
    ...(label !== undefined ? { label } : {}),
    ...(step.changes ? { changes: step.changes } : {}),
  };
}

/** Loads and validates the rules; throws a DiagnosticError (file, line, column) on any error. */
export async function loadValidRules(rulesDir: string): Promise<LoadedRule[]> {
  const [{ validateAll }, { loadRules, unreadableRulesFolder }, { translationCheck }] = await Promise.all([
    import("../rules/validate.js"),
    import("../rules/loader.js"),
    import("../kql/rule-check.js"),
  ]);
  // The folder itself first: unread, it is named as the rules folder (loadRules' words), not as a path or a file.
  const unreadable = await stat(rulesDir).then(
    () => undefined,
    (error: unknown) => error,
  );
  if (unreadable !== undefined) throw new DiagnosticError([unreadableRulesFolder(rulesDir, unreadable)]);
  const limits = await serviceLimitsRuleCheck();
  const report = await validateAll([rulesDir], { ruleChecks: [translationCheck, limits] });
  const errors = [...report.general, ...report.files.flatMap((f) => f.diagnostics)].filter(
    (d) => d.severity === "error",
  );
  if (errors.length > 0) throw new DiagnosticError(errors);
  const { rules, diagnostics } = await loadRules(rulesDir);
  const loadErrors = diagnostics.filter((d) => d.severity === "error");
  if (loadErrors.length > 0) throw new DiagnosticError(loadErrors);
  return [...rules];
}

/** Rules given already loaded: each must translate for every target it declares. */
async function checkLoadedRules(rules: readonly LoadedRule[]): Promise<void> {
  const { translationCheck } = await import("../kql/rule-check.js");
  const limits = await serviceLimitsRuleCheck();
  const errors: Diagnostic[] = [];
  for (const rule of rules) {
    if (rule.language !== "eql" || !rule.query?.ast) {
      errors.push({
        code: Codes.KqlRefusedConstruct,
        severity: "error",
        message: `only EQL rules deploy (rule ${rule.id} is ${rule.language})`,
        file: rule.file,
      });
      continue;
    }
    const translated = translationCheck(rule).filter((d) => d.severity === "error");
    errors.push(...translated);
    if (translated.length === 0) errors.push(...(await limits(rule)));
  }
  if (errors.length > 0) throw new DiagnosticError(errors);
}

/**
 * The check of what Sentinel would refuse (service-limits.ts) as a rule check of `shmhunt validate` and of both deploy
 * modes: a plan that the service would refuse halfway is refused whole, before any request.
 */
export async function serviceLimitsRuleCheck(): Promise<(rule: LoadedRule) => Promise<Diagnostic[]>> {
  const [{ serviceLimitsCheck }, translate] = await Promise.all([import("./service-limits.js"), translator()]);
  return async (rule) => serviceLimitsCheck(rule, translate);
}

async function translator(): Promise<
  (rule: LoadedRule, target: LoadedRule["settings"]["targets"][number]) => TranslationLike
> {
  const { translateRule } = await import("../kql/translate.js");
  // Validated already (validateAll runs the translation check): no second Kusto.Language pass.
  return (rule, target) => translateRule(rule, target, { validate: false });
}

export async function deploy(options: DeployOptions): Promise<DeployReport> {
  // 1. Rules, all valid, before anything else.
  let rules: readonly LoadedRule[];
  if (options.rules) {
    rules = options.rules;
    await checkLoadedRules(rules);
  } else if (options.rulesDir) {
    rules = await loadValidRules(options.rulesDir);
  } else {
    throw new Error("deploy needs rulesDir or rules");
  }

  // 2. Desired, actual, plan.
  const desired = buildDesiredContent(rules, {
    workspace: options.workspace,
    translate: await translator(),
    functionsDir: options.functionsDir ?? defaultFunctionsDir(),
  });
  const content = new SentinelContentClient(options.clients, options.workspace);
  let actual: Awaited<ReturnType<SentinelContentClient["readActual"]>>;
  try {
    actual = await content.readActual({
      watchlists: desired.filter((d) => d.kind === "watchlist").map((d) => d.name),
    });
  } catch (error) {
    throw new DeployError(explainServiceError(error));
  }
  const plan = planDeployment(desired, actual, { prune: options.prune });
  const base = {
    mode: options.mode,
    prune: options.prune,
    workspace: options.workspace.workspaceName,
    rules: rules.length,
    counts: plan.counts,
    steps: plan.steps.map(stepReport),
    kept: plan.kept,
  };
  if (options.mode === "plan") return { ...base, applied: [], notApplied: [], ok: true };

  // 3. Apply, in order, stopping at the first failure.
  const applied: StepReport[] = [];
  const pending = plan.steps.filter((s) => s.action !== "unchanged");
  options.onApplying?.(pending.length);
  for (const [i, step] of pending.entries()) {
    try {
      await content.apply(step);
    } catch (error) {
      return {
        ...base,
        applied,
        failed: { ...stepReport(step), error: explainServiceError(error, step) },
        notApplied: pending.slice(i + 1).map(stepReport),
        ok: false,
      };
    }
    const done = stepReport(step);
    applied.push(done);
    options.onStep?.(done);
  }
  return { ...base, applied, notApplied: [], ok: true };
}

/** One line per step, as `shmhunt deploy --plan` prints it. */
export function formatStep(step: StepReport): string {
  const where = step.parent ? `${step.parent}/` : "";
  const changes = step.changes?.length ? ` (${step.changes.join(", ")})` : "";
  const label = step.label ? `  "${step.label}"` : "";
  return `${step.action.padEnd(9)} ${step.kind.padEnd(17)} ${where}${step.name}${label}${changes}`;
}

/** The line `shmhunt deploy --prune` prints for a resource prune keeps (plan.ts `KeptResource`). */
export function formatKept(kept: KeptResource): string {
  return `${"keep".padEnd(9)} ${kept.kind.padEnd(17)} ${kept.name}  (${kept.reason})`;
}

/** The server's DeployService (src/app/services.ts): plan and apply over one workspace and rules folder. */
export function createDeployService(options: {
  readonly rulesDir: string;
  readonly workspace: WorkspaceRef;
  readonly clients: () => Promise<ContentClients>;
  readonly functionsDir?: string;
}): {
  plan(o: { prune: boolean }): Promise<DeployReport>;
  apply(o: { prune: boolean }, progress?: DeployProgress): Promise<DeployReport>;
} {
  let queue: Promise<unknown> = Promise.resolve();
  // One deploy at a time in this process: two concurrent applies would plan against the same state.
  const run = (mode: DeployMode, prune: boolean, progress: DeployProgress = {}) => {
    const next = queue.then(async () =>
      deploy({
        rulesDir: options.rulesDir,
        clients: await options.clients(),
        workspace: options.workspace,
        mode,
        prune,
        ...(options.functionsDir ? { functionsDir: options.functionsDir } : {}),
        ...(progress.onApplying ? { onApplying: progress.onApplying } : {}),
        ...(progress.onStep ? { onStep: progress.onStep } : {}),
      }),
    );
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    plan: ({ prune }) => run("plan", prune),
    apply: ({ prune }, progress) => run("apply", prune, progress),
  };
}

/** The real SDK clients for a workspace with DefaultAzureCredential (or the credential given). */
export async function azureContentClients(
  workspace: WorkspaceRef,
  options: { readonly managedIdentityClientId?: string } = {},
): Promise<ContentClients> {
  const [{ DefaultAzureCredential }, { contentClients }] = await Promise.all([
    import("@azure/identity"),
    import("./clients.js"),
  ]);
  const credential = new DefaultAzureCredential(
    options.managedIdentityClientId ? { managedIdentityClientId: options.managedIdentityClientId } : {},
  );
  return contentClients(credential, workspace.subscriptionId);
}
