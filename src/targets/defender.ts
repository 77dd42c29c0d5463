/**
 * ECS → Microsoft Defender XDR advanced-hunting tables (as streamed to Sentinel). Data only.
 *
 * Process events are DeviceProcessEvents (the started process is the row's own File and Process columns, its parent
 * the InitiatingProcess* columns); file and network events name the acting process InitiatingProcess*.
 */

import {
  ARGS_COUNT_NOTE,
  ARGS_NOTE,
  argsCountExpr,
  dirNameExpr,
  extensionExpr,
  PROCESS_START_ACTIONS,
  UNRECORDED_PROCESS_ACTIONS,
  valueMap,
} from "./common.js";
import type { FieldSpec, TargetDefinition } from "./target-types.js";

const OS_NOTE =
  "Defender rows carry no OS column; the query reads every device's rows and relies on the Linux-specific paths and names of the rule";
const UID_NOTE = "Defender records account names, not uids: uid 0 is read as the account name root";

const host: Readonly<Record<string, FieldSpec>> = {
  "host.os.type": { constant: "linux", approximation: OS_NOTE },
  "host.name": { column: "DeviceName" },
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

const uidOf = (column: string): FieldSpec => ({
  column,
  conditions: { "0": `${column} == "root"` },
  approximation: UID_NOTE,
});

/** The process that performed a file or network action. */
const actingProcess: Readonly<Record<string, FieldSpec>> = {
  "process.executable": { column: "InitiatingProcessFolderPath" },
  "process.name": { column: "InitiatingProcessFileName" },
  "process.command_line": { column: "InitiatingProcessCommandLine" },
  "process.args": { column: "InitiatingProcessCommandLine", argsOf: "commandLine", approximation: ARGS_NOTE },
  "process.args_count": {
    expr: argsCountExpr("InitiatingProcessCommandLine"),
    type: "long",
    approximation: ARGS_COUNT_NOTE,
  },
  "process.pid": { column: "InitiatingProcessId" },
  "process.entity_id": entityId("InitiatingProcessId", "InitiatingProcessCreationTime"),
  "process.hash.sha256": { column: "InitiatingProcessSHA256" },
  "process.hash.sha1": { column: "InitiatingProcessSHA1" },
  "process.hash.md5": { column: "InitiatingProcessMD5" },
  "process.parent.name": { column: "InitiatingProcessParentFileName" },
  "process.parent.pid": { column: "InitiatingProcessParentId" },
  "process.parent.entity_id": entityId("InitiatingProcessParentId", "InitiatingProcessParentCreationTime"),
  "user.name": { column: "InitiatingProcessAccountName" },
  "user.domain": { column: "InitiatingProcessAccountDomain" },
  "user.id": uidOf("InitiatingProcessAccountName"),
  "process.user.name": { column: "InitiatingProcessAccountName" },
  "process.user.id": uidOf("InitiatingProcessAccountName"),
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
        "event.action": {
          column: "ActionType",
          values: valueMap([
            [PROCESS_START_ACTIONS, ["ProcessCreated"]],
            [UNRECORDED_PROCESS_ACTIONS, []],
          ]),
        },
        "process.executable": { column: "FolderPath" },
        "process.name": { column: "FileName" },
        "process.command_line": { column: "ProcessCommandLine" },
        "process.args": { column: "ProcessCommandLine", argsOf: "commandLine", approximation: ARGS_NOTE },
        "process.args_count": {
          expr: argsCountExpr("ProcessCommandLine"),
          type: "long",
          approximation: ARGS_COUNT_NOTE,
        },
        "process.pid": { column: "ProcessId" },
        "process.entity_id": entityId("ProcessId", "ProcessCreationTime"),
        "process.parent.entity_id": entityId("InitiatingProcessId", "InitiatingProcessCreationTime"),
        "process.hash.sha256": { column: "SHA256" },
        "process.hash.sha1": { column: "SHA1" },
        "process.hash.md5": { column: "MD5" },
        "process.parent.executable": { column: "InitiatingProcessFolderPath" },
        "process.parent.name": { column: "InitiatingProcessFileName" },
        "process.parent.command_line": { column: "InitiatingProcessCommandLine" },
        "process.parent.args": {
          column: "InitiatingProcessCommandLine",
          argsOf: "commandLine",
          approximation: ARGS_NOTE,
        },
        "process.parent.args_count": {
          expr: argsCountExpr("InitiatingProcessCommandLine"),
          type: "long",
          approximation: ARGS_COUNT_NOTE,
        },
        "process.parent.pid": { column: "InitiatingProcessId" },
        "process.parent.hash.sha256": { column: "InitiatingProcessSHA256" },
        "process.parent.user.name": { column: "InitiatingProcessAccountName" },
        "process.parent.user.id": uidOf("InitiatingProcessAccountName"),
        "user.name": { column: "AccountName" },
        "user.domain": { column: "AccountDomain" },
        "user.id": uidOf("AccountName"),
        "process.user.name": { column: "AccountName" },
        "process.user.id": uidOf("AccountName"),
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
        "file.hash.sha256": { column: "SHA256" },
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
        "event.category": { constant: "network" },
        "event.type": {
          column: "ActionType",
          values: valueMap([
            [
              ["start", "connection"],
              ["ConnectionSuccess", "ConnectionAttempt", "InboundConnectionAccepted"],
            ],
            [["end"], []],
          ]),
        },
        "event.action": {
          column: "ActionType",
          values: valueMap([
            [
              ["connection_attempted", "connected-to"],
              ["ConnectionSuccess", "ConnectionAttempt"],
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
