/**
 * Receives a sample from a stream into a temporary file: streamed (never buffered whole), size-limited, and
 * hashed while it flows. The claimed SHA-256, when given, is checked before the sample is accepted.
 *
 * Nothing is opened before the source is known to be a byte stream. Whatever ends the upload (its end, an error,
 * the sender going away: `aborted`/`close` without `end`), the file is closed (stream.pipeline) and the temporary
 * directory removed before the promise settles, so a cut upload leaks neither a descriptor nor a directory.
 */
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, readFileSync, readlinkSync } from "node:fs";
import { lstat, mkdtemp, readdir, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { pipeline } from "node:stream/promises";

export const SHA256_PATTERN = /^[0-9a-f]{64}$/;

/** Temporary directories of the spool are named `<prefix><owner>-<random>` (the owner lets a later start clean them). */
export const SPOOL_PREFIX = "shmhunt-spool-";

export interface SpoolOptions {
  readonly maxBytes: number;
  /** The hash the sender claims (hex); the upload fails unless the content has it. */
  readonly claimedSha256?: string;
  /** Where temporary files go; os.tmpdir() by default. */
  readonly tmpDir?: string;
}

export interface SpooledSample {
  readonly path: string;
  readonly sha256: string;
  /** Defender often names a file by SHA-1 or MD5 only: every sample is indexed by all three (sample-index.ts). */
  readonly sha1: string;
  readonly md5: string;
  readonly size: number;
  /** Deletes the temporary file. */
  cleanup(): Promise<void>;
}

export type SampleErrorCode =
  | "SAMPLE_TOO_LARGE"
  | "SAMPLE_HASH_MISMATCH"
  | "SAMPLE_BAD_HASH"
  | "SAMPLE_EMPTY"
  | "SAMPLE_NOT_BYTES"
  | "SAMPLE_INCOMPLETE"
  | "SAMPLE_NO_SPACE";

/** A sample refused for what it is (too large, wrong hash): the sender's fault, reported as such. */
export class SampleError extends Error {
  constructor(
    readonly code: SampleErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "SampleError";
  }
}

export function normaliseSha256(value: string, field = "sha256"): string {
  const lower = value.trim().toLowerCase();
  if (!SHA256_PATTERN.test(lower)) throw new SampleError("SAMPLE_BAD_HASH", `${field} must be 64 hex digits`);
  return lower;
}

function isByteStream(value: unknown): value is NodeJS.ReadableStream {
  const stream = value as { on?: unknown; once?: unknown; pause?: unknown; resume?: unknown } | null;
  return (
    typeof stream === "object" &&
    stream !== null &&
    typeof stream.on === "function" &&
    typeof stream.once === "function" &&
    typeof stream.pause === "function" &&
    typeof stream.resume === "function"
  );
}

/** The temporary folder's disk or quota is full, or the file size limit is reached (RLIMIT_FSIZE): not the sender's fault. */
function noSpace(error: unknown): SampleError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== "ENOSPC" && code !== "EDQUOT" && code !== "EFBIG") return undefined;
  return new SampleError("SAMPLE_NO_SPACE", `no room for the sample in the temporary folder (${code})`);
}

export async function spoolSample(source: unknown, options: SpoolOptions): Promise<SpooledSample> {
  // Checked before anything is opened: a body that is not a byte stream costs no descriptor.
  if (!isByteStream(source)) throw new SampleError("SAMPLE_NOT_BYTES", "the sample must be sent as raw bytes");
  const claimed = options.claimedSha256 === undefined ? undefined : normaliseSha256(options.claimedSha256);
  const folder = options.tmpDir ?? tmpdir();
  sweepIfDue(folder);
  const dir = await mkdtemp(path.join(folder, ownerPrefix(me()))).catch((error: unknown) => {
    throw noSpace(error) ?? error;
  });
  hold(dir);
  const file = path.join(dir, randomBytes(8).toString("hex"));
  const cleanup = () => {
    release(dir);
    return rm(dir, { recursive: true, force: true });
  };
  const hash = createHash("sha256");
  const sha1 = createHash("sha1");
  const md5 = createHash("md5");
  let size = 0;
  try {
    // The file side is a pipeline: whichever way it ends, the descriptor is closed when it settles.
    const sink = new PassThrough();
    const writing = pipeline(sink, createWriteStream(file, { flags: "wx", mode: 0o600 }));
    const received = new Promise<void>((resolve, reject) => {
      let settled = false;
      const detach = () => {
        source.removeListener("data", onData);
        source.removeListener("end", onEnd);
        source.removeListener("error", fail);
        source.removeListener("aborted", onCut);
        source.removeListener("close", onCut);
        sink.removeListener("drain", onDrain);
      };
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        detach();
        // Stop storing but keep the source flowing (its bytes are dropped), so an HTTP caller can still be
        // answered 413; the source is not destroyed here, its owner closes it.
        source.resume();
        sink.destroy(error instanceof Error ? error : new Error(String(error)));
        reject(error);
      };
      const onCut = () => fail(new SampleError("SAMPLE_INCOMPLETE", "the upload ended before its last byte"));
      const onEnd = () => {
        if (settled) return;
        settled = true;
        detach();
        sink.end();
        resolve();
      };
      const onDrain = () => source.resume();
      const onData = (chunk: Buffer | string) => {
        const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
        size += bytes.length;
        if (size > options.maxBytes) {
          fail(new SampleError("SAMPLE_TOO_LARGE", `sample exceeds the limit of ${options.maxBytes} bytes`));
          return;
        }
        hash.update(bytes);
        sha1.update(bytes);
        md5.update(bytes);
        if (!sink.write(bytes)) {
          source.pause();
          sink.once("drain", onDrain);
        }
      };
      source.on("data", onData);
      source.once("end", onEnd);
      source.once("error", fail);
      source.once("aborted", onCut);
      source.once("close", onCut);
      // The file refusing a write (a full disk, EFBIG) ends the upload too: a paused source would wait for a drain
      // of the destroyed sink that never comes.
      writing.catch(fail);
      // A source already finished or destroyed before we listened would never emit again.
      const state = source as { destroyed?: boolean; readableEnded?: boolean };
      if (state.readableEnded) onEnd();
      else if (state.destroyed) onCut();
    });
    // Both must settle: a failed upload waits for the file to be closed before its directory goes.
    const [receivedResult, writingResult] = await Promise.allSettled([received, writing]);
    if (receivedResult.status === "rejected") throw receivedResult.reason;
    if (writingResult.status === "rejected") throw writingResult.reason;
  } catch (error) {
    await cleanup();
    throw noSpace(error) ?? error;
  }
  const sha256 = hash.digest("hex");
  if (claimed !== undefined && claimed !== sha256) {
    await cleanup();
    throw new SampleError("SAMPLE_HASH_MISMATCH", `content has sha256 ${sha256}, not the claimed ${claimed}`);
  }
  return { path: file, sha256, sha1: sha1.digest("hex"), md5: md5.digest("hex"), size, cleanup };
}

