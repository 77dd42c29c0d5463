/**
 * `shmhunt deploy` in this process against an emulator started here, for tests of what the command writes on its
 * own stdout and stderr (a terminal, a pipe): the command's runner with the emulator's SDK clients in place of
 * DefaultAzureCredential's (as test/deploy/entry-points.test.ts runs it), the seed rules, a failure printed as
 * `main` prints one. Resolves to the exit code.
 */
import path from "node:path";
import { runDeployCommand } from "../../src/cli/commands/deploy.js";
import { CliError, reasonOf } from "../../src/cli/output.js";
import { makeContentClients } from "../azure/clients.js";
import { startEmulator } from "../emulator/server.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");

export async function deployOnEmulator(options: {
  readonly plan?: boolean;
  readonly apply?: boolean;
  readonly json?: boolean;
}): Promise<number> {
  const emulator = await startEmulator();
  try {
    emulator.workspace.seedTable("DeviceProcessEvents", []);
    emulator.workspace.seedTable("Syslog", []);
    const env = {
      SHMHUNT_SUBSCRIPTION_ID: emulator.workspace.subscriptionId,
      SHMHUNT_RESOURCE_GROUP: emulator.workspace.resourceGroup,
      SHMHUNT_WORKSPACE_NAME: emulator.workspace.name,
      SHMHUNT_RULES_DIR: path.join(repoRoot, "rules"),
    };
    await runDeployCommand(options, { env, clients: async () => makeContentClients(emulator) });
    return 0;
  } catch (error) {
    process.stderr.write(`shmhunt: ${reasonOf(error)}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  } finally {
    await emulator.close();
  }
}

/** The module text that runs `deployOnEmulator(options)` in a child process (node + tsx, from the repository root). */
export function deployScript(options: Parameters<typeof deployOnEmulator>[0]): string {
  return `import { deployOnEmulator } from "./test/support/deploy-on-emulator.ts"; process.exitCode = await deployOnEmulator(${JSON.stringify(options)});`;
}
