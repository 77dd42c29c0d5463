/** Small building blocks for hunt tests: rules, a clock, and a query runner over an in-memory event table. */
import type { HuntPlan, HuntRule } from "../../src/hunt/index.js";
import type { AlertRequest, AlertWriter, RaisedAlert } from "../../src/sentinel/incidents.js";
import type { QueryOutcome, QueryRunner, QueryWindow, Row } from "../../src/sentinel/logs-query.js";

export const MIN = 60_000;

/**
 * The seed's file-creation query on Defender as the translator writes it (kql/shm-creation/defender.kql) without
 * its watchlist exclusions: files created under /dev/shm/ (DeviceFileEvents' FolderPath is the file's full path),
 * with the entity columns incidents take their entities from. For the hunts over the emulator's rows.
 */
export const SHM_CREATION_QUERY = [
  "DeviceFileEvents",
  '| where ActionType == "FileCreated" and FolderPath startswith "/dev/shm/"',
  '| extend Entity_Host_HostName = DeviceName, Entity_FileHash_Algorithm = "SHA256", Entity_FileHash_Value = SHA256',
].join("\n");

export function huntRule(overrides: Partial<HuntRule> = {}): HuntRule {
  return {
    id: "8c5e9d4a-0000-4000-8000-000000000001",
    name: "Binary Executed from Shared Memory Directory",
    severity: "High",
    riskScore: 73,
    intervalMs: 5 * MIN,
    lookbackMs: 9 * MIN,
    maxSignals: 100,
    tactics: ["Execution"],
    techniques: ["T1059"],
    gate: { mode: "annotate", yaraRules: [], pendingTimeoutMs: 60 * MIN },
    grouping: { entities: [], windowMs: 5 * 60 * MIN },
    ...overrides,
  };
}

export function plan(rule: HuntRule = huntRule(), target = "defender"): HuntPlan {
  return { rule, target, query: "DeviceProcessEvents | where FolderPath startswith '/dev/shm/'" };
}

/** A settable clock. */
export function clock(start: string): { now: () => Date; set(iso: string): void; advance(ms: number): void } {
  let current = new Date(start).getTime();
  return {
    now: () => new Date(current),
    set: (iso) => {
      current = new Date(iso).getTime();
    },
    advance: (ms) => {
      current += ms;
    },
  };
}

/**
 * A query runner over a table of events: returns the events whose Timestamp falls in the window, like the Logs
 * API does with a timespan. `fail` makes the next calls fail (as a 429 storm that outlived the retries would).
 */
export class EventTable implements QueryRunner {
  readonly events: Row[] = [];
  readonly windows: QueryWindow[] = [];
  failNext = 0;

  add(...rows: Row[]): void {
    this.events.push(...rows);
  }

  async run(_query: string, window: QueryWindow): Promise<QueryOutcome> {
    this.windows.push(window);
    if (this.failNext > 0) {
      this.failNext--;
      return {
        ok: false,
        error: "429 Too Many Requests",
        attempts: [{ attempt: 1, outcome: "error", message: "429" }],
      };
    }
    const rows = this.events.filter((row) => {
      const t = Date.parse(String(row.Timestamp));
      return t >= window.start.getTime() && t < window.end.getTime();
    });
    return { ok: true, rows, attempts: [{ attempt: 1, outcome: "success" }] };
  }
}

let pid = 1000;
export function execEvent(timestamp: string, overrides: Record<string, unknown> = {}): Row {
  pid++;
  const row: Row = {
    Timestamp: timestamp,
    DeviceId: "dev-1",
    DeviceName: "web-01",
    AccountName: "root",
    ProcessId: pid,
    FileName: "payload",
    FolderPath: "/dev/shm/payload",
    ProcessCommandLine: "/dev/shm/payload -x",
    SHA256: "ab".repeat(32),
    ...overrides,
  };
  // The entity columns, as the rule's Defender query computes them (kql/shm-execution/defender.kql, last line).
  return {
    ...row,
    Entity_Host_HostName: row.DeviceName,
    Entity_Account_Name: row.AccountName,
    Entity_Process_ProcessId: row.ProcessId === undefined ? undefined : String(row.ProcessId),
    Entity_Process_CommandLine: row.ProcessCommandLine,
    Entity_File_Name: row.FileName,
    Entity_FileHash_Algorithm: "SHA256",
    Entity_FileHash_Value: row.SHA256,
  };
}

/** Dies like a killed process on its n-th alert, right after the incident was written. */
export class KilledAfterWrite implements AlertWriter {
  count = 0;
  constructor(
    private readonly inner: AlertWriter,
    private readonly at: number,
  ) {}
  async raise(alert: AlertRequest): Promise<RaisedAlert> {
    const raised = await this.inner.raise(alert);
    if (++this.count === this.at) throw new Error("killed");
    return raised;
  }
}

/**
 * `rows` DeviceProcessEvents (shared/schemas) as NDJSON: root running a binary under /dev/shm/, each on a host of its
 * own (so each is an incident of its own: the seed rules group by Host), spread over 5 minutes from `start` (ms).
 */
export function shmExecutionNdjson(rows: number, start: number): string {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const t = new Date(start + Math.floor((i * 5 * 60_000) / rows)).toISOString();
    lines.push(
      JSON.stringify({
        Timestamp: t,
        TimeGenerated: t,
        DeviceId: `device-${i}`,
        DeviceName: `host-${i}`,
        ReportId: 10_000 + i,
        ActionType: "ProcessCreated",
        FileName: "kworkerd",
        FolderPath: "/dev/shm/.x/kworkerd",
        SHA256: "26a2d5d95405e2aa072837703d2315c203d3394d299c02bde0e3ae7f16de84ea",
        ProcessId: 4000 + i,
        ProcessCommandLine: "/dev/shm/.x/kworkerd",
        AccountName: "root",
        AccountDomain: `host-${i}`,
      }),
    );
  }
  return `${lines.join("\n")}\n`;
}
