/**
 * ECS → ASIM (Advanced Security Information Model) unifying parsers: `_Im_ProcessEvent` and `_Im_FileEvent`.
 * Data only. In ASIM process events the started process is Target*, its parent the Acting* process; in file
 * events the actor is Acting*. ASIM has no network-session schema in shmhunt's schemas yet.
 */

import {
  accountNameExpr,
  argsFromCommandLine,
  baseNameExpr,
  dirNameExpr,
  extensionExpr,
  processActionValues,
  valueMap,
} from "./common.js";
import type { FieldSpec, TargetDefinition } from "./target-types.js";

const OS_CONDITION = `(isempty(DvcOs) or DvcOs =~ "Linux")`;
const OS_NOTE = "host.os.type linux is read from DvcOs; rows whose parser leaves DvcOs empty are kept";
const UID_NOTE =
  "ASIM user ids are not uids: Microsoft's Sysmon-for-Linux parser leaves TargetUserId empty and its Defender parser puts the account SID there; uid 0 is read as the id 0 or the account name root";
const USER_NOTE =
  "user names are the account part of the ASIM user name: Microsoft's Defender parser writes TargetUsername as domain\\name (host\\root on Linux), its Sysmon-for-Linux parser the bare name";

/** uid: the ASIM id when it is a number; uid 0 also as the account name root (the parsers' ids are SIDs or empty). */
const uidOf = (idColumn: string, nameColumn: string): FieldSpec => ({
  column: idColumn,
  conditions: { "0": `(${idColumn} == "0" or ${accountNameExpr(nameColumn)} == "root")` },
  approximation: UID_NOTE,
});
const userNameOf = (column: string): FieldSpec => ({
  expr: accountNameExpr(column),
  type: "string",
  approximation: USER_NOTE,
});
const PID_NOTE = "ASIM process ids are strings";

/**
 * The ECS process `ecs` (`process`, `process.parent`) from ASIM's process of that role (`Target`, `Acting`): ASIM
 * names each process's columns `<role>Process…` (executable, command line, argv, id).
 */
const processOf = (ecs: string, role: "Target" | "Acting"): Readonly<Record<string, FieldSpec>> => ({
  [`${ecs}.executable`]: { column: `${role}ProcessName` },
  // Not <role>ProcessFilename: Microsoft's Sysmon-for-Linux parser never sets it (vimProcessCreateLinuxSysmon.yaml).
  [`${ecs}.name`]: { expr: baseNameExpr(`${role}ProcessName`), type: "string" },
  [`${ecs}.command_line`]: { column: `${role}ProcessCommandLine` },
  ...argsFromCommandLine(ecs, `${role}ProcessCommandLine`),
  [`${ecs}.pid`]: { column: `${role}ProcessId`, approximation: PID_NOTE },
});

/**
 * The filtering parameters of the unifying parser `_Im_ProcessEvent`, as Microsoft declares them: the `Generic`
 * function of reference/asim-parsers/Parsers/ASimProcessEvent/Parsers/imProcessEvent.yaml (`let Generic=(starttime:
 * datetime=datetime(null), …, eventtype:string='*')`), which the file's `ParserQuery` calls with every one of them.
 */
const PROCESS_PARAMETERS =
  "(starttime:datetime=datetime(null), endtime:datetime=datetime(null), commandline_has_any:dynamic=dynamic([]), commandline_has_all:dynamic=dynamic([]), commandline_has_any_ip_prefix:dynamic=dynamic([]), actingprocess_has_any:dynamic=dynamic([]), targetprocess_has_any:dynamic=dynamic([]), parentprocess_has_any:dynamic=dynamic([]), actorusername:string='*', targetusername:string='*', dvcipaddr_has_any_prefix:dynamic=dynamic([]), dvcname_has_any:dynamic=dynamic([]), hashes_has_any:dynamic=dynamic([]), eventtype:string='*')";
