/**
 * The evaluator (src/eql, the reference for what a rule means) and the generated KQL (run by the local workspace
 * engine, src/workspace) agree on the seed rules: the same positive and negative events, written once as ECS
 * documents and once as rows of each target's tables (Defender, ASIM, auditd records in Syslog), match the same.
 * Exclusions come from the rule's [shmhunt.exclusions] as a watchlist for KQL, and as data applied to the
 * evaluator's hits here (as the local hunt does).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { exclusionWatchlists } from "../../src/app/local-queries.js";
import { evaluate } from "../../src/eql/index.js";
import { translateRule } from "../../src/kql/index.js";
import { loadRuleFile } from "../../src/rules/index.js";
import type { ExclusionItem, LoadedRule, Target } from "../../src/rules/types.js";
import { functionWithBody, REGISTRY } from "../../src/targets/index.js";
import { openWorkspace, toRecords } from "../../src/workspace/index.js";

const repo = path.resolve(import.meta.dirname, "../..");
const work = mkdtempSync(path.join(tmpdir(), "shmhunt-kql-agree-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const iso = (id: number) => new Date(T0 + id * 1000).toISOString();
const base = (p: string) => p.split("/").pop() ?? "";
const userOf = (uid: string) => (uid === "0" ? "root" : "alice");

/** One event in every representation; `targets` says where its telemetry exists. */
interface Case {
  readonly id: number;
  readonly targets: readonly Target[];
  readonly ecs: Record<string, unknown>;
  readonly defender?: { readonly table: string; readonly row: Record<string, unknown> };
  readonly asim?: { readonly table: string; readonly row: Record<string, unknown> };
  readonly syslog?: readonly string[];
}

// ── auditd record text ──────────────────────────────────────────────────────

