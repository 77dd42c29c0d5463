import type { Command } from "commander";
import type { ContentClients } from "../../sentinel/content-client.js";
import type { WorkspaceRef } from "../../sentinel/content-types.js";
import type { DeployReport } from "../../sentinel/deploy.js";
import { CliError, createOutput, type Sink } from "../output.js";

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
  if (options.plan === options.apply) throw new CliError("deploy needs exactly one of --plan or --apply", 2);
  const [{ loadConfig }, { DEPLOY_NOT_CONFIGURED, lazyDeployService }, { AppError }, { formatStep }] =
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
  const out = createOutput(options, deps.out, deps.err);
  const mode = options.apply ? "apply" : "plan";
  let report: DeployReport;
  try {
    report = await service[mode]({ prune: options.prune === true });
  } catch (error) {
    if (error instanceof AppError) throw new CliError(error.message);
    throw error;
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
  const { create, update, unchanged, delete: del } = report.counts;
  out.info(
    `${mode === "plan" ? "plan" : "applied"} for ${workspace.workspaceName} (${report.rules} rules): ${create} create, ${update} update, ${unchanged} unchanged, ${del} delete${options.prune ? "" : " (without --prune: nothing deleted)"}`,
  );
  if (report.failed) {
    const f = report.failed;
    throw new CliError(
      `${f.action} ${f.kind} ${f.name} failed (${report.applied.length} steps done, ${report.notApplied.length} not done): ${f.error.message.split("\n")[0]} — ${f.error.advice}`,
    );
  }
  return report;
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
