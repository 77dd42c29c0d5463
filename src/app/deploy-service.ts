/**
 * The server's deploy service (src/app/services.ts `DeployService`), built from the service settings. Cheap
 * to import: the SDKs, the rule loader and the translator load on the first plan or apply (cold start).
 */

import type { WorkspaceRef } from "../sentinel/content-types.js";
import { BadRequestError } from "./errors.js";
import type { DeployService } from "./services.js";

export interface DeployServiceSettings {
  readonly rulesDir: string;
  readonly sentinel?: WorkspaceRef;
  readonly managedIdentityClientId?: string;
}

/** Undefined without a Sentinel workspace (the routes then answer 501 saying what to set). */
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
          m.azureContentClients(
            workspace,
            settings.managedIdentityClientId ? { managedIdentityClientId: settings.managedIdentityClientId } : {},
          ),
      }),
    );
    return service;
  };
  const call = async (mode: "plan" | "apply", prune: boolean) => {
    const { DeployError } = await import("../sentinel/deploy.js");
    try {
      return await (await get())[mode]({ prune });
    } catch (error) {
      // The workspace could not be read: a bad gateway, with what to do (never a bare 500).
      if (error instanceof DeployError) throw new BadRequestError(error.message, 502);
      throw error;
    }
  };
  return { plan: ({ prune }) => call("plan", prune), apply: ({ prune }) => call("apply", prune) };
}
