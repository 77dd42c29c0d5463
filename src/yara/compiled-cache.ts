/**
 * A per-user cache of compiled rule sets, for one-shot runs (`shmhunt scan`): a rule set compiled once is kept as
 * YARA-X's serialised form with its compiler warnings, so the next run with the same rule sources, externals and
 * binding neither loads YARA-X in the CLI process nor validates and compiles again.
 *
 * Serialised rules hold compiled code that YARA-X loads as it is, so the cache is private: a directory of the
 * user's own (`$XDG_CACHE_HOME/shmhunt/yara`, else `~/.cache/shmhunt/yara`, created 0700), entries written 0600
 * and renamed into place, and an entry is used only when it is a regular file (not followed through a symlink)
 * owned by this user and not readable or writable by anyone else, in a directory no one else can write, and its
 * bytes hash to the digest it carries. Anything else is a miss (the rules compile as without a cache).
 */
import { createHash, randomUUID } from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import type { Diagnostic } from "../diagnostics/index.js";

export interface CachedRules {
  readonly serialized: Uint8Array;
  readonly warnings: readonly Diagnostic[];
}

/** The pinned binding whose serialised form the cache holds (from its package.json: the binding is not loaded). */
const PINNED = "@litko/yara-x-linux-x64-gnu";

/** The cache key of a rule set (its id) for the installed binding; undefined when there is no pinned binding. */
export function cacheKey(rulesetId: string): string | undefined {
  if (`${process.platform}-${process.arch}` !== "linux-x64") return undefined;
  try {
    const version = (createRequire(import.meta.url)(`${PINNED}/package.json`) as { version: string }).version;
    return createHash("sha256").update(`${PINNED}@${version}\0${rulesetId}`).digest("hex");
  } catch {
    return undefined;
  }
}

function cacheDir(): string | undefined {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.isAbsolute(base) ? path.join(base, "shmhunt", "yara") : undefined;
}

const uid = () => (typeof process.getuid === "function" ? process.getuid() : -1);

function privateDir(dir: string): boolean {
  const info = statSync(dir, { throwIfNoEntry: false });
  return info?.isDirectory() === true && info.uid === uid() && (info.mode & 0o022) === 0;
}

/** The entry for `key`, or undefined (absent, not private, or damaged). Never throws. */
export function readCachedRules(key: string): CachedRules | undefined {
  const dir = cacheDir();
  if (!dir || !privateDir(dir)) return undefined;
  let fd: number | undefined;
  try {
    fd = openSync(path.join(dir, `${key}.rules`), constants.O_RDONLY | constants.O_NOFOLLOW);
    const info = fstatSync(fd);
    if (!info.isFile() || info.uid !== uid() || (info.mode & 0o077) !== 0) return undefined;
    const bytes = readFileSync(fd);
    const headerLength = bytes.readUInt32LE(0);
    const header = JSON.parse(bytes.subarray(4, 4 + headerLength).toString("utf8")) as {
      sha256: string;
      warnings: Diagnostic[];
    };
    const serialized = bytes.subarray(4 + headerLength);
    if (createHash("sha256").update(serialized).digest("hex") !== header.sha256) return undefined;
    return { serialized: new Uint8Array(serialized), warnings: header.warnings };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Stores an entry (best effort: a cache that cannot be written is no error). */
export function writeCachedRules(key: string, entry: CachedRules): void {
  const dir = cacheDir();
  if (!dir) return;
  const temp = path.join(dir, `${key}.${randomUUID()}.tmp`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!privateDir(dir)) return;
    const header = Buffer.from(
      JSON.stringify({
        sha256: createHash("sha256").update(entry.serialized).digest("hex"),
        warnings: entry.warnings,
      }),
    );
    const length = Buffer.alloc(4);
    length.writeUInt32LE(header.length, 0);
    writeFileSync(temp, Buffer.concat([length, header, entry.serialized]), { mode: 0o600, flag: "wx" });
    renameSync(temp, path.join(dir, `${key}.rules`));
  } catch {
    rmSync(temp, { force: true });
  }
}
