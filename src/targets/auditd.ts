/**
 * Linux audit records in the Syslog table, read through shmhunt's own parser function `ShmhuntAuditd()`
 * (kql/functions/ShmhuntAuditd.kql), which deploy installs beside the queries. ECS (Elastic's auditd_manager /
 * auditbeat field names) → the function's columns. Data only.
 */
import type { ColumnSchema } from "../kusto/schemas.js";
import { argsFromCommandLine, PROCESS_START_ACTIONS, valueMap } from "./common.js";
import type { TargetDefinition } from "./target-types.js";

const S = "string" as const;

/** The columns `ShmhuntAuditd()` returns, in order. */
const AUDITD_COLUMNS: readonly ColumnSchema[] = [
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

const EXEC = `SyscallName in ("execve", "execveat") and Success == "yes"`;
const EXEC_NOTE =
  "a process start is a successful execve/execveat (success=yes); a failed exec (success=no) starts nothing and is not counted";
// Elastic's auditd pipeline (paired corpus, test-auditd-raw) maps uid= to user.id and euid= to user.effective.id.
const UID_NOTE =
  "user.id and user.name are the real uid (uid=, UID=), as Elastic's auditd integration maps them; Elastic Defend reports the effective user, so a setuid binary's run is read as its caller";
// The EXECVE record carries argv itself (a0=, a1=, …): ShmhuntAuditd keeps it as Args.
const ARGV_NOTE =
  "argv is the EXECVE record's a0, a1, … (Args), joined by newlines: an argument holding a newline is read as several";
// Elastic's auditd_manager names setuid/setsid/kill/exit events as below; the parser files them as process events.
const PARENT_NOTE =
  "the parent's executable and command line come from its own exec record, found only when that exec falls in the query window";
const COMM_NOTE = "process.name is auditd's comm (the kernel truncates it to 15 characters)";

export const auditd: TargetDefinition = {
  target: "auditd",
  title: "auditd (Syslog)",
  description: "Linux audit records in the Syslog table, through the ShmhuntAuditd() parser function",
  tables: /Syslog|ShmhuntAuditd/,
  connector:
    "Syslog via AMA (the Syslog via AMA connector with a data collection rule for the auditd facility; Linux auditd forwarding to syslog)",
  dataConnectors: [{ connectorId: "SyslogAma", dataTypes: ["Syslog"] }],
  functions: [{ name: "ShmhuntAuditd", description: "auditd records from Syslog", columns: AUDITD_COLUMNS }],
  hunt: {
    identity: ["Computer", "HostName", "TimeGenerated", "AuditEventId", "EventType"],
    time: ["TimeGenerated"],
    host: ["Computer", "HostName"],
    // Audit records name files by path only.
    sampleHash: [],
  },
  sources: [
    {
      from: "ShmhuntAuditd()",
      schema: "ShmhuntAuditd",
      time: "TimeGenerated",
      categories: { process: `EventCategory == "process"`, file: `EventCategory == "file"` },
      fields: {
        "@timestamp": { column: "TimeGenerated" },
        "host.os.type": { constant: "linux" },
        "host.name": { column: "Computer" },
        "host.id": {
          column: "Computer",
          approximation: "host.id is read as the Syslog Computer name (audit records carry no host id)",
        },
        "host.hostname": { column: "HostName" },
        "event.category": { column: "EventCategory" },
        "event.type": {
          column: "EventType",
          approximation:
            "event.type follows go-libaudit aucoalesce/normalizations.yaml per syscall name only (open/openat are info even when O_CREAT creates the file; its catch-all files unlisted syscalls such as exit or setsid as info); a socket syscall's type is info, not the yaml's pair (connection and start)",
        },
        "event.action": {
          column: "SyscallName",
          approximation: EXEC_NOTE,
          conditions: {
            ...Object.fromEntries(PROCESS_START_ACTIONS.map((action) => [action, EXEC])),
            creation: `EventType == "creation"`,
            file_create_event: `EventType == "creation"`,
            deletion: `EventType == "deletion"`,
            deleted: `EventType == "deletion"`,
            rename: `SyscallName startswith "rename"`,
            file_rename_event: `SyscallName startswith "rename"`,
            "opened-file": `SyscallName in ("open", "openat")`,
            "loaded-kernel-module": `SyscallName in ("init_module", "finit_module")`,
            load_module: `SyscallName in ("init_module", "finit_module")`,
            fork: `SyscallName in ("fork", "clone")`,
            fork_event: `SyscallName in ("fork", "clone")`,
            uid_change: `SyscallName matches regex @"^set(re|res|fs)?uid$"`,
            gid_change: `SyscallName matches regex @"^set(re|res|fs)?gid$"`,
            session_id_change: `SyscallName == "setsid"`,
            end: `SyscallName in ("exit", "exit_group")`,
            "killed-pid": `SyscallName in ("kill", "tkill", "tgkill")`,
            "connected-to": `SyscallName == "connect"`,
            connection_attempted: `SyscallName == "connect"`,
            "bound-socket": `SyscallName == "bind"`,
          },
        },
        "event.outcome": {
          column: "Success",
          values: valueMap([
            [["success"], ["yes"]],
            [["failure"], ["no"]],
          ]),
        },
        "auditd.data.syscall": { column: "SyscallName" },
        "auditd.data.a0": { column: "A0" },
        "auditd.data.a1": { column: "A1" },
        "auditd.data.a2": { column: "A2" },
        "auditd.data.a3": { column: "A3" },
        "auditd.data.exit": { column: "Exit" },
        "auditd.data.tty": { column: "Tty" },
        "process.executable": { column: "Exe" },
        "process.name": { column: "Comm", approximation: COMM_NOTE },
        "process.command_line": { column: "CommandLine" },
        "process.args": {
          expr: 'strcat_array(Args, "\\n")',
          type: "string",
          argsOf: "lines",
          approximation: ARGV_NOTE,
        },
        "process.args_count": { expr: "array_length(Args)", type: "long" },
        "process.pid": { column: "Pid" },
        "process.entity_id": {
          expr: `strcat(Computer, "|", Pid)`,
          type: "string",
          approximation:
            "audit records have no process entity id: it is composed of the computer and the pid (pids are reused)",
        },
        "process.parent.entity_id": {
          expr: `strcat(Computer, "|", Ppid)`,
          type: "string",
          approximation:
            "audit records have no process entity id: it is composed of the computer and the pid (pids are reused)",
        },
        "process.working_directory": { column: "Cwd" },
        "process.parent.pid": { column: "Ppid" },
        "process.parent.executable": { column: "ParentExe", approximation: PARENT_NOTE },
        "process.parent.command_line": { column: "ParentCommandLine", approximation: PARENT_NOTE },
        "process.parent.name": { column: "ParentComm", approximation: PARENT_NOTE },
        ...argsFromCommandLine("process.parent", "ParentCommandLine"),
        "user.id": { column: "Uid", approximation: UID_NOTE },
        "user.name": {
          column: "UserName",
          approximation: `user names are in audit records only when auditd logs in ENRICHED format (UID="name"); ${UID_NOTE}`,
        },
        "process.user.id": { column: "Uid", approximation: UID_NOTE },
        "user.effective.id": { column: "Euid" },
        "group.id": { column: "Gid" },
        "process.group.id": { column: "Gid" },
        "user.audit.id": { column: "Auid" },
        "file.path": { column: "FilePath" },
        "file.name": { expr: `extract(@"[^/]*$", 0, FilePath)`, type: "string" },
        "file.directory": { expr: `extract(@"^(.*)/[^/]*$", 1, FilePath)`, type: "string" },
        "file.extension": { expr: `extract(@"\\.([^./]*)$", 1, FilePath)`, type: "string" },
      },
    },
  ],
};