/**
 * The filtering parameters of `_Im_FileEvent`: the `ParserParams` of
 * reference/asim-parsers/Parsers/ASimFileEvent/Parsers/imFileEvent.yaml, in order.
 */
const FILE_PARAMETERS =
  "(starttime:datetime=datetime(null), endtime:datetime=datetime(null), eventtype_in:dynamic=dynamic([]), srcipaddr_has_any_prefix:dynamic=dynamic([]), actorusername_has_any:dynamic=dynamic([]), targetfilepath_has_any:dynamic=dynamic([]), srcfilepath_has_any:dynamic=dynamic([]), hashes_has_any:dynamic=dynamic([]), dvchostname_has_any:dynamic=dynamic([]), disabled:bool=false, pack:bool=false)";
/**
 * `eventtype` keeps one EventType: Microsoft's Linux-capable process parsers test it before anything else
 * (vimProcessEventMicrosoft365D.yaml and vimProcessCreateLinuxSysmon.yaml: `(eventtype=='*' or
 * eventtype=='ProcessCreated')`, the only EventType each of them returns).
 */
const PROCESS_FILTERS = [{ parameter: "eventtype", column: "EventType" }] as const;
const GUID_NOTE = "process entity ids are read from the ASIM process GUIDs, which some parsers leave empty";

/**
 * A process GUID without its braces: Microsoft's Sysmon-for-Linux process parser strips them
 * (vimProcessCreateLinuxSysmon.yaml: `'<Data Name="ProcessGuid">{'ProcessGuid '}</Data>…`), its file parser keeps
 * them (vimFileEventLinuxSysmonFileCreated.yaml: `'<Data Name="ProcessGuid">'msgProcessGuid…`, then
 * `ActingProcessGuid=msgProcessGuid`), so a sequence joining a process start to its file events compares both
 * without braces.
 */
const guidOf = (column: string): FieldSpec => ({
  expr: `trim(@"[{}]", ${column})`,
  type: "string",
  approximation: GUID_NOTE,
});

/**
 * `<column>` when the parser fills it, else `derived`: Microsoft's Linux file parsers leave most of the schema's
 * file-name columns empty (vimFileEventLinuxSysmonFileCreated.yaml sets TargetFilePath only;
 * vimFileEventM365D.yaml sets TargetFileName and SrcFileName but no extension or directory column), so a name,
 * extension or directory is read from the path the parser does give.
 */
const filledOr = (column: string, derived: string): FieldSpec => ({
  expr: `coalesce(${column}, ${derived})`,
  type: "string",
});

/**
 * A file path as the parser gives it, with a doubled last segment made one: Microsoft's Defender file parser appends
 * the file name to FolderPath (vimFileEventM365D.yaml: `TargetFilePath = strcat(FolderPath, iff(DvcOs == "Linux", "/",
 * "\\"), TargetFileName)`, the same for SrcFilePath), as Microsoft's column reference describes FolderPath (the
 * "Folder containing the file"), but a real record's FolderPath already ends with the name (the paired corpus,
 * m365_defender test-device.log: FolderPath "C:\\Windows\\System32\\VMAgentDisabler.dll", which Elastic's pipeline
 * reads as file.path). Rows whose name the parser does not give (Sysmon's) are kept as they are.
 */
const parsedPath = (path: string, name: string): string =>
  `iff(isnotempty(${name}) and (${path} endswith_cs strcat("/", ${name}, "/", ${name}) or ${path} endswith_cs strcat(@"\\", ${name}, @"\\", ${name})), substring(${path}, 0, strlen(${path}) - strlen(${name}) - 1), ${path})`;
const PATH_NOTE =
  "the Defender file parser's path ends with the file name twice (FolderPath holds the whole path, the parser appends the name again): one is removed, so a real folder named as the file it holds is read one level up";
