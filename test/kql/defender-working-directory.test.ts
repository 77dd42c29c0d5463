/**
 * `process.working_directory` / `process.parent.working_directory` on Defender: Defender for Endpoint on macOS and
 * Linux keeps a process's current working directory in the AdditionalFields column, not in a column of its own.
 * The translated query, run by the local engine over Defender rows, finds exactly the rows whose recorded working
 * directory the rule names.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseEql } from "../../src/eql/index.js";
import { translateQuery, translateRule } from "../../src/kql/index.js";
import { loadRuleFile } from "../../src/rules/index.js";
import { openWorkspace, toRecords } from "../../src/workspace/index.js";

const shared = path.resolve(import.meta.dirname, "../../../shared/corpus");
const pairedLog = path.join(
  shared,
  "paired/elastic-integrations/packages/m365_defender/data_stream/event/_dev/test/pipeline/test-device.log",
);
const work = mkdtempSync(path.join(tmpdir(), "shmhunt-defender-cwd-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function reportIds(eql: string, tables: Record<string, readonly Record<string, unknown>[]>): Promise<number[]> {
  const t = translateQuery(parseEql(eql), "defender");
  expect(t.refused, t.refused?.message).toBeUndefined();
  expect(t.diagnostics).toEqual([]);
  return runKql(t.kql ?? "", tables);
}

async function runKql(kql: string, tables: Record<string, readonly Record<string, unknown>[]>): Promise<number[]> {
  const dir = mkdtempSync(path.join(work, "ws-"));
  for (const [table, rows] of Object.entries(tables)) {
    writeFileSync(path.join(dir, `${table}.ndjson`), `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`);
  }
  const ws = await openWorkspace(dir);
  return toRecords(await ws.query(kql))
    .map((r) => Number(r.ReportId))
    .sort((a, b) => a - b);
}

describe.skipIf(!existsSync(pairedLog))("the acting process's working directory on a real Defender record", () => {
  // The paired corpus's macOS DeviceNetworkEvents record (telemetryd_v2, ConnectionRequest): its AdditionalFields
  // hold "InitiatingProcessCurrentWorkingDirectory": "/Applications/Microsoft Defender.app/Contents/MacOS".
  const record = readFileSync(pairedLog, "utf8")
    .split("\n")
    .filter((l) => l.includes("InitiatingProcessCurrentWorkingDirectory"))
    .map((l) => (JSON.parse(l) as { properties: Record<string, unknown> }).properties);
  const tables = { DeviceNetworkEvents: record };

  it("is the record's one such event", () => {
    expect(record.map((r) => r.ReportId)).toHaveLength(1);
  });

  it("matches the recorded directory exactly, and nothing else", async () => {
    const id = Number(record[0]?.ReportId);
    expect(
      await reportIds(
        'network where process.working_directory == "/Applications/Microsoft Defender.app/Contents/MacOS"',
        tables,
      ),
    ).toEqual([id]);
    expect(
      await reportIds('network where process.working_directory : "/applications/microsoft defender.app/*"', tables),
    ).toEqual([id]);
    // `==` is case-sensitive in EQL: the lower-cased path does not match.
    expect(
      await reportIds(
        'network where process.working_directory == "/applications/microsoft defender.app/contents/macos"',
        tables,
      ),
    ).toEqual([]);
    expect(await reportIds('network where process.working_directory like "/tmp*"', tables)).toEqual([]);
  });

  it("says where the value is read from", () => {
    const t = translateQuery(parseEql('network where process.working_directory == "/"'), "defender");
    expect(t.approximations.join("\n")).toMatch(/AdditionalFields\.InitiatingProcessCurrentWorkingDirectory/);
  });
});

describe("a started process's working directory (DeviceProcessEvents)", () => {
  // Row shaped after a captured DeviceProcessEvents record of Defender for Endpoint on macOS
  // (github.com/rknightion/graph2otel, internal/collectors/deviceprocess test, "liveRecord"): its AdditionalFields
  // carry "ProcessCurrentWorkingDirectory" (the started process) beside "InitiatingProcessCurrentWorkingDirectory".
  const row = (id: number, cwd: string, parentCwd: string, cmd: string) => ({
    Timestamp: "2026-07-18T14:55:41.322571Z",
    DeviceId: "d1",
    DeviceName: "host-1",
    ActionType: "ProcessCreated",
    FileName: cmd.split(" ")[0],
    FolderPath: `/usr/bin/${cmd.split(" ")[0]}`,
    ProcessCommandLine: cmd,
    ProcessId: 100 + id,
    InitiatingProcessId: 100 + id,
    InitiatingProcessFileName: "bash",
    ReportId: id,
    AdditionalFields: JSON.stringify({
      ProcessCurrentWorkingDirectory: cwd,
      InitiatingProcessCurrentWorkingDirectory: parentCwd,
    }),
  });
  const tables = {
    DeviceProcessEvents: [row(1, "/tmp", "/root", "touch .hidden"), row(2, "/home/a", "/tmp", "touch .hidden")],
  };

  it("reads the started process's and the initiating process's directories apart", async () => {
    expect(await reportIds('process where process.working_directory == "/tmp"', tables)).toEqual([1]);
    expect(await reportIds('process where process.parent.working_directory == "/tmp"', tables)).toEqual([2]);
  });

  const hiddenFileRule = path.join(shared, "elastic-rules-linux/rules_linux/defense_evasion_hidden_file_dir_tmp.toml");
  it.skipIf(!existsSync(hiddenFileRule))(
    "lets Elastic's hidden-file rule run: only the start in /tmp matches",
    async () => {
      const { rule } = await loadRuleFile(hiddenFileRule);
      if (!rule) throw new Error("rule did not load");
      const t = translateRule(rule, "defender");
      expect(t.refused, t.refused?.message).toBeUndefined();
      expect(t.diagnostics).toEqual([]);
      expect(await runKql(t.kql ?? "", tables)).toEqual([1]);
    },
  );
});
