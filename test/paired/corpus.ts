/**
 * The paired corpus (`../shared/corpus/paired`, README there): raw vendor records and the ECS documents Elastic's
 * ingest pipelines make of them, one document per input line in the same order. Each event gets a key that both
 * sides can report: the Defender record's line number (carried to KQL in an extra column `PairedLine`, which the
 * tables and Microsoft's parsers pass through), and for audit records the record's `msg=audit(<time>:<serial>)` id,
 * which `ShmhuntAuditd` reports as `AuditEventId`.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

export const PAIRED = path.resolve(import.meta.dirname, "../../../shared/corpus/paired/elastic-integrations/packages");
export const pairedPresent = existsSync(PAIRED);

export interface PairedEvent {
  /** What both sides report for this event (`defender:3`, `audit:1451706546.626:3`). */
  readonly key: string;
  /** The ECS document, with `@timestamp` as the pipeline gave it. */
  readonly ecs: Record<string, unknown>;
}

export interface DefenderRows {
  readonly events: readonly PairedEvent[];
  /** Table → raw advanced-hunting rows (`properties` of the Event Hub record), each with `PairedLine`. */
  readonly tables: ReadonlyMap<string, readonly Record<string, unknown>[]>;
}

export interface AuditRows {
  readonly events: readonly PairedEvent[];
  /** Syslog rows, one per audit line (`SyslogMessage` is the line as auditd wrote it). */
  readonly syslog: readonly Record<string, unknown>[];
}

function expected(file: string): Record<string, unknown>[] {
  return (JSON.parse(readFileSync(`${file}-expected.json`, "utf8")) as { expected: Record<string, unknown>[] })
    .expected;
}

function lines(file: string): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "");
}

export const DEFENDER_FILE = path.join(PAIRED, "m365_defender/data_stream/event/_dev/test/pipeline/test-device.log");

export function defenderCorpus(): DefenderRows {
  const raw = lines(DEFENDER_FILE);
  const docs = expected(DEFENDER_FILE);
  if (raw.length !== docs.length) throw new Error(`${DEFENDER_FILE}: ${raw.length} lines, ${docs.length} documents`);
  const tables = new Map<string, Record<string, unknown>[]>();
  const events = raw.map((line, i) => {
    const record = JSON.parse(line) as { category: string; properties: Record<string, unknown>; time: string };
    const table = record.category.replace(/^AdvancedHunting-/, "");
    // Sentinel's copy of the stream: TimeGenerated is the ingestion time (the record's `time`).
    const row = { TimeGenerated: record.time, ...record.properties, PairedLine: i + 1 };
    tables.set(table, [...(tables.get(table) ?? []), row]);
    return { key: `defender:${i + 1}`, ecs: docs[i] as Record<string, unknown> };
  });
  return { events, tables };
}

export const AUDIT_FILES = [
  "test-auditd-raw.log",
  "test-auditd-useradd.log",
  "test-auditd-enriched.log",
  "test-enhanced-syscall.log",
].map((f) => path.join(PAIRED, "auditd/data_stream/log/_dev/test/pipeline", f));

/** The audit record id of a line (`msg=audit(1451706546.626:3):` → `1451706546.626:3`), if it has one. */
export function auditId(line: string): string | undefined {
  return /msg=audit\((\d+\.\d+:\d+)\)/.exec(line)?.[1];
}

export function auditCorpus(): AuditRows {
  const events: PairedEvent[] = [];
  const syslog: Record<string, unknown>[] = [];
  for (const file of AUDIT_FILES) {
    const raw = lines(file);
    const docs = expected(file);
    if (raw.length !== docs.length) throw new Error(`${file}: ${raw.length} lines, ${docs.length} documents`);
    raw.forEach((line, i) => {
      const id = auditId(line);
      const key = id ? `audit:${id}` : `audit:${path.basename(file)}:${i + 1}`;
      events.push({ key, ecs: docs[i] as Record<string, unknown> });
      // A `node=<host> ` prefix names the host that wrote the line (auditd's name_format); Syslog's Computer.
      const node = /^node=(\S+) /.exec(line)?.[1] ?? "paired-host";
      const seconds = Number(id?.split(":")[0] ?? 0);
      syslog.push({
        TimeGenerated: new Date(seconds * 1000).toISOString(),
        Computer: node,
        HostName: node,
        Facility: "authpriv",
        SeverityLevel: "info",
        ProcessName: "audispd",
        SyslogMessage: line,
      });
    });
  }
  return { events, syslog };
}
