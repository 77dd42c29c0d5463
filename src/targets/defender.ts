/**
 * ECS → Microsoft Defender XDR advanced-hunting tables (as streamed to Sentinel). Data only.
 *
 * Process events are DeviceProcessEvents (the started process is the row's own File and Process columns, its parent
 * the InitiatingProcess* columns); file and network events name the acting process InitiatingProcess*.
 *
 * Facts checked against Microsoft's sources and found absent stay unmapped (so refused by name): a Linux process's
 * container, environment, session/group leader, real gid (and the started process's real uid), DNS questions,
 * process end/info/change events, iam and driver events. Each verdict and its source: docs/targets.md, "Defender
 * coverage"; pinned by test/targets/defender-coverage.test.ts.
 */

import { argsFromCommandLine, dirNameExpr, extensionExpr, processActionValues, valueMap } from "./common.js";
import type { FieldSpec, TargetDefinition } from "./target-types.js";

const OS_NOTE =
  "Defender rows carry no OS column; the query reads every device's rows and relies on the Linux-specific paths and names of the rule";
// The started process's own POSIX users are not in the paired corpus (no Linux or macOS DeviceProcessEvents row);
// a captured macOS record carries them (see posixUid below). A Defender for Endpoint on Linux DeviceProcessEvents
// record would settle whether Linux devices do too.

// schemas/DeviceProcessEvents.docs.json: DeviceName "Fully qualified domain name (FQDN) of the device".
const HOST_NOTE =
  "DeviceName is the device's FQDN (janeslaptop1.corporatedomain in the paired corpus), where Elastic Defend's host.name is usually the short name";
// schemas/DeviceFileEvents.docs.json: InitiatingProcessSHA256 "usually not populated - use the SHA1 column when available".
const SHA256_NOTE =
  "Defender documents the SHA256 columns as often not populated (use SHA1): a rule on a SHA-256 may miss";
// Issue 10 bug 9, established from the paired corpus in test/paired/fidelity.test.ts.
const LOWER_NOTE =
  "Defender stores InitiatingProcessFolderPath lower-cased on Windows and macOS (paired corpus); not confirmed for Linux (no Linux record in the corpus; a Defender for Endpoint on Linux record would settle it), so it is compared as recorded, as Elastic's pipeline passes it on";

const host: Readonly<Record<string, FieldSpec>> = {
  "host.os.type": { constant: "linux", approximation: OS_NOTE },
  "host.name": { column: "DeviceName", approximation: HOST_NOTE },
  // DeviceName is the device's "Fully qualified domain name (FQDN)" (schemas/DeviceProcessEvents.docs.json): the
  // host name is its first label and the domain the rest, as Microsoft's own ASIM parser splits it
  // (reference/asim-parsers/.../ASimProcessEventMicrosoft365D.yaml: `DvcHostname = tostring(SplitHostname[0])`,
  // `DvcDomain = strcat_array(array_slice(SplitHostname, 1, -1), '.')`); the Host entity's strong identifier.
  "host.hostname": { expr: `tostring(split(DeviceName, ".")[0])`, type: "string" },
  "host.domain": { expr: `extract(@"^[^.]*\\.(.*)$", 1, DeviceName)`, type: "string" },
  "host.id": { column: "DeviceId" },
  "@timestamp": { column: "Timestamp" },
};

const ENTITY_NOTE =
  "Defender has no process entity id: it is composed of the device id, the process id and the process creation time";
const entityId = (pid: string, created: string): FieldSpec => ({
  expr: `strcat(DeviceId, "|", ${pid}, "|", ${created})`,
  type: "string",
  approximation: ENTITY_NOTE,
});

/**
 * A key of the AdditionalFields column. Defender for Endpoint on macOS and Linux records POSIX process facts there
 * rather than in columns of their own. The column is `dynamic` in DeviceProcessEvents and DeviceFileEvents, but
 * `string` (JSON text) in DeviceNetworkEvents (../shared/schemas), where it is parsed first.
 */
const additional = (key: string, note: string, jsonText = false): FieldSpec => ({
  expr: jsonText ? `tostring(parse_json(AdditionalFields).${key})` : `tostring(AdditionalFields.${key})`,
  type: "string",
  approximation: `read from AdditionalFields.${key}, ${note}`,
});
const CWD_NOTE =
  "a key seen in real Defender records (macOS: Elastic's m365_defender pipeline test in ../shared/corpus/paired, and a captured DeviceProcessEvents record); not in Microsoft's column reference, and not yet confirmed on Linux devices";
/** The working directory of the process that performed a file or network action (or started a process). */
const actingCwd = (jsonText = false) => additional("InitiatingProcessCurrentWorkingDirectory", CWD_NOTE, jsonText);

