/**
 * The deploy service (src/app/services.ts `DeployService`) every entry point uses: the fastify routes, the Functions
 * handler and `shmhunt deploy`. Built from the service settings; cheap to import: the SDKs, the rule loader and the
 * translator load on the first plan or apply (cold start).
 */
import type { ContentClients } from "../sentinel/content-client.js";
import type { WorkspaceRef } from "../sentinel/content-types.js";
import { WorkspaceUnreadableError } from "./errors.js";
import type { DeployProgress, DeployService } from "./services.js";

interface DeployServiceSettings {
  readonly rulesDir: string;
  readonly sentinel?: WorkspaceRef;
  readonly managedIdentityClientId?: string;
  /** The SDK clients for the workspace; default: Azure's, with DefaultAzureCredential (tests: the emulator's). */
  readonly clients?: (workspace: WorkspaceRef) => Promise<ContentClients>;
}

/** What to set when no Sentinel workspace is configured (the routes answer 501 with it, the CLI exits 1). */
export const DEPLOY_NOT_CONFIGURED =
  "deploy needs a Sentinel workspace: set SHMHUNT_SUBSCRIPTION_ID, SHMHUNT_RESOURCE_GROUP and SHMHUNT_WORKSPACE_NAME (signed in for DefaultAzureCredential, e.g. az login)";

/** Undefined without a Sentinel workspace. */
export function lazyDeployService(settings: DeployServiceSettings): DeployService | undefined {
  const workspace = settings.sentinel;
  if (!workspace) return undefined;
  let service: Promise<DeployService> | undefined;
  const get = () => {
    service ??= import("../sentinel/deploy.js").then((m) =>
      m.createDeployService({
        rulesDir: settings.rulesDir,
        workspace,
        clients: () =>
          settings.clients
            ? settings.clients(workspace)
            : m.azureContentClients(
                workspace,
                settings.managedIdentityClientId ? { managedIdentityClientId: settings.managedIdentityClientId } : {},
              ),
      }),
    );
    return service;
  };
  const call = async (mode: "plan" | "apply", prune: boolean, progress?: DeployProgress) => {
    const { DeployError } = await import("../sentinel/deploy.js");
    try {
      const deploy = await get();
      if (mode === "plan") return await deploy.plan({ prune });
      // The caller's progress (the CLI's bar), fed by the sentinel layer's step callbacks.
      return await deploy.apply({ prune }, progress);
    } catch (error) {
      // The workspace could not be read: a bad gateway, with what to do (never a bare 500).
      if (error instanceof DeployError) throw new WorkspaceUnreadableError(error.message);
      throw error;
    }
  };
  return {
    plan: ({ prune }) => call("plan", prune),
    apply: ({ prune }, progress) => call("apply", prune, progress),
  };
}
