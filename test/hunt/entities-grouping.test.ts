/**
 * Incidents and bookmarks take their entities from the `Entity_*` columns the rule's query computes, and group
 * as the rule's analytics rule does. The rows are real: auditd records (the Linux audit record format, in
 * ENRICHED log format) in Syslog, run through the seed rule's auditd query by the local workspace engine, hunted
 * by the real hunt with the local alert writer.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalWorkspaceQueryRunner } from "../../src/app/local-queries.js";
import { entitiesOf } from "../../src/hunt/alert-request.js";
import { huntRuleOf } from "../../src/hunt/from-rule.js";
import { HuntState } from "../../src/hunt/hunt-state.js";
import { LocalAlertWriter } from "../../src/hunt/local-alerts.js";
import { runPlan } from "../../src/hunt/run.js";
import type { HuntPlan } from "../../src/hunt/types.js";
import { translateRule } from "../../src/kql/index.js";
import { loadRuleFile } from "../../src/rules/index.js";
import type { LoadedRule } from "../../src/rules/types.js";
import { functionFile } from "../../src/targets/index.js";
import { localStores } from "../support/local-stores.js";

const repo = path.resolve(import.meta.dirname, "../..");
const work = mkdtempSync(path.join(tmpdir(), "shmhunt-entities-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const localStore = localStores();

const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const MIN = 60_000;

/**
 * An execve of `exe` as auditd logs it: SYSCALL, EXECVE, CWD and PATH records of one event (auditd(8) record
 * types; fields as ausearch-field-dictionary names them). ENRICHED format (auditd.conf(5) `log_format`) appends
 * the resolved names after a 0x1D separator, in upper case: `UID="root"`.
 */
function execRecords(at: number, serial: number, pid: number, user: string, uid: number, exe: string): string[] {
  const ts = `${at / 1000}.000:${serial}`;
  const comm = exe.split("/").pop() ?? "";
  return [
    `type=SYSCALL msg=audit(${ts}): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=1 ppid=1 pid=${pid} auid=${uid} uid=${uid} gid=${uid} euid=${uid} tty=pts0 ses=1 comm="${comm}" exe="${exe}" key=(null)\x1dARCH=x86_64 SYSCALL=execve AUID="${user}" UID="${user}" GID="${user}" EUID="${user}"`,
    `type=EXECVE msg=audit(${ts}): argc=2 a0="${exe}" a1="--now"`,
    `type=CWD msg=audit(${ts}): cwd="/tmp"`,
    `type=PATH msg=audit(${ts}): item=0 name="${exe}" inode=7 dev=00:1a mode=0100755 nametype=NORMAL`,
  ];
}

let rule: LoadedRule;
let kql: string;

beforeAll(async () => {
  const loaded = await loadRuleFile(path.join(repo, "rules/shm-execution.toml"));
  rule = loaded.rule as LoadedRule;
  kql = translateRule(rule, "auditd").kql ?? "";
});

async function hunt(events: readonly { at: number; host: string; pid: number; user: string; uid: number }[]) {
  const dir = mkdtempSync(path.join(work, "ws-"));
  const lines = events.flatMap((e, i) =>
    execRecords(e.at, 100 + i, e.pid, e.user, e.uid, "/dev/shm/kworker").map((m) =>
      JSON.stringify({
        TimeGenerated: new Date(e.at).toISOString(),
        Computer: e.host,
        HostName: e.host,
        SyslogMessage: m,
      }),
    ),
  );
  writeFileSync(path.join(dir, "Syslog.ndjson"), `${lines.join("\n")}\n`);
  mkdirSync(path.join(dir, "functions"));
  copyFileSync(
    functionFile("ShmhuntAuditd"),
    path.join(dir, "functions", path.basename(functionFile("ShmhuntAuditd"))),
  );
  const state = new HuntState(localStore(path.join(dir, "state")));
  const plan: HuntPlan = {
    rule: { ...huntRuleOf(rule), gate: { mode: "none", yaraRules: [], pendingTimeoutMs: 0 } },
    target: "auditd",
    query: kql,
  };
  const end = Math.max(...events.map((e) => e.at)) + 2 * MIN;
  const report = await runPlan(
    { ...plan, rule: { ...plan.rule, lookbackMs: end - T0 + MIN, intervalMs: MIN } },
    {
      state,
      queries: new LocalWorkspaceQueryRunner(dir, async () => ({})),
      alerts: new LocalAlertWriter(state, () => new Date(end)),
      clock: () => new Date(end),
    },
    { force: true },
  );
  expect(report.status, report.error).toBe("completed");
  const incidents = await state.incidents();
  return { report, incidents, bookmarks: (id: string) => state.bookmarks(id) };
}

