/** Turns a hit into what an incident says: title, evidence, labels, entities. Pure. */
import type { AlertRequest, EntityMapping } from "../sentinel/incidents.js";
import { ALL_HUNT_COLUMNS } from "../targets/index.js";
import type { Row } from "./hit-key.js";
import type { HitRecord, HuntPlan, StoredVerdict } from "./types.js";

export function alertRequestOf(plan: HuntPlan, hit: HitRecord, verdict: StoredVerdict | undefined): AlertRequest {
  const { rule } = plan;
  const host = firstString(hit.row, hostColumns);
  const verdictLabel = verdict ? (verdict.matches.length > 0 ? "match" : "clean") : "none";
  const evidence = [
    rule.description ?? rule.name,
    "",
    `Rule: ${rule.name} (${rule.id}), target ${plan.target}, risk score ${rule.riskScore}.`,
    `Seen in the window ${hit.window.start} .. ${hit.window.end}; event time ${hit.eventTime}.`,
    hit.sha256 ? `Sample: ${hit.sha256}.` : "Sample: none named in the result row.",
    verdict
      ? `YARA verdict: ${verdict.matches.length > 0 ? `matched ${verdict.matches.map((m) => m.rule).join(", ")}` : "no rule matched"} (scanned ${verdict.scannedAt}, ${verdict.size} bytes).`
      : "YARA verdict: none yet.",
    `Gate: ${rule.gate.mode}. Hit key: ${hit.key}.`,
    "",
    "Result row:",
    JSON.stringify(hit.row, null, 2),
  ].join("\n");
  return {
    hitKey: hit.key,
    title: `${rule.name}${host ? ` on ${host}` : ""}`.slice(0, 250),
    description: evidence.slice(0, 5000),
    severity: rule.severity,
    labels: [
      "shmhunt",
      `rule:${rule.id}`,
      `target:${plan.target}`,
      ...rule.tactics,
      ...rule.techniques,
      `verdict:${verdictLabel}`,
      ...(verdict?.matches.map((m) => `yara:${m.rule}`) ?? []),
    ],
    query: plan.query,
    queryStart: new Date(hit.window.start),
    queryEnd: new Date(hit.window.end),
    eventTime: new Date(hit.eventTime),
    row: hit.row,
    entities: entitiesOf(hit.row),
    tactics: rule.tactics,
    techniques: rule.techniques,
  };
}

/** Every target's host columns (src/targets, `hunt.host`). */
const hostColumns = ALL_HUNT_COLUMNS.host;

/** Sentinel entities found in a row: Host, Account, File, FileHash, Process (columns of any target). */
export function entitiesOf(row: Row): EntityMapping[] {
  const entities: EntityMapping[] = [];
  const add = (entityType: string, fields: Array<[string, string | undefined]>) => {
    const fieldMappings = fields
      .filter((f): f is [string, string] => f[1] !== undefined)
      .map(([identifier, value]) => ({ identifier, value }));
    if (fieldMappings.length > 0) entities.push({ entityType, fieldMappings });
  };
  add("Host", [["HostName", firstString(row, hostColumns)]]);
  add("Account", [
    [
      "Name",
      firstString(row, ["AccountName", "ActorUsername", "TargetUsername", "InitiatingProcessAccountName", "user"]),
    ],
  ]);
  const path = firstString(row, ["FolderPath", "TargetFilePath", "TargetProcessName", "exe"]);
  add("File", [
    ["Name", firstString(row, ["FileName"]) ?? path?.split("/").pop()],
    ["Directory", path?.includes("/") ? path.slice(0, path.lastIndexOf("/")) || "/" : undefined],
  ]);
  const sha = firstString(row, ["SHA256", "TargetFileSHA256", "TargetProcessSHA256"]);
  if (sha)
    add("FileHash", [
      ["Algorithm", "SHA256"],
      ["Value", sha],
    ]);
  add("Process", [
    ["ProcessId", firstString(row, ["ProcessId", "TargetProcessId", "pid"])],
    ["CommandLine", firstString(row, ["ProcessCommandLine", "TargetProcessCommandLine", "CommandLine"])],
  ]);
  return entities;
}

function firstString(row: Row, columns: readonly string[]): string | undefined {
  for (const column of columns) {
    const value = row[column];
    if (value !== null && value !== undefined && value !== "") return String(value);
  }
  return undefined;
}
