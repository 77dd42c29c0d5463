/**
 * What the defender target refuses, and why: each group of Elastic Linux event rules that Defender cannot serve
 * (docs/targets.md, "Defender coverage") is pinned here to the Microsoft source that shows the fact is not
 * recorded — Microsoft's column reference (../shared/schemas/*.docs.json, from MicrosoftDocs/azure-reference-other),
 * Microsoft's own ASIM parser for these tables (../shared/reference/asim-parsers), or a real Defender record (the
 * paired corpus). The expected answers come from those files, not from the mapping: if Microsoft's reference gains
 * the fact, the source-side assertion fails and the mapping is due.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseEql } from "../../src/eql/index.js";
import { translateQuery } from "../../src/kql/index.js";

const shared = path.resolve(import.meta.dirname, "../../../shared");
const schemas = path.join(shared, "schemas");
const parsers = path.join(shared, "reference/asim-parsers/Parsers/ASimProcessEvent/Parsers");
const pairedLog = path.join(
  shared,
  "corpus/paired/elastic-integrations/packages/m365_defender/data_stream/event/_dev/test/pipeline/test-device.log",
);

interface Column {
  readonly name: string;
  readonly description?: string;
}
function columns(file: string): Column[] {
  return (JSON.parse(readFileSync(path.join(schemas, file), "utf8")) as { columns: Column[] }).columns;
}

function refusal(eql: string): string | undefined {
  return translateQuery(parseEql(eql), "defender").refused?.reason;
}

describe.skipIf(!existsSync(parsers))("process events: Defender records starts only", () => {
  it("Microsoft's Defender process parser admits the event type ProcessCreated and nothing else", () => {
    // vimProcessEventMicrosoft365D.yaml: `and (eventtype=='*' or eventtype=='ProcessCreated')`.
    const parser = readFileSync(path.join(parsers, "vimProcessEventMicrosoft365D.yaml"), "utf8");
    const admitted = [...parser.matchAll(/eventtype\s*==\s*'([^']*)'/g)].map((m) => m[1]);
    expect(new Set(admitted)).toEqual(new Set(["*", "ProcessCreated"]));
    // imProcessEvent.yaml unions a ProcessTerminate parser for Sysmon, Security events, Linux Sysmon, … but none
    // for Microsoft 365 Defender: the Defender tables hold no process terminations.
    const union = readFileSync(path.join(parsers, "imProcessEvent.yaml"), "utf8");
    expect(union).toContain("_Im_ProcessTerminate_LinuxSysmon");
    expect(union).toContain("_Im_ProcessEvent_Microsoft365D");
    expect(union).not.toMatch(/ProcessTerminate_?Microsoft365D/);
  });

  it("translates starts to ProcessCreated and refuses end, info and change events as never recorded", () => {
    const start = translateQuery(parseEql('process where event.type == "start"'), "defender");
    expect(start.refused).toBeUndefined();
    expect(start.kql).toContain('"ProcessCreated"');
    // impact_esxi_process_kill (end), persistence_rc_local_service_already_running and
    // persistence_systemd_shell_execution (info / already_running), privilege_escalation_docker_escape_via_nsenter
    // (change / uid_change), privilege_escalation_kworker_uid_elevation (session_id_change).
    for (const eql of [
      'process where event.type == "end"',
      'process where event.type == "info" and event.action == "already_running"',
      'process where event.type == "change" and event.action == "uid_change"',
      'process where event.action == "session_id_change"',
    ]) {
      expect(refusal(eql), eql).toBe("construct always false");
    }
  });
});

describe.skipIf(!existsSync(schemas))("facts no Defender column holds", () => {
  const processColumns = columns("DeviceProcessEvents.docs.json");

  it("has no container of a Linux process: the only container column is Application Guard's", () => {
    // DeviceProcessEvents.docs.json: AppGuardContainerId "Identifier for the virtualized container used by
    // Application Guard to isolate browser activity." (a Windows browser sandbox, not a Linux container runtime).
    const container = processColumns.filter((c) => /container/i.test(c.name));
    expect(container.map((c) => c.name)).toEqual(["AppGuardContainerId"]);
    expect(container[0]?.description).toMatch(/Application Guard/);
    expect(refusal('process where process.entry_leader.entry_meta.type == "container"')).toBe(
      "field process.entry_leader.entry_meta.type",
    );
  });

  it("has no environment, session or group leader, tty, syscall or capabilities of a process", () => {
    for (const c of processColumns) expect(c.name).not.toMatch(/environ|envvar|leader|tty|interactive|syscall|capab/i);
    for (const field of [
      "process.env_vars",
      "process.session_leader.name",
      "process.group_leader.name",
      "process.interactive",
      "auditd.data.syscall",
    ]) {
      expect(refusal(`process where ${field} != null`), field).toBe(`field ${field}`);
    }
  });

  it("has no DNS question on network events", () => {
    // DeviceNetworkEvents: RemoteUrl is "URL or fully qualified domain name (FQDN) that was being connected to",
    // a connection's peer, not the name a DNS query asked for; no column holds a DNS question.
    const network = columns("DeviceNetworkEvents.normalized.json");
    for (const c of network) expect(c.name).not.toMatch(/dns|query|question/i);
    expect(refusal("network where dns.question.name != null and process.name != null")).toBe("field dns.question.name");
  });

  it("holds no iam or driver events in the tables the target reads", () => {
    expect(refusal('iam where event.type == "user" and event.type == "creation"')).toBe("construct category iam");
    expect(refusal('driver where event.action == "loaded-kernel-module"')).toBe("construct category driver");
  });
});

describe.skipIf(!existsSync(pairedLog))("the real user and group of a process", () => {
  // The paired corpus's one record from a POSIX device (macOS, DeviceNetworkEvents, telemetryd_v2): its
  // AdditionalFields carry InitiatingProcessPosixEffectiveUser, InitiatingProcessPosixEffectiveGroup and
  // InitiatingProcessPosixRealUser, and no real group.
  const posix = readFileSync(pairedLog, "utf8")
    .split("\n")
    .filter((l) => l.includes("InitiatingProcessPosixRealUser"))
    .map((l) => {
      const props = (JSON.parse(l) as { properties: { AdditionalFields: unknown } }).properties;
      const extra = props.AdditionalFields;
      return Object.keys(typeof extra === "string" ? (JSON.parse(extra) as object) : (extra as object));
    });

  it("records a real user but no real group", () => {
    expect(posix).toHaveLength(1);
    const keys = posix[0] ?? [];
    expect(keys).toContain("InitiatingProcessPosixRealUser");
    expect(keys).toContain("InitiatingProcessPosixEffectiveGroup");
    expect(keys.filter((k) => /RealGroup/i.test(k))).toEqual([]);
  });

  it("refuses the real group, and the rules that test it with the real user", () => {
    for (const field of ["group.Ext.real.id", "process.real_group.id"]) {
      expect(refusal(`process where ${field} == "0"`), field).toBe(`field ${field}`);
    }
    // discovery_suid_sguid_enumeration and four other rules: `not user.Ext.real.id == "0" and not group.Ext.real.id == "0"`.
    expect(refusal('process where not user.Ext.real.id == "0" and not group.Ext.real.id == "0"')).toMatch(
      /^field (user|group)\.Ext\.real\.id$/,
    );
  });
});