const TARGET_FILE_PATH = parsedPath("TargetFilePath", "TargetFileName");
const SRC_FILE_PATH = parsedPath("SrcFilePath", "SrcFileName");
const TARGET_FILE_NAME = `coalesce(TargetFileName, ${baseNameExpr("TargetFilePath")})`;
const SRC_FILE_NAME = `coalesce(SrcFileName, ${baseNameExpr("SrcFilePath")})`;

/**
 * The device's host name on process events: Microsoft's Sysmon-for-Linux process parser writes it to a column
 * named DvcHostName (vimProcessCreateLinuxSysmon.yaml: `DvcHostName = SysmonComputer`) and leaves the schema's
 * DvcHostname empty; its Defender parser fills DvcHostname (`_ASIM_ResolveDvcFQDN('DeviceName')`).
 */
const PROCESS_HOST_NAME: FieldSpec = {
  expr: `coalesce(DvcHostname, column_ifexists("DvcHostName", ""))`,
  type: "string",
};

/**
 * The domain of a user name whose `<column>Type` is `Windows` (`DOMAIN\user`), as Microsoft's Defender parser
 * writes it (reference/asim-parsers/.../ASimProcessEventMicrosoft365D.yaml: `TargetUsername = strcat(AccountDomain,
 * '\\', AccountName)`, `TargetUsernameType = 'Windows'`); empty for the other types. The Account entity's NTDomain.
 */
const windowsDomainOf = (column: string): FieldSpec => ({
  expr: `iff(${column}Type == "Windows", tostring(split(${column}, @"\\")[0]), "")`,
  type: "string",
});

const host: Readonly<Record<string, FieldSpec>> = {
  "host.os.type": { column: "DvcOs", conditions: { linux: OS_CONDITION }, approximation: OS_NOTE },
  "host.name": { column: "DvcHostname" },
  "host.hostname": { column: "DvcHostname" },
  // The device's domain (FQDN suffix or Windows domain, per DvcDomainType): the Host entity's strong identifier.
  "host.domain": { column: "DvcDomain" },
  "host.id": { column: "DvcId" },
  "@timestamp": { column: "TimeGenerated" },
};

