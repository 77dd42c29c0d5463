/**
 * `npm run emulator [-- --port 8443] [--tables <dir>]`: starts the offline Azure emulator by hand and prints what
 * a client needs: the ARM endpoint, the Logs endpoint, the CA file to trust, the default workspace, and a bearer
 * token for curl. Tables can be seeded from a folder of `<Table>.json` (array) or `<Table>.ndjson` files, or later
 * over `POST /_emulator/workspaces/{customerId}/tables/{table}`.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { startEmulator } from "./server.js";
import type { Row } from "./state.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    tables: { type: "string" },
  },
});

const emulator = await startEmulator({ port: Number(values.port), logger: false });
if (values.tables) {
  for (const file of readdirSync(values.tables)) {
    const match = /^(.+)\.(json|ndjson)$/.exec(file);
    if (!match) continue;
    const text = readFileSync(path.join(values.tables, file), "utf8");
    const rows = (
      match[2] === "json"
        ? JSON.parse(text)
        : text
            .split("\n")
            .filter((l) => l.trim() !== "")
            .map((l) => JSON.parse(l))
    ) as Row[];
    emulator.workspace.seedTable(match[1] ?? file, rows);
  }
}

const token = await emulator.credential.getToken(`${emulator.url}/.default`);
const ws = emulator.workspace;
process.stdout.write(
  [
    `shmhunt Azure emulator listening on ${emulator.url}`,
    `  ARM endpoint:   ${emulator.url}   (SecurityInsights / OperationalInsightsManagementClient option 'endpoint')`,
    `  Logs endpoint:  ${emulator.logsEndpoint}   (LogsQueryClient option 'endpoint')`,
    `  CA file:        ${emulator.caPath}   (pass as tlsOptions.ca, or NODE_EXTRA_CA_CERTS, or curl --cacert)`,
    `  workspace:      ${ws.resourceId}`,
    `  workspace id:   ${ws.customerId}   (tables: ${[...ws.tables.values()].map((t) => `${t.name} ${t.rows.length}`).join(", ") || "none"})`,
    `  bearer token (1 h): ${token.token}`,
    "",
  ].join("\n"),
);

const stop = async () => {
  await emulator.close();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