describe("entities of the hunt's incidents", () => {
  it("come from the query's Entity_* columns: an auditd hit keeps Host, Account, Process and File", async () => {
    const { incidents } = await hunt([{ at: T0 + MIN, host: "web-1", pid: 4242, user: "root", uid: 0 }]);
    expect(incidents).toHaveLength(1);
    const entities = incidents[0]?.evidence.entities;
    expect(entities).toEqual([
      { entityType: "Host", fieldMappings: [{ identifier: "HostName", value: "web-1" }] },
      { entityType: "Account", fieldMappings: [{ identifier: "Name", value: "root" }] },
      {
        entityType: "Process",
        fieldMappings: [
          { identifier: "ProcessId", value: "4242" },
          { identifier: "CommandLine", value: "/dev/shm/kworker --now" },
        ],
      },
      { entityType: "File", fieldMappings: [{ identifier: "Name", value: "kworker" }] },
    ]);
    expect(incidents[0]?.title).toBe(`${rule.name} on web-1`);
  });

  it("reads only Entity_<Type>_<Identifier> columns, and leaves empty ones out", () => {
    expect(
      entitiesOf({ DeviceName: "d", Entity_Host_HostName: "h", Entity_Account_Name: "", Entity_Process_ProcessId: 7 }),
    ).toEqual([
      { entityType: "Host", fieldMappings: [{ identifier: "HostName", value: "h" }] },
      { entityType: "Process", fieldMappings: [{ identifier: "ProcessId", value: "7" }] },
    ]);
  });
});

describe("grouping of the hunt's incidents (group_by = Host, FileHash; grouping_window = 5h)", () => {
  it("hits of the rule on one host within the window share an incident, one bookmark each", async () => {
    expect(rule.settings.analytics.groupBy).toEqual(["Host", "FileHash"]);
    expect(rule.settings.analytics.groupingWindowMs).toBe(5 * 60 * MIN);
    const { report, incidents, bookmarks } = await hunt([
      { at: T0 + 1 * MIN, host: "web-1", pid: 4001, user: "root", uid: 0 },
      { at: T0 + 2 * MIN, host: "web-1", pid: 4002, user: "root", uid: 0 },
      { at: T0 + 3 * MIN, host: "web-1", pid: 4003, user: "root", uid: 0 },
      { at: T0 + 4 * MIN, host: "web-2", pid: 4004, user: "root", uid: 0 },
    ]);
    expect(report.counts.alerted).toBe(4);
    expect(incidents.map((i) => i.title).sort()).toEqual([`${rule.name} on web-1`, `${rule.name} on web-2`]);
    const web1 = incidents.find((i) => i.title.endsWith("web-1"));
    const marks = await bookmarks(web1?.id ?? "");
    expect(marks.map((b) => b.evidence.row.Entity_Process_ProcessId)).toEqual(["4001", "4002", "4003"]);
    expect(report.incidents).toHaveLength(2);
  });

  it("hits further apart than the grouping window get incidents of their own", async () => {
    const { incidents } = await hunt([
      { at: T0 + 1 * MIN, host: "web-1", pid: 4001, user: "root", uid: 0 },
      { at: T0 + 6 * 60 * MIN, host: "web-1", pid: 4002, user: "root", uid: 0 },
    ]);
    expect(incidents).toHaveLength(2);
  });

  it("without group_by, every hit is an incident of its own (as an analytics rule with grouping off)", async () => {
    const original = rule;
    rule = { ...rule, settings: { ...rule.settings, analytics: { ...rule.settings.analytics, groupBy: [] } } };
    try {
      const { incidents } = await hunt([
        { at: T0 + 1 * MIN, host: "web-1", pid: 4001, user: "root", uid: 0 },
        { at: T0 + 2 * MIN, host: "web-1", pid: 4002, user: "root", uid: 0 },
      ]);
      expect(incidents).toHaveLength(2);
    } finally {
      rule = original;
    }
  });
});
