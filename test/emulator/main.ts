/**
 * `npm run emulator [-- --port 8443] [--tables <dir>] [--ingestion-delay-seconds 180]`: starts the offline Azure emulator by hand and prints what
 * a client needs: the ARM endpoint, the Logs endpoint, the CA file to trust, the default workspace, and a bearer
 * token for curl. Tables can be seeded from a workspace folder (`<Table>.ndjson|.jsonl|.json|.csv`, as the local
 * workspace engine reads them), or later over `POST /_emulator/workspaces/{customerId}/tables/{table}`.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { formatOf, rawRecords } from "../../src/workspace/load.js";
import { startEmulator } from "./server.js";
import type { Row } from "./state.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    tables: { type: "string" },
    "ingestion-delay-seconds": { type: "string", default: "180" },
  },
});

const delaySeconds = Number(values["ingestion-delay-seconds"]);
if (!Number.isFinite(delaySeconds) || delaySeconds < 0) {
  process.stderr.write(
    `--ingestion-delay-seconds must be a non-negative number, got '${values["ingestion-delay-seconds"]}'\n`,
  );
  process.exit(2);
}
const emulator = await startEmulator({
  port: Number(values.port),
  logger: false,
  ingestionDelayMs: delaySeconds * 1000,
});
if (values.tables) {
  for (const file of readdirSync(values.tables).sort()) {
    const format = formatOf(file);
    if (!format) continue;
    const rows: Row[] = [];
    for await (const record of rawRecords(path.join(values.tables, file), format)) rows.push(record);
    emulator.workspace.seedTable(file.replace(/\.(ndjson|jsonl|json|csv)$/i, ""), rows);
  }
}

const token = await emulator.credential.getToken(`${emulator.url}/.default`);
const defenderToken = await emulator.credential.getToken("https://api.securitycenter.microsoft.com/.default");
const ws = emulator.workspace;
process.stdout.write(
  [
    `shmhunt Azure emulator listening on ${emulator.url}`,
    `  ARM endpoint:   ${emulator.url}   (SecurityInsights / OperationalInsightsManagementClient option 'endpoint')`,
    `  Logs endpoint:  ${emulator.logsEndpoint}   (LogsQueryClient option 'endpoint')`,
    `  CA file:        ${emulator.caPath}   (pass as tlsOptions.ca, or NODE_EXTRA_CA_CERTS, or curl --cacert)`,
    `  workspace:      ${ws.resourceId}`,
    `  ingestion delay: ${delaySeconds} s after TimeGenerated (--ingestion-delay-seconds)`,
    `  workspace id:   ${ws.customerId}   (tables: ${[...ws.tables.values()].map((t) => `${t.name} ${t.rows.length}`).join(", ") || "none"})`,
    `  bearer token (1 h): ${token.token}`,
    `  Defender API:   ${emulator.url}/api   (devices and files: POST ${emulator.url}/_emulator/defender/machines, see docs/emulator.md)`,
    `  Defender token (1 h): ${defenderToken.token}`,
    "",
  ].join("\n"),
);

const stop = async () => {
  await emulator.close();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