function auditExec(
  serial: number,
  pid: number,
  ppid: number,
  uid: string,
  exe: string,
  argv: readonly string[],
  atMs = T0 + serial * 1000,
): string[] {
  const ts = `${(atMs / 1000).toFixed(3)}:${serial}`;
  return [
    // auditd's ENRICHED format appends the names after a 0x1D separator, as in the paired corpus's
    // test-auditd-enriched.log line 4 (`key="delete"\x1dARCH=x86_64 SYSCALL=unlink AUID="…" UID="…" …`).
    `type=SYSCALL msg=audit(${ts}): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=2 ppid=${ppid} pid=${pid} auid=${uid} uid=${uid} gid=${uid} euid=${uid} tty=pts0 ses=1 comm="${base(exe).slice(0, 15)}" exe="${exe}" key=(null)\x1dARCH=x86_64 SYSCALL=execve AUID="${userOf(uid)}" UID="${userOf(uid)}" EUID="${userOf(uid)}"`,
    `type=EXECVE msg=audit(${ts}): argc=${argv.length} ${argv.map((a, i) => `a${i}=${/[\s"]/.test(a) ? Buffer.from(a).toString("hex").toUpperCase() : `"${a}"`}`).join(" ")}`,
    `type=CWD msg=audit(${ts}): cwd="/root"`,
    `type=PATH msg=audit(${ts}): item=0 name="${exe}" inode=1 dev=00:1a mode=0100755 nametype=NORMAL`,
  ];
}

// A file creation as creat(2): go-libaudit aucoalesce/normalizations.yaml (Elastic's auditd normalisation) files
// creat as `type: creation`, while open/openat, even with O_CREAT, are `ecs: *ecs-file` (type info).
function auditCreate(serial: number, comm: string, file: string): string[] {
  const ts = `${(T0 + serial * 1000) / 1000}.000:${serial}`;
  return [
    `type=SYSCALL msg=audit(${ts}): arch=c000003e syscall=85 success=yes exit=3 a0=55d a1=1b6 a2=0 a3=0 items=2 ppid=1 pid=${3000 + serial} auid=0 uid=0 gid=0 euid=0 tty=(none) ses=1 comm="${comm}" exe="/usr/bin/${comm}" key=(null)`,
    `type=CWD msg=audit(${ts}): cwd="/"`,
    `type=PATH msg=audit(${ts}): item=0 name="${path.dirname(file)}/" inode=2 dev=00:1a mode=041777 nametype=PARENT`,
    `type=PATH msg=audit(${ts}): item=1 name="${file}" inode=3 dev=00:1a mode=0100644 nametype=CREATE`,
  ];
}

function auditShmget(serial: number, comm: string, a0: string, a1: string, a2: string): string[] {
  const ts = `${(T0 + serial * 1000) / 1000}.000:${serial}`;
  return [
    `type=SYSCALL msg=audit(${ts}): arch=c000003e syscall=29 success=yes exit=5 a0=${a0} a1=${a1} a2=${a2} a3=0 items=0 ppid=1 pid=${3000 + serial} auid=0 uid=0 gid=0 euid=0 tty=(none) ses=1 comm="${comm}" exe="/usr/bin/${comm}" key=(null)`,
  ];
}

// ── shm-execution: process starts ───────────────────────────────────────────

function execCase(id: number, exe: string, uid: string, parentCmd: string): Case {
  const pid = 2000 + id;
  const ppid = 1000 + id;
  const user = userOf(uid);
  const cmd = `${exe} -d`;
  const parentArgv = parentCmd.split(" ");
  return {
    id,
    targets: ["defender", "asim", "auditd"],
    ecs: {
      id,
      "@timestamp": iso(id),
      event: { category: ["process"], type: ["start"], action: "exec" },
      host: { os: { type: "linux" }, name: "web-1", id: "h1" },
      user: { id: uid, name: user },
      process: { executable: exe, name: base(exe), pid, command_line: cmd, parent: { command_line: parentCmd } },
    },
    defender: {
      table: "DeviceProcessEvents",
      row: {
        ReportId: id,
        Timestamp: iso(id),
        TimeGenerated: iso(id),
        DeviceId: "h1",
        DeviceName: "web-1",
        ActionType: "ProcessCreated",
        FolderPath: exe,
        FileName: base(exe),
        ProcessCommandLine: cmd,
        ProcessId: pid,
        AccountName: user,
        InitiatingProcessCommandLine: parentCmd,
        InitiatingProcessFileName: base(parentArgv[0] ?? ""),
      },
    },
    asim: {
      table: "_Im_ProcessEvent",
      row: {
        EventUid: String(id),
        TimeGenerated: iso(id),
        DvcOs: "Linux",
        DvcHostname: "web-1",
        EventType: "ProcessCreated",
        TargetProcessName: exe,
        TargetProcessFilename: base(exe),
        TargetProcessCommandLine: cmd,
        TargetProcessId: String(pid),
        TargetUserId: uid,
        TargetUsername: user,
        ActingProcessCommandLine: parentCmd,
        ActingProcessName: parentArgv[0],
      },
    },
    syslog: [
      // the parent's exec, half a second before the child's (a parent execs before its child does)
      ...auditExec(500 + id, ppid, 1, "0", parentArgv[0] ?? "", parentArgv, T0 + id * 1000 - 500),
      ...auditExec(id, pid, ppid, uid, exe, [exe, "-d"]),
    ],
  };
}

const executionCases: Case[] = [
  execCase(1, "/dev/shm/kworker", "0", "/bin/bash"),
  execCase(2, "/run/shm/x", "0", "/bin/sh -c /run/shm/x"),
  execCase(3, "/var/lock/.cache/y", "0", "/usr/sbin/cron -f"),
  execCase(4, "/dev/shm/kworker", "1000", "/bin/bash"), // not root
  execCase(5, "/var/run/docker/runtime/x", "0", "/usr/bin/containerd"), // excluded path
  execCase(6, "/dev/shm/z", "0", "/usr/bin/runc init"), // upstream: excluded parent; the seed has no such exclusion
  execCase(7, "/tmp/kworker", "0", "/bin/bash"), // not a shared-memory directory
  execCase(8, "/DEV/SHM/upper", "0", "/bin/bash"), // upstream `like` is case-sensitive; the seed's `:` is not
  execCase(9, "/dev/shm/a.b/sandfly", "0", "/bin/bash"), // upstream: excluded by a wildcard
  execCase(10, "/dev/shm/a.b/SANDFLY", "0", "/bin/bash"), // upstream `:` is case-insensitive: excluded too
];

// ── shm-creation: files written in shared memory, shmget calls ──────────────

function fileCase(id: number, file: string, comm: string, change: boolean, targets: readonly Target[]): Case {
  return {
    id,
    targets,
    ecs: {
      id,
      "@timestamp": iso(id),
      event: {
        category: ["file"],
        type: [change ? "change" : "creation"],
        action: change ? "modification" : "creation",
      },
      host: { os: { type: "linux" }, name: "web-1" },
      file: { path: file, name: base(file) },
      process: { name: comm, executable: `/usr/bin/${comm}` },
    },
    defender: {
      table: "DeviceFileEvents",
      row: {
        ReportId: id,
        Timestamp: iso(id),
        TimeGenerated: iso(id),
        DeviceName: "web-1",
        ActionType: change ? "FileModified" : "FileCreated",
        FolderPath: file,
        FileName: base(file),
        InitiatingProcessFileName: comm,
        InitiatingProcessFolderPath: `/usr/bin/${comm}`,
      },
    },
    asim: {
      table: "_Im_FileEvent",
      row: {
        EventUid: String(id),
        TimeGenerated: iso(id),
        DvcOs: "Linux",
        DvcHostname: "web-1",
        EventType: change ? "FileModified" : "FileCreated",
        TargetFilePath: file,
        TargetFileName: base(file),
        ActingProcessName: `/usr/bin/${comm}`,
      },
    },
    syslog: change ? [] : auditCreate(id, comm, file),
  };
}

function shmgetCase(id: number, comm: string, a0: string, a1: string, a2: string): Case {
  return {
    id,
    targets: ["auditd"],
    ecs: {
      id,
      "@timestamp": iso(id),
      event: { category: ["process"], type: ["info"], action: "called-shmget" },
      host: { os: { type: "linux" }, name: "web-1" },
      process: { name: comm, executable: `/usr/bin/${comm}` },
      auditd: { data: { syscall: "shmget", a0, a1, a2 } },
    },
    syslog: auditShmget(id, comm, a0, a1, a2),
  };
}

const all: readonly Target[] = ["defender", "asim", "auditd"];
const creationCases: Case[] = [
  fileCase(21, "/dev/shm/payload", "curl", false, all),
  fileCase(22, "/dev/shm/x", "apt", false, all), // excluded (==)
  fileCase(23, "/dev/shm/x", "APT", false, all), // == is case-sensitive: not excluded
  fileCase(24, "/run/shm/q", "qemu-system-x86_64", false, all), // excluded (: wildcard)
  fileCase(25, "/run/shm/q", "Qemu-System-arm", false, all), // : is case-insensitive: excluded
  fileCase(26, "/tmp/x", "curl", false, all), // not shared memory
  fileCase(27, "/run/shm/y", "python3", true, ["defender", "asim"]), // a change
  shmgetCase(31, "kworker", "82015f0d", "40", "3b6"),
  shmgetCase(32, "kworker", "1234", "40", "3B6"), // size and flags match (hex case ignored)
  shmgetCase(33, "kworker", "1234", "40", "1b6"),
  shmgetCase(34, "ipcs", "82015f0d", "40", "3b6"), // excluded
];

// ── running both sides ──────────────────────────────────────────────────────

function wildcardMatch(pattern: string, value: string): boolean {
  const re = pattern
    .replace(/[\\^$.|+()[\]{}]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`, "is").test(value);
}

function excluded(items: readonly ExclusionItem[], ecs: Record<string, unknown>): boolean {
  return items.some((item) => {
    const value = item.field.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], ecs);
    if (typeof value !== "string") return false;
    return item.values.some((v) => (item.operator === "==" ? v === value : wildcardMatch(v, value)));
  });
}

function evaluatorIds(rule: LoadedRule, cases: readonly Case[]): number[] {
  const ast = rule.query?.ast;
  if (!ast) throw new Error("rule has no query");
  const items = rule.settings.exclusions?.items ?? [];
  const hits = evaluate(
    ast,
    cases.map((c) => c.ecs),
  ).flatMap((m) => m.events as Record<string, unknown>[]);
  return hits
    .filter((e) => !excluded(items, e))
    .map((e) => e.id as number)
    .sort((a, b) => a - b);
}

async function kqlIds(rule: LoadedRule, target: Target, cases: readonly Case[]): Promise<number[]> {
  const t = translateRule(rule, target);
  expect(t.refused, t.refused?.message).toBeUndefined();
  expect(t.diagnostics).toEqual([]);
  const dir = mkdtempSync(path.join(work, `${target}-`));
  const tables = new Map<string, string[]>();
  for (const c of cases) {
    const rows: { table: string; line: string }[] =
      target === "auditd"
        ? (c.syslog ?? []).map((m) => ({
            table: "Syslog",
            line: JSON.stringify({ TimeGenerated: iso(c.id), Computer: "web-1", HostName: "web-1", SyslogMessage: m }),
          }))
        : [c[target]].filter((x) => x !== undefined).map((x) => ({ table: x.table, line: JSON.stringify(x.row) }));
    for (const { table, line } of rows) tables.set(table, [...(tables.get(table) ?? []), line]);
  }
  for (const [table, lines] of tables) writeFileSync(path.join(dir, `${table}.ndjson`), `${lines.join("\n")}\n`);
  const exclusions = rule.settings.exclusions;
  const ws = await openWorkspace(dir, {
    functions: REGISTRY.auditd.functions.map(functionWithBody),
    ...(exclusions ? { watchlists: exclusionWatchlists([rule]) } : {}),
  });
  const rows = toRecords(await ws.query(t.kql ?? ""));
  const idOf = (r: Record<string, unknown>): number =>
    target === "defender"
      ? Number(r.ReportId)
      : target === "asim"
        ? Number(r.EventUid)
        : Number(String(r.AuditEventId).split(":")[1]);
  return rows.map(idOf).sort((a, b) => a - b);
}

mkdirSync(work, { recursive: true });

// Expected ids: the seed's reading (DESIGN.md: root by user.name, `:` case-insensitive, only /var/run/docker/*
// excluded) for shm-execution; the upstream file's exclusions for shm-execution-upstream.
describe.each([
  ["shm-execution", executionCases, [1, 2, 3, 6, 8, 9, 10]],
  ["shm-execution-upstream", executionCases, [1, 2, 3]],
  ["shm-creation", creationCases, [21, 23, 27, 31, 32]],
] as const)("%s: evaluator and KQL agree", (stem, cases, expectedAll) => {
  for (const target of all) {
    it(target, async () => {
      const { rule } = await loadRuleFile(path.join(repo, "rules", `${stem}.toml`));
      if (!rule) throw new Error(`rules/${stem}.toml did not load`);
      const mine = cases.filter((c) => c.targets.includes(target));
      const reference = evaluatorIds(rule, mine);
      expect(reference).toEqual(expectedAll.filter((id) => mine.some((c) => c.id === id)));
      expect(await kqlIds(rule, target, mine)).toEqual(reference);
    });
  }
});
