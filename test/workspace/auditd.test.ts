/**
 * The project's auditd parser function (kql/functions/ShmhuntAuditd.kql, written by the translator) run in the
 * local engine over raw audit records in Syslog: it exercises let-bound tables, joins on several keys,
 * mv-apply, extract_all, replace_regex, url_decode, arg_max and user-defined scalar functions together.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { openWorkspace, toRecords } from "../../src/workspace/index.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const parser = path.join(repo, "kql", "functions", "ShmhuntAuditd.kql");
const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-ws-auditd-"));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const line = (time: string, message: string) =>
  JSON.stringify({
    TimeGenerated: time,
    Computer: "web-1",
    HostName: "web-1",
    Facility: "authpriv",
    SyslogMessage: message,
  });

describe.skipIf(!existsSync(parser))("ShmhuntAuditd in the local engine", () => {
  it("turns SYSCALL/EXECVE/CWD/PATH records into one row per audit event", async () => {
    mkdirSync(path.join(dir, "functions"));
    copyFileSync(parser, path.join(dir, "functions", "ShmhuntAuditd.kql"));
    const t0 = "2024-01-01T11:00:00Z";
    writeFileSync(
      path.join(dir, "Syslog.ndjson"),
      [
        line(
          t0,
          'type=SYSCALL msg=audit(1704106800.123:42): arch=c000003e syscall=59 success=yes exit=0 a0=55d a1=55e a2=55f a3=0 items=2 ppid=100 pid=4242 auid=0 uid=0 gid=0 euid=0 tty=pts0 ses=1 comm="kworker" exe="/dev/shm/kworker" key="shm"',
        ),
        line(
          t0,
          'type=EXECVE msg=audit(1704106800.123:42): argc=3 a0="/dev/shm/kworker" a1="-d" a2=2D2D666F6F20626172',
        ),
        line(t0, 'type=CWD msg=audit(1704106800.123:42): cwd="/root"'),
        line(
          t0,
          'type=PATH msg=audit(1704106800.123:42): item=0 name="/dev/shm/kworker" inode=1 dev=00:1a mode=0100755 nametype=NORMAL',
        ),
        line(
          "2024-01-01T11:00:01Z",
          'type=SYSCALL msg=audit(1704106801.000:43): arch=c000003e syscall=29 success=yes exit=5 a0=82015f0d a1=40 a2=3b6 a3=0 items=0 ppid=1 pid=4242 auid=0 uid=0 gid=0 euid=0 tty=(none) comm="kworker" exe="/dev/shm/kworker" key="shm"',
        ),
      ].join("\n"),
    );
    const ws = await openWorkspace(dir);
    const rows = toRecords(
      await ws.query(
        "ShmhuntAuditd() | project SyscallName, Exe, Args, CommandLine, Cwd, FilePath, EventCategory, EventType, A0, A1, A2, Pid, Uid | sort by SyscallName asc",
      ),
    );
    expect(rows).toEqual([
      {
        SyscallName: "execve",
        Exe: "/dev/shm/kworker",
        Args: ["/dev/shm/kworker", "-d", "--foo bar"],
        CommandLine: "/dev/shm/kworker -d --foo bar",
        Cwd: "/root",
        FilePath: "/dev/shm/kworker",
        EventCategory: "process",
        EventType: "start",
        A0: "55d",
        A1: "55e",
        A2: "55f",
        Pid: 4242,
        Uid: "0",
      },
      {
        SyscallName: "shmget",
        Exe: "/dev/shm/kworker",
        Args: null,
        CommandLine: "",
        Cwd: "",
        FilePath: "",
        // go-libaudit aucoalesce/normalizations.yaml does not list shmget: its catch-all (`syscalls: - '*'`,
        // ecs-process) files it as category process, type info.
        EventCategory: "process",
        EventType: "info",
        A0: "82015f0d",
        A1: "40",
        A2: "3b6",
        Pid: 4242,
        Uid: "0",
      },
    ]);
  });
});
