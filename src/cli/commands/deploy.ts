import type { Command } from "commander";
import type { DeployProgress } from "../../app/services.js";
import type { ContentClients } from "../../sentinel/content-client.js";
import type { WorkspaceRef } from "../../sentinel/content-types.js";
import type { DeployReport } from "../../sentinel/deploy.js";
import { CliError, createOutput, type Sink, stdoutSink } from "../output.js";
import { besideProgress, type Progress, showsProgress, startProgress } from "../progress.js";

interface DeployCliOptions {
  plan?: boolean;
  apply?: boolean;
  prune?: boolean;
  rules?: string;
  json?: boolean;
}

export interface DeployCommandDeps {
  readonly env?: NodeJS.ProcessEnv;
  /** The SDK clients for the workspace (default: Azure with DefaultAzureCredential). */
  readonly clients?: (workspace: WorkspaceRef) => Promise<ContentClients>;
  readonly out?: Sink;
  readonly err?: Sink;
}

/**
 * `shmhunt deploy --plan | --apply [--prune]`: prints the plan (or what was applied); exit 1 when a step failed.
 * Goes through the same deploy service as the HTTP routes (src/app/deploy-service.ts).
 */
export async function runDeployCommand(options: DeployCliOptions, deps: DeployCommandDeps = {}): Promise<DeployReport> {
  if (options.plan === options.apply) throw new CliError("deploy needs exactly one of --plan or --apply");
  const [{ loadConfig }, { DEPLOY_NOT_CONFIGURED, lazyDeployService }, { AppError }, { formatKept, formatStep }] =
    await Promise.all([
      import("../../app/config.js"),
      import("../../app/deploy-service.js"),
      import("../../app/errors.js"),
      import("../../sentinel/deploy.js"),
    ]);
  const config = loadConfig(deps.env ?? process.env);
  const service = lazyDeployService({
    rulesDir: options.rules ?? config.rulesDir,
    ...(config.sentinel ? { sentinel: config.sentinel } : {}),
    ...(config.managedIdentityClientId ? { managedIdentityClientId: config.managedIdentityClientId } : {}),
    ...(deps.clients ? { clients: deps.clients } : {}),
  });
  if (!service || !config.sentinel) throw new CliError(DEPLOY_NOT_CONFIGURED);
  const workspace = config.sentinel;
  const mode = options.apply ? "apply" : "plan";
  // Apply on a terminal: a bar over the plan's changes (stderr); a line written while it shows goes over its line.
  const bar = mode === "apply" ? applyBar(options.json) : undefined;
  const out = bar
    ? createOutput(
        options,
        deps.out ?? besideProgress(options.json, process.stdout, stdoutSink()),
        deps.err ?? besideProgress(options.json, process.stderr),
      )
    : createOutput(options, deps.out, deps.err);
  let report: DeployReport;
  try {
    const prune = options.prune === true;
    report = await (mode === "apply" ? service.apply({ prune }, bar?.progress) : service.plan({ prune }));
  } catch (error) {
    if (error instanceof AppError) throw new CliError(error.message);
    throw error;
  } finally {
    bar?.stop();
  }

  const applied = new Set(report.applied.map((s) => `${s.kind}/${s.parent ?? ""}/${s.name}`));
  for (const step of report.steps) {
    const key = `${step.kind}/${step.parent ?? ""}/${step.name}`;
    const status =
      mode === "plan" || step.action === "unchanged"
        ? undefined
        : applied.has(key)
          ? "done"
          : report.failed && `${report.failed.kind}/${report.failed.parent ?? ""}/${report.failed.name}` === key
            ? "failed"
            : "not done";
    const error = status === "failed" ? { error: report.failed?.error } : {};
    out.record(
      { ...step, ...(status ? { status } : {}), ...error },
      `${formatStep(step)}${status ? `  [${status}]` : ""}`,
    );
  }
  for (const kept of report.kept) out.record({ action: "keep", ...kept }, formatKept(kept));
  const { create, update, unchanged, delete: del } = report.counts;
  const keptCount = report.kept.length > 0 ? `, ${report.kept.length} kept` : "";
  out.info(
    `${mode === "plan" ? "plan" : "applied"} for ${workspace.workspaceName} (${report.rules} rules): ${create} create, ${update} update, ${unchanged} unchanged, ${del} delete${keptCount}${options.prune ? "" : " (without --prune: nothing deleted)"}`,
  );
  if (report.failed) {
    const f = report.failed;
    throw new CliError(
      `${f.action} ${f.kind} ${f.name} failed (${report.applied.length} steps done, ${report.notApplied.length} not done): ${f.error.message.split("\n")[0]} — ${f.error.advice}`,
    );
  }
  return report;
}

/**
 * The bar of `deploy --apply` on a terminal (undefined with --json or when stderr is not one): done / total = the
 * plan's changes applied, shown once the plan is made (not while the rules are checked and the workspace read), and
 * not at all when there is nothing to change.
 */
function applyBar(json: boolean | undefined): { readonly progress: DeployProgress; stop(): void } | undefined {
  if (!showsProgress(json)) return undefined;
  let bar: Progress | undefined;
  return {
    progress: {
      onApplying: (total) => {
        if (total > 0) bar = startProgress(json, { label: "applying", unit: "changes", total });
      },
      onStep: () => bar?.tick(),
    },
    stop: () => bar?.stop(),
  };
}

export function registerDeploy(program: Command): void {
  program
    .command("deploy")
    .description("plan or apply the rules' Sentinel content (hunting queries, analytics rules, watchlists, functions)")
    .option("--plan", "print create / update / unchanged / delete without changing anything")
    .option("--apply", "carry out the plan, stopping at the first failure")
    .option("--prune", "also delete shmhunt-managed content no longer in the rules (never anything else)")
    .option("--rules <dir>", "the rules folder (default: SHMHUNT_RULES_DIR or ./rules)")
    .option("--json", "one step per line (NDJSON)")
    .action(async (options: DeployCliOptions) => {
      await runDeployCommand(options);
    });
}