// Real Defender for Endpoint records carry each process's POSIX users in AdditionalFields:
// `InitiatingProcessPosixEffectiveUser` {Name: "root", PosixUserId: 0, …} for the acting process (the paired
// corpus's macOS DeviceNetworkEvents record, test-device.log line 23) and, on DeviceProcessEvents, also
// `ProcessPosixEffectiveUser` for the started process (a captured macOS DeviceProcessEvents record:
// github.com/rknightion/graph2otel, internal/collectors/deviceprocess test, "liveRecord"). Elastic Defend's
// user.id is the effective uid. Rows without the key (Windows, or a record that lacks it) fall back to the name.
const posixUid = (key: string, accountColumn: string): FieldSpec => {
  const uid = `tolong(parse_json(tostring(AdditionalFields)).${key}.PosixUserId)`;
  return {
    column: accountColumn,
    conditions: { "0": `iff(isnull(${uid}), ${accountColumn} == "root", ${uid} == 0)` },
    approximation: `uid 0 is read from AdditionalFields' ${key}.PosixUserId (the effective uid, as Elastic Defend reports it); on rows without it, as the account name root`,
  };
};
/** The acting process's effective uid (every Defender table the target reads). */
const actingUid = posixUid("InitiatingProcessPosixEffectiveUser", "InitiatingProcessAccountName");
/** The started process's effective uid (DeviceProcessEvents). */
const startedUid = posixUid("ProcessPosixEffectiveUser", "AccountName");

/** The process that performed a file or network action. */
const actingProcess: Readonly<Record<string, FieldSpec>> = {
  "process.executable": { column: "InitiatingProcessFolderPath", approximation: LOWER_NOTE },
  "process.name": { column: "InitiatingProcessFileName" },
  "process.command_line": { column: "InitiatingProcessCommandLine" },
  ...argsFromCommandLine("process", "InitiatingProcessCommandLine"),
  "process.pid": { column: "InitiatingProcessId" },
  "process.entity_id": entityId("InitiatingProcessId", "InitiatingProcessCreationTime"),
  "process.hash.sha256": { column: "InitiatingProcessSHA256", approximation: SHA256_NOTE },
  "process.hash.sha1": { column: "InitiatingProcessSHA1" },
  "process.hash.md5": { column: "InitiatingProcessMD5" },
  "process.parent.name": { column: "InitiatingProcessParentFileName" },
  "process.parent.pid": { column: "InitiatingProcessParentId" },
  "process.parent.entity_id": entityId("InitiatingProcessParentId", "InitiatingProcessParentCreationTime"),
  "process.working_directory": actingCwd(),
  "user.name": { column: "InitiatingProcessAccountName" },
  "user.domain": { column: "InitiatingProcessAccountDomain" },
  "user.id": actingUid,
  "process.user.name": { column: "InitiatingProcessAccountName" },
  "process.user.id": actingUid,
};