export const asim: TargetDefinition = {
  target: "asim",
  title: "ASIM",
  description: "ASIM unifying parsers (_Im_ProcessEvent, _Im_FileEvent)",
  tables: /_Im_\w+|_ASim_\w+|im[A-Z]\w*|ASim[A-Z]\w*/,
  connector:
    "the ASIM parsers (deploy the ASIM parsers, e.g. from the Microsoft Sentinel content hub) and a source they normalise",
  // The parsers normalise many sources, none of them required: the hunting query names no connector.
  dataConnectors: [],
  functions: [],
  hunt: {
    identity: [
      "DvcId",
      "DvcHostname",
      "Dvc",
      "TimeGenerated",
      "EventStartTime",
      "EventOriginalUid",
      "EventUid",
      "TargetProcessId",
      "ActingProcessId",
      "TargetFileSHA256",
      "FileName",
      "TargetFilePath",
      "TargetProcessName",
      "TargetProcessCommandLine",
      "EventType",
    ],
    time: ["TimeGenerated", "EventStartTime"],
    host: ["DvcHostname", "Dvc"],
    sampleHash: ["TargetFileSHA256", "TargetProcessSHA256", "ActingProcessSHA256"],
  },
  sources: [
    {
      from: "_Im_ProcessEvent",
      schema: "_Im_ProcessEvent",
      parameters: PROCESS_PARAMETERS,
      filters: PROCESS_FILTERS,
      time: "TimeGenerated",
      categories: { process: null },
      fields: {
        ...host,
        "event.category": { constant: "process" },
        "event.type": {
          column: "EventType",
          values: valueMap([
            [["start"], ["ProcessCreated"]],
            [["end"], ["ProcessTerminated"]],
            [["info", "change"], []],
          ]),
        },
        "event.action": { column: "EventType", values: processActionValues("ProcessCreated") },
        "host.name": PROCESS_HOST_NAME,
        "host.hostname": PROCESS_HOST_NAME,
        ...processOf("process", "Target"),
        "process.entity_id": guidOf("TargetProcessGuid"),
        "process.parent.entity_id": guidOf("ActingProcessGuid"),
        "process.working_directory": { column: "TargetProcessCurrentDirectory" },
        "process.hash.sha256": { column: "TargetProcessSHA256" },
        "process.hash.sha1": { column: "TargetProcessSHA1" },
        "process.hash.md5": { column: "TargetProcessMD5" },
        ...processOf("process.parent", "Acting"),
        "process.parent.hash.sha256": { column: "ActingProcessSHA256" },
        "process.parent.user.name": userNameOf("ActorUsername"),
        "process.parent.user.id": uidOf("ActorUserId", "ActorUsername"),
        "user.name": userNameOf("TargetUsername"),
        "user.domain": windowsDomainOf("TargetUsername"),
        "user.id": uidOf("TargetUserId", "TargetUsername"),
        "process.user.name": userNameOf("TargetUsername"),
        "process.user.id": uidOf("TargetUserId", "TargetUsername"),
      },
    },
    {
      from: "_Im_FileEvent",
      schema: "_Im_FileEvent",
      parameters: FILE_PARAMETERS,
      time: "TimeGenerated",
      categories: { file: null },
      fields: {
        ...host,
        "event.category": { constant: "file" },
        "event.type": {
          column: "EventType",
          values: valueMap([
            [["creation"], ["FileCreated"]],
            // FileMoved: the schema's EventType for a file moved (normalization-schema-file-event), which ECS files
            // as a change like a rename.
            [["change"], ["FileModified", "FileRenamed", "FileMoved", "FileAttributesUpdated"]],
            [["deletion"], ["FileDeleted"]],
            [["access", "info"], ["FileAccessed"]],
          ]),
        },
        "event.action": {
          column: "EventType",
          values: valueMap([
            [["creation", "file_create_event", "created"], ["FileCreated"]],
            [
              ["rename", "file_rename_event", "renamed", "moved"],
              ["FileRenamed", "FileMoved"],
            ],
            [["modification", "file_modify_event", "overwrite", "wrote-to-file"], ["FileModified"]],
            [["deletion", "file_delete_event", "deleted"], ["FileDeleted"]],
            [["opened-file", "open"], ["FileAccessed"]],
          ]),
        },
        "file.path": { expr: TARGET_FILE_PATH, type: "string", approximation: PATH_NOTE },
        "file.name": { expr: TARGET_FILE_NAME, type: "string" },
        "file.directory": filledOr("TargetFileDirectory", dirNameExpr(`(${TARGET_FILE_PATH})`)),
        "file.extension": filledOr("TargetFileExtension", extensionExpr(TARGET_FILE_NAME)),
        "file.size": { column: "TargetFileSize" },
        "file.hash.sha256": { column: "TargetFileSHA256" },
        "file.hash.sha1": { column: "TargetFileSHA1" },
        "file.hash.md5": { column: "TargetFileMD5" },
        "file.Ext.original.path": { expr: SRC_FILE_PATH, type: "string", approximation: PATH_NOTE },
        "file.Ext.original.name": { expr: SRC_FILE_NAME, type: "string" },
        "file.Ext.original.extension": filledOr("SrcFileExtension", extensionExpr(SRC_FILE_NAME)),
        ...processOf("process", "Acting"),
        "process.entity_id": guidOf("ActingProcessGuid"),
        "user.name": userNameOf("ActorUsername"),
        "user.domain": windowsDomainOf("ActorUsername"),
        "user.id": uidOf("ActorUserId", "ActorUsername"),
        "process.user.name": userNameOf("ActorUsername"),
        "process.user.id": uidOf("ActorUserId", "ActorUsername"),
      },
    },
  ],
};
