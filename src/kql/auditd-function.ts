/**
 * The auditd parser function `ShmhuntAuditd()` (kql/functions/ShmhuntAuditd.kql): its KQL body, as a function
 * schema for validation and for the local workspace, and its output columns (which type the auditd mapping).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ColumnSchema, FunctionSchema } from "../kusto/schemas.js";

export const AUDITD_FUNCTION_NAME = "ShmhuntAuditd";

/** `<repo>/kql/functions/ShmhuntAuditd.kql` (from src/ under tsx and from dist/src/ after build). */
export function auditdFunctionFile(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const up = here.includes(`${path.sep}dist${path.sep}`) ? "../../.." : "../..";
  return path.resolve(here, up, "kql", "functions", `${AUDITD_FUNCTION_NAME}.kql`);
}

let cached: FunctionSchema | undefined;

/** The function as Kusto.Language and the workspace engine take it (body without braces). */
export function auditdFunction(): FunctionSchema {
  cached ??= { name: AUDITD_FUNCTION_NAME, body: readFileSync(auditdFunctionFile(), "utf8") };
  return cached;
}

const S = "string" as const;

/** The columns the function returns, in order. */
export const AUDITD_COLUMNS: readonly ColumnSchema[] = [
  { name: "TimeGenerated", type: "datetime" },
  ...["Computer", "HostName", "AuditEventId", "SyscallName", "Syscall", "Arch", "Success", "Exit"].map((name) => ({
    name,
    type: S,
  })),
  ...["A0", "A1", "A2", "A3"].map((name) => ({ name, type: S })),
  { name: "Pid", type: "long" },
  { name: "Ppid", type: "long" },
  ...["Uid", "Euid", "Gid", "Auid", "UserName", "Tty", "Comm", "Exe", "Key"].map((name) => ({ name, type: S })),
  { name: "Args", type: "dynamic" },
  ...["CommandLine", "Cwd", "FilePath", "NameType", "EventCategory", "EventType", "SyslogMessage"].map((name) => ({
    name,
    type: S,
  })),
  ...["ParentExe", "ParentCommandLine", "ParentComm"].map((name) => ({ name, type: S })),
];