export const defender: TargetDefinition = {
  target: "defender",
  title: "Defender XDR",
  description: "Microsoft Defender XDR tables (DeviceProcessEvents, DeviceFileEvents, DeviceNetworkEvents)",
  tables: /Device[A-Z]\w*/,
  connector: "the Microsoft Defender XDR connector (stream the Device* tables of Microsoft Defender for Endpoint)",
  dataConnectors: [
    {
      connectorId: "MicrosoftThreatProtection",
      dataTypes: ["DeviceProcessEvents", "DeviceFileEvents", "DeviceNetworkEvents"],
    },
  ],
  functions: [],
  hunt: {
    identity: [
      "DeviceId",
      "DeviceName",
      "Timestamp",
      "TimeGenerated",
      "ReportId",
      "ProcessId",
      "InitiatingProcessId",
      "SHA256",
      "FolderPath",
      "FileName",
      "ProcessCommandLine",
      "ActionType",
    ],
    time: ["Timestamp", "TimeGenerated"],
    host: ["DeviceName"],
    sampleHash: ["SHA256", "InitiatingProcessSHA256"],
  },
  sources: [
    {
      from: "DeviceProcessEvents",
      schema: "DeviceProcessEvents",
      time: "Timestamp",
      categories: { process: null },
      fields: {
        ...host,
        "event.category": { constant: "process" },
        "event.type": {
          column: "ActionType",
          values: valueMap([
            [["start"], ["ProcessCreated"]],
            [["end", "info", "change"], []],
          ]),
        },
        "event.action": { column: "ActionType", values: processActionValues("ProcessCreated") },
        "process.executable": { column: "FolderPath" },
        "process.name": { column: "FileName" },
        "process.command_line": { column: "ProcessCommandLine" },
        ...argsFromCommandLine("process", "ProcessCommandLine"),
        "process.pid": { column: "ProcessId" },
        "process.entity_id": entityId("ProcessId", "ProcessCreationTime"),
        "process.parent.entity_id": entityId("InitiatingProcessId", "InitiatingProcessCreationTime"),
        "process.hash.sha256": { column: "SHA256", approximation: SHA256_NOTE },
        "process.hash.sha1": { column: "SHA1" },
        "process.hash.md5": { column: "MD5" },
        "process.parent.executable": { column: "InitiatingProcessFolderPath", approximation: LOWER_NOTE },
        "process.parent.name": { column: "InitiatingProcessFileName" },
        "process.parent.command_line": { column: "InitiatingProcessCommandLine" },
        ...argsFromCommandLine("process.parent", "InitiatingProcessCommandLine"),
        "process.parent.pid": { column: "InitiatingProcessId" },
        "process.working_directory": additional("ProcessCurrentWorkingDirectory", CWD_NOTE),
        "process.parent.working_directory": actingCwd(),
        "process.parent.hash.sha256": { column: "InitiatingProcessSHA256", approximation: SHA256_NOTE },
        "process.parent.user.name": { column: "InitiatingProcessAccountName" },
        "process.parent.user.id": actingUid,
        "user.name": { column: "AccountName" },
        "user.domain": { column: "AccountDomain" },
        "user.id": startedUid,
        "process.user.name": { column: "AccountName" },
        "process.user.id": startedUid,
      },
    },
    {
      from: "DeviceFileEvents",
      schema: "DeviceFileEvents",
      time: "Timestamp",
      categories: { file: null },
      fields: {
        ...host,
        ...actingProcess,
        // The account that asked for the file action remotely where there is one (RequestAccountName: "User name of
        // account used to remotely initiate the activity", ../shared/schemas/DeviceFileEvents.docs.json), else the
        // acting process's: Elastic's pipeline makes user.name the requesting account (paired corpus, test-device.log
        // line 3), Microsoft's ASIM parser makes it the actor (vimFileEventM365D.yaml). process.user stays the process's.
        "user.name": { expr: "coalesce(RequestAccountName, InitiatingProcessAccountName)", type: "string" },
        "user.domain": { expr: "coalesce(RequestAccountDomain, InitiatingProcessAccountDomain)", type: "string" },
        "event.category": { constant: "file" },
        "event.type": {
          column: "ActionType",
          values: valueMap([
            [["creation"], ["FileCreated"]],
            [["change"], ["FileModified", "FileRenamed"]],
            [["deletion"], ["FileDeleted"]],
            [["info", "access"], []],
          ]),
        },
        "event.action": {
          column: "ActionType",
          values: valueMap([
            [["creation", "file_create_event", "created"], ["FileCreated"]],
            [["rename", "file_rename_event", "renamed", "moved"], ["FileRenamed"]],
            [["modification", "file_modify_event", "overwrite", "wrote-to-file"], ["FileModified"]],
            [["deletion", "file_delete_event", "deleted"], ["FileDeleted"]],
            [["opened-file", "open"], []],
          ]),
        },
        "file.path": { column: "FolderPath" },
        "file.name": { column: "FileName" },
        "file.directory": { expr: dirNameExpr("FolderPath"), type: "string" },
        "file.extension": { expr: extensionExpr("FileName"), type: "string" },
        "file.size": { column: "FileSize" },
        "file.hash.sha256": { column: "SHA256", approximation: SHA256_NOTE },
        "file.hash.sha1": { column: "SHA1" },
        "file.hash.md5": { column: "MD5" },
        "file.Ext.original.path": { column: "PreviousFolderPath" },
        "file.Ext.original.name": { column: "PreviousFileName" },
        "file.Ext.original.extension": { expr: extensionExpr("PreviousFileName"), type: "string" },
      },
    },
    {
      from: "DeviceNetworkEvents",
      schema: "DeviceNetworkEvents",
      time: "Timestamp",
      categories: { network: null },
      fields: {
        ...host,
        ...actingProcess,
        "process.working_directory": actingCwd(true),
        "event.category": { constant: "network" },
        "event.type": {
          column: "ActionType",
          values: valueMap([
            // ConnectionRequest: a real macOS record's outgoing connection (paired corpus line 23), a "start" in
            // Elastic's m365_defender pipeline (append_event_type_start); test/paired/defender-fields.test.ts.
            [
              ["start", "connection"],
              ["ConnectionSuccess", "ConnectionAttempt", "ConnectionRequest", "InboundConnectionAccepted"],
            ],
            [["end"], []],
          ]),
        },
        "event.action": {
          column: "ActionType",
          values: valueMap([
            [
              ["connection_attempted", "connected-to"],
              ["ConnectionSuccess", "ConnectionAttempt", "ConnectionRequest"],
            ],
            [["connection_accepted"], ["InboundConnectionAccepted"]],
            [["bound-socket"], ["ListeningConnectionCreated"]],
            [["disconnect_received"], []],
          ]),
        },
        "network.direction": {
          column: "ActionType",
          values: valueMap([
            [
              ["egress", "outbound"],
              ["ConnectionSuccess", "ConnectionAttempt", "ConnectionFailed"],
            ],
            [["ingress", "inbound"], ["InboundConnectionAccepted"]],
          ]),
        },
        "destination.ip": { column: "RemoteIP" },
        "destination.port": { column: "RemotePort" },
        "source.ip": { column: "LocalIP" },
        "source.port": { column: "LocalPort" },
        "network.transport": { column: "Protocol" },
      },
    },
  ],
};
