/** The workspace directory: table files (NDJSON, JSON array, CSV) typed by the schemas, functions, watchlists. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { DiagnosticError } from "../../src/diagnostics/index.js";
import { openWorkspace, toRecords, toWireTable, type Workspace } from "../../src/workspace/index.js";

let dir: string;
let ws: Workspace;
const NOW = Date.UTC(2024, 0, 1, 12, 0, 0);

function ndjson(records: readonly object[]): string {
  return records.map((r) => JSON.stringify(r)).join("\n");
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "shmhunt-ws-"));
  writeFileSync(
    path.join(dir, "DeviceProcessEvents.ndjson"),
    ndjson([
      {
        TimeGenerated: "2024-01-01T11:55:00Z",
        Timestamp: "2024-01-01T11:55:00Z",
        DeviceName: "web-1",
        AccountName: "root",
        FolderPath: "/dev/shm/kworker",
        FileName: "kworker",
        ProcessCommandLine: "/dev/shm/kworker -d",
        AdditionalFields: '{"uid":0}',
        ProcessId: "4242",
      },
      {
        TimeGenerated: "2024-01-01T10:00:00Z",
        Timestamp: "2024-01-01T10:00:00Z",
        DeviceName: "web-2",
        AccountName: "www-data",
        FolderPath: "/usr/bin/curl",
        FileName: "curl",
        ProcessCommandLine: "curl http://example.com",
        AdditionalFields: { uid: 33 },
        ProcessId: 7,
        CustomExtra: "kept",
      },
    ]),
  );
  writeFileSync(
    path.join(dir, "DeviceFileEvents.json"),
    JSON.stringify([
      { TimeGenerated: "2024-01-01T11:00:00Z", FolderPath: "/dev/shm/a", FileName: "a", ActionType: "FileCreated" },
      { TimeGenerated: "2024-01-01T11:01:00Z", FolderPath: "/tmp/{b}", FileName: 'b"]', ActionType: "FileModified" },
    ]),
  );
  writeFileSync(
    path.join(dir, "Syslog.csv"),
    [
      "TimeGenerated [UTC],Computer,Facility,SyslogMessage",
      '"1/1/2024, 11:30:00.000 AM",web-1,authpriv,"type=EXECVE msg=audit(1): exe=""/dev/shm/x"" key=""shm"""',
      '2024-01-01T11:31:00Z,web-2,daemon,"multi',
      'line, with comma"',
    ].join("\n"),
  );
  writeFileSync(
    path.join(dir, "Custom_CL.csv"),
    "Name,Count,Seen\nalpha,3,2024-01-01T00:00:00Z\nbeta,5,2024-01-02T00:00:00Z\n",
  );
  writeFileSync(
    path.join(dir, "_Im_ProcessEvent.ndjson"),
    ndjson([
      {
        TimeGenerated: "2024-01-01T09:00:00Z",
        TargetProcessName: "/dev/shm/old",
        DvcHostname: "h",
        EventType: "ProcessTerminated",
      },
      {
        TimeGenerated: "2024-01-01T11:00:00Z",
        TargetProcessName: "/dev/shm/new",
        DvcHostname: "h",
        EventType: "ProcessCreated",
      },
    ]),
  );
  writeFileSync(
    path.join(dir, "DeviceNetworkEvents.ndjson"),
    ndjson([
      { Timestamp: "2024-01-01T10:00:00Z", RemoteIP: "10.0.0.1" },
      { Timestamp: "2024-01-01T11:30:00Z", RemoteIP: "10.0.0.2" },
    ]),
  );
  mkdirSync(path.join(dir, "functions"));
  writeFileSync(
    path.join(dir, "functions", "ShmhuntAuditd.kql"),
    'Syslog | where SyslogMessage has "EXECVE" | extend exe = extract(@\'exe="([^"]+)"\', 1, SyslogMessage)',
  );
  mkdirSync(path.join(dir, "watchlists"));
  writeFileSync(path.join(dir, "watchlists", "shm-exclusions.csv"), "Value,Scenario\n/dev/shm/kworker,kernel\n");
  ws = await openWorkspace(dir, {
    watchlists: { extra: { searchKey: "Path", items: [{ Path: "/usr/bin/curl", Why: "tool" }] } },
  });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function q(text: string, options: Parameters<Workspace["query"]>[1] = {}) {
  return toRecords(await ws.query(text, { now: NOW, ...options }));
}

describe("table files", () => {
  it("reads NDJSON typed by the schema (datetime, dynamic from JSON text, long from a string)", async () => {
    const rows = await q(
      "DeviceProcessEvents | where FolderPath startswith '/dev/shm/' | project Timestamp, DeviceName, uid = AdditionalFields.uid, ProcessId, t = gettype(ProcessId)",
    ).catch((e: Error) => e);
    // gettype() is not supported: the engine says so rather than answering wrongly.
    expect(rows).toBeInstanceOf(DiagnosticError);
    expect(
      await q(
        "DeviceProcessEvents | where FolderPath startswith '/dev/shm/' | project Timestamp, DeviceName, uid = AdditionalFields.uid, pid = ProcessId + 1",
      ),
    ).toEqual([{ Timestamp: "2024-01-01T11:55:00.000Z", DeviceName: "web-1", uid: 0, pid: 4243 }]);
  });

  it("keeps columns the schema does not know (typed by sampling)", async () => {
    expect(await q("DeviceProcessEvents | where isnotempty(CustomExtra) | project CustomExtra")).toEqual([
      { CustomExtra: "kept" },
    ]);
    expect(ws.tables.DeviceProcessEvents?.some((c) => c.name === "CustomExtra")).toBe(true);
  });

  it("streams a JSON array file, with brackets and quotes inside strings", async () => {
    expect(await q("DeviceFileEvents | project FileName, FolderPath")).toEqual([
      { FileName: "a", FolderPath: "/dev/shm/a" },
      { FileName: 'b"]', FolderPath: "/tmp/{b}" },
    ]);
  });

  it("reads CSV with quoted fields, doubled quotes, newlines, and the portal's datetime format", async () => {
    const rows = await q("Syslog | project TimeGenerated, Computer, SyslogMessage");
    expect(rows).toEqual([
      {
        TimeGenerated: "2024-01-01T11:30:00.000Z",
        Computer: "web-1",
        SyslogMessage: 'type=EXECVE msg=audit(1): exe="/dev/shm/x" key="shm"',
      },
      { TimeGenerated: "2024-01-01T11:31:00.000Z", Computer: "web-2", SyslogMessage: "multi\nline, with comma" },
    ]);
  });

  it("infers the columns of a table without a schema", async () => {
    expect(await q("Custom_CL | where Count > 4 | project Name, Count, Seen")).toEqual([
      { Name: "beta", Count: 5, Seen: "2024-01-02T00:00:00.000Z" },
    ]);
  });

  it("a known table without a file is empty; an unknown table is a KQL310 error", async () => {
    expect(await q("DeviceImageLoadEvents | take 5")).toEqual([]);
    const e = await ws.query("NoSuchTable | take 1").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DiagnosticError);
    expect((e as DiagnosticError).diagnostics[0]?.code).toBe("KQL310");
  });

  it("applies the timespan to TimeGenerated", async () => {
    const rows = await q("DeviceProcessEvents | project DeviceName", {
      timespan: { start: new Date("2024-01-01T11:00:00Z"), end: new Date("2024-01-01T12:00:00Z") },
    });
    expect(rows).toEqual([{ DeviceName: "web-1" }]);
  });
});

describe("time columns", () => {
  it("an Advanced Hunting export (Timestamp only) gets TimeGenerated from Timestamp, so the timespan applies", async () => {
    const rows = await q("DeviceNetworkEvents | project RemoteIP, TimeGenerated", {
      timespan: { start: Date.parse("2024-01-01T11:00:00Z"), end: Date.parse("2024-01-01T12:00:00Z") },
    });
    expect(rows).toEqual([{ RemoteIP: "10.0.0.2", TimeGenerated: "2024-01-01T11:30:00.000Z" }]);
  });
});

describe("functions and watchlists", () => {
  it("calls a workspace function from functions/*.kql (the auditd parser shape)", async () => {
    expect(await q('ShmhuntAuditd | where exe startswith "/dev/shm/" | project Computer, exe')).toEqual([
      { Computer: "web-1", exe: "/dev/shm/x" },
    ]);
    expect(await q("ShmhuntAuditd() | count")).toEqual([{ Count: 1 }]);
  });

  it("serves ASIM parsers from their data file, honouring starttime", async () => {
    expect(await q("_Im_ProcessEvent | project TargetProcessName")).toHaveLength(2);
    expect(await q("_Im_ProcessEvent(starttime=datetime(2024-01-01T10:00:00Z)) | project TargetProcessName")).toEqual([
      { TargetProcessName: "/dev/shm/new" },
    ]);
  });

  it("_GetWatchlist from watchlists/*.csv and from options", async () => {
    expect(await q("_GetWatchlist('shm-exclusions') | project SearchKey, Scenario")).toEqual([
      { SearchKey: "/dev/shm/kworker", Scenario: "kernel" },
    ]);
    expect(await q("_GetWatchlist('extra') | project SearchKey, Why, w = tostring(WatchlistItem.Why)")).toEqual([
      { SearchKey: "/usr/bin/curl", Why: "tool", w: "tool" },
    ]);
    const excluded = await q(
      "DeviceProcessEvents | where FolderPath !in ((_GetWatchlist('shm-exclusions') | project SearchKey)) | project DeviceName",
    );
    expect(excluded).toEqual([{ DeviceName: "web-2" }]);
    expect(await q("_GetWatchlist('none') | count")).toEqual([{ Count: 0 }]);
  });
});

describe("streaming", () => {
  it("take stops reading early: a bad record after the first rows is never parsed", async () => {
    const big = mkdtempSync(path.join(tmpdir(), "shmhunt-ws-stream-"));
    try {
      const good = Array.from({ length: 50_000 }, (_, i) => JSON.stringify({ Computer: `h${i}`, SyslogMessage: "m" }));
      writeFileSync(path.join(big, "Syslog.ndjson"), `${good.join("\n")}\n{not json\n`);
      const w = await openWorkspace(big);
      expect((await w.query("Syslog | take 10")).rows).toHaveLength(10);
      const e = await w.query("Syslog | count").catch((x: unknown) => x);
      expect(e).toBeInstanceOf(DiagnosticError);
      expect((e as DiagnosticError).diagnostics[0]?.code).toBe("WS502");
      expect((e as DiagnosticError).diagnostics[0]?.span?.start.line).toBe(50001);
    } finally {
      rmSync(big, { recursive: true, force: true });
    }
  });
});

describe("wire encoding", () => {
  it("encodes dynamic as JSON text and datetimes as ISO strings", async () => {
    const result = await ws.query(
      "DeviceProcessEvents | where DeviceName == 'web-1' | project Timestamp, AdditionalFields",
      {
        now: NOW,
      },
    );
    expect(toWireTable(result)).toEqual({
      name: "PrimaryResult",
      columns: [
        { name: "Timestamp", type: "datetime" },
        { name: "AdditionalFields", type: "dynamic" },
      ],
      rows: [["2024-01-01T11:55:00.000Z", '{"uid":0}']],
    });
  });
});

describe("shmhunt kql", () => {
  const out: string[] = [];
  const err: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    out.length = 0;
    err.length = 0;
  });
  const capture = () => {
    vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    });
    vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
      err.push(String(s));
      return true;
    });
  };

  it("prints NDJSON rows with --json", async () => {
    capture();
    const code = await main([
      "node",
      "shmhunt",
      "kql",
      "DeviceProcessEvents | where AccountName == 'root' | project DeviceName, FolderPath",
      "--workspace",
      dir,
      "--json",
    ]);
    expect(code).toBe(0);
    expect(
      out
        .join("")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toEqual([{ DeviceName: "web-1", FolderPath: "/dev/shm/kworker" }]);
  });

  it("prints an aligned table otherwise", async () => {
    capture();
    const code = await main(["node", "shmhunt", "kql", "Custom_CL | project Name, Count", "--workspace", dir]);
    expect(code).toBe(0);
    expect(out.join("")).toBe("Name   Count\n-----  -----\nalpha  3\nbeta   5\n");
  });

  it("exits non-zero with a one-line reason naming the position", async () => {
    capture();
    const code = await main(["node", "shmhunt", "kql", "Custom_CL | where Nope == 1", "--workspace", dir]);
    expect(code).not.toBe(0);
    expect(err.join("")).toMatch(/^shmhunt: 1:19: error KQL310: KS142: .*Nope/);
    expect(err.join("").trim().split("\n")).toHaveLength(1);
  });

  it("refuses --to without --from (docs/workspace.md: [--from <iso> [--to <iso>]]) rather than reading every row", async () => {
    capture();
    const code = await main([
      "node",
      "shmhunt",
      "kql",
      "Custom_CL",
      "--workspace",
      dir,
      "--to",
      "2000-01-01T00:00:00Z",
    ]);
    expect(code).toBe(1);
    expect(out.join("")).toBe("");
    expect(err.join("")).toBe("shmhunt: --to needs --from\n");
  });
});