/**
 * Who owns a spool folder, written into its name (`<prefix><pid>.<start>.<pidns>.<boot>-<random>`): the process id,
 * its start time (clock ticks since boot, /proc/<pid>/stat field 22: a later process reusing the id, as a restarted
 * container's pid 1 does, has another), its pid namespace and the machine's boot. "x" where /proc does not say.
 */
interface Owner {
  readonly pid: number;
  readonly start: string;
  readonly ns: string;
  readonly boot: string;
}

/**
 * A live spool folder's lease: its process renews it (the folder's modification time) this often while the sample
 * is held, so that a process that cannot see the owner (another pid namespace, a container sharing the folder;
 * another machine) keeps the folder until the lease has lapsed.
 */
export const SPOOL_LEASE_RENEW_MS = 15_000;
/** A folder whose owner this process cannot see is stale once its lease is older than this. */
export const SPOOL_LEASE_MS = 120_000;

const OWNER_NAME = new RegExp(`^${SPOOL_PREFIX}(\\d+)\\.(\\w+)\\.(\\w+)\\.(\\w+)-`);

function readProc(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** The start time of process `pid` as /proc says (field 22 of its stat; the name in field 2 may hold spaces). */
function startOf(pid: number): string | undefined {
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

function ownerPrefix(owner: Owner): string {
  return `${SPOOL_PREFIX}${owner.pid}.${owner.start}.${owner.ns}.${owner.boot}-`;
}

/** Whether the owner of a spool folder (last renewed at `renewedMs`) may still hold it. */
function ownerMayRun(owner: Owner, renewedMs: number, now: number): boolean {
  const here = me();
  // Another pid namespace or machine: its processes are out of sight, so only the lease tells.
  if (owner.ns !== here.ns || owner.boot !== here.boot || here.ns === "x") {
    return here.ns === "x" && owner.ns === "x" ? isRunning(owner.pid) : now - renewedMs < SPOOL_LEASE_MS;
  }
  if (owner.pid === here.pid) return owner.start === here.start;
  const start = startOf(owner.pid);
  return start !== undefined && start === owner.start;
}

/** Spool folders this process holds now, whose leases it renews. */
const held = new Set<string>();
let renewal: NodeJS.Timeout | undefined;

function hold(dir: string): void {
  held.add(dir);
  renewal ??= setInterval(() => void renewLeases(), SPOOL_LEASE_RENEW_MS).unref();
}

function release(dir: string): void {
  held.delete(dir);
  if (held.size === 0 && renewal !== undefined) {
    clearInterval(renewal);
    renewal = undefined;
  }
}

/** Renews the lease of every spool folder this process holds (exported for tests: the timer calls it). */
export async function renewLeases(now = new Date()): Promise<void> {
  await Promise.all([...held].map((dir) => utimes(dir, now, now).catch(() => undefined)));
}

/** Folders swept at start, with when they were last swept: swept again when a lease may have lapsed. */
const sweeps = new Map<string, number>();

function sweepIfDue(dir: string): void {
  const last = sweeps.get(dir);
  if (last !== undefined && Date.now() - last >= SPOOL_LEASE_MS) void removeStaleSpools(dir).catch(() => undefined);
}

/**
 * Removes the spool folders left in `dir` by processes that are gone (a kill, a full disk, a restart): a folder
 * whose owner runs is left alone (see `ownerMayRun`; a folder of another pid namespace until its lease lapses), and
 * so is anything not named as a spool folder, not a directory (a link), or not this user's. Called at start; a
 * folder swept once is swept again, when due, as samples are spooled. Returns the names removed.
 */
export async function removeStaleSpools(dir: string = tmpdir()): Promise<string[]> {
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
