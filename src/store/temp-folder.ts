/**
 * Temporary folders named with their owner, so that a later start can remove what a killed process left behind
 * (issue 12). Every temporary folder of the service is made here: the upload spool (`spool.ts`), the broker's
 * downloads, the blob store's local copies and YARA's large-buffer spool (handed to the scanner by the app).
 *
 * A folder is named `shmhunt-<kind>-<pid>.<start>.<pidns>.<boot>-<random>` (see `Owner`); the start-up sweep
 * (`removeStaleTempFolders`) removes the folders of owners that are gone, and nothing else.
 */
import { readFileSync, readlinkSync } from "node:fs";
import { lstat, mkdtemp, readdir, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

/** The kinds of temporary folder, each its own name prefix `shmhunt-<kind>-`: the one list the sweep knows. */
export const TEMP_KINDS = ["spool", "broker", "blob", "sample"] as const;
export type TempKind = (typeof TEMP_KINDS)[number];

export function tempPrefix(kind: TempKind): string {
  return `shmhunt-${kind}-`;
}

/** A temporary folder this process holds (its lease renewed) until `remove()`. */
export interface TempFolder {
  readonly path: string;
  /** Removes the folder and everything in it, and stops renewing its lease. */
  remove(): Promise<void>;
}

/**
 * Who owns a temporary folder, written into its name (`<prefix><pid>.<start>.<pidns>.<boot>-<random>`): the process
 * id, its start time (clock ticks since boot, /proc/<pid>/stat field 22: a later process reusing the id, as a
 * restarted container's pid 1 does, has another), its pid namespace and the machine's boot. "x" where /proc does not
 * say.
 */
interface Owner {
  readonly pid: number;
  readonly start: string;
  readonly ns: string;
  readonly boot: string;
}

/**
 * A live folder's lease: its process renews it (the folder's modification time) this often while the folder is
 * held, so that a process that cannot see the owner (another pid namespace, a container sharing the folder; another
 * machine) keeps the folder until the lease has lapsed.
 */
export const TEMP_LEASE_RENEW_MS = 15_000;
/** A folder whose owner this process cannot see is stale once its lease is older than this. */
export const TEMP_LEASE_MS = 120_000;

const OWNER_NAME = new RegExp(`^shmhunt-(?:${TEMP_KINDS.join("|")})-(\\d+)\\.(\\w+)\\.(\\w+)\\.(\\w+)-`);

function readProc(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * The start time of process `pid` as /proc says (field 22 of its stat; the name in field 2 may hold spaces);
 * undefined where /proc does not say (no such process, not Linux).
 */
export function startOf(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

function currentOwner(): Owner {
  let ns = "x";
  try {
    ns = /\d+/.exec(readlinkSync("/proc/self/ns/pid"))?.[0] ?? "x";
  } catch {
    // Not Linux: the pid alone says whether the owner runs.
  }
  const boot = readProc("/proc/sys/kernel/random/boot_id")?.replaceAll("-", "").slice(0, 12) ?? "x";
  return { pid: process.pid, start: startOf(process.pid) ?? "x", ns, boot };
}

let self: Owner | undefined;
function me(): Owner {
  self ??= currentOwner();
  return self;
}

function ownerPrefix(kind: TempKind, owner: Owner): string {
  return `${tempPrefix(kind)}${owner.pid}.${owner.start}.${owner.ns}.${owner.boot}-`;
}

/** Whether the owner of a folder (last renewed at `renewedMs`) may still hold it. */
function ownerMayRun(owner: Owner, renewedMs: number, now: number): boolean {
  const here = me();
  // Another pid namespace or machine: its processes are out of sight, so only the lease tells.
  if (owner.ns !== here.ns || owner.boot !== here.boot || here.ns === "x") {
    return here.ns === "x" && owner.ns === "x" ? isRunning(owner.pid) : now - renewedMs < TEMP_LEASE_MS;
  }
  if (owner.pid === here.pid) return owner.start === here.start;
  const start = startOf(owner.pid);
  return start !== undefined && start === owner.start;
}

/** Folders this process holds now, whose leases it renews. */
const held = new Set<string>();
let renewal: NodeJS.Timeout | undefined;

function hold(dir: string): void {
  held.add(dir);
  renewal ??= setInterval(() => void renewLeases(), TEMP_LEASE_RENEW_MS).unref();
}

function release(dir: string): void {
  held.delete(dir);
  if (held.size === 0 && renewal !== undefined) {
    clearInterval(renewal);
    renewal = undefined;
  }
}

/** Renews the lease of every temporary folder this process holds (exported for tests: the timer calls it). */
export async function renewLeases(now = new Date()): Promise<void> {
  await Promise.all([...held].map((dir) => utimes(dir, now, now).catch(() => undefined)));
}

/** Folders swept at start, with when they were last swept: swept again when a lease may have lapsed. */
const sweeps = new Map<string, number>();

function sweepIfDue(dir: string): void {
  const last = sweeps.get(dir);
  if (last !== undefined && Date.now() - last >= TEMP_LEASE_MS) void removeStaleTempFolders(dir).catch(() => undefined);
}

/**
 * Makes a fresh private folder of `kind` in `dir` (os.tmpdir() by default), named with this process as its owner,
 * and holds it (renews its lease) until it is removed. Errors of mkdtemp (a full disk) are the caller's to map.
 */
export async function makeTempFolder(kind: TempKind, dir: string = tmpdir()): Promise<TempFolder> {
  sweepIfDue(dir);
  const folder = await mkdtemp(path.join(dir, ownerPrefix(kind, me())));
  hold(folder);
  return {
    path: folder,
    remove: () => {
      release(folder);
      return rm(folder, { recursive: true, force: true });
    },
  };
}

/**
 * Removes the temporary folders (of every kind in TEMP_KINDS) left in `dir` by processes that are gone (a kill, a
 * full disk, a restart): a folder whose owner runs is left alone (see `ownerMayRun`; a folder of another pid
 * namespace until its lease lapses), and so is anything not named as such a folder, not a directory (a link), or
 * not this user's. Called at start; a folder swept once is swept again, when due, as folders are made there.
 * Returns the names removed.
 */
export async function removeStaleTempFolders(dir: string = tmpdir()): Promise<string[]> {
  const now = Date.now();
  sweeps.set(dir, now);
  const names = await readdir(dir).catch(() => [] as string[]);
  const uid = process.getuid?.();
  const removed: string[] = [];
  for (const name of names) {
    const m = OWNER_NAME.exec(name);
    if (!m) continue;
    const owner: Owner = { pid: Number(m[1]), start: m[2] ?? "", ns: m[3] ?? "", boot: m[4] ?? "" };
    const info = await lstat(path.join(dir, name)).catch(() => undefined);
    if (!info?.isDirectory() || (uid !== undefined && info.uid !== uid)) continue;
    if (ownerMayRun(owner, info.mtimeMs, now)) continue;
    await rm(path.join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Whether a process with this id runs (signal 0 probes without sending anything). */
export function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
