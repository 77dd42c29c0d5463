/**
 * Walks the paths given to a scan and says, for each entry, whether it is a sample to scan or why it is skipped.
 * Directories are walked recursively. Symlinks are followed only when their target stays inside the scanned root
 * (and only to files: a linked directory inside the root is reached by the walk anyway, so no loops). Devices,
 * FIFOs and sockets are skipped, never opened.
 *
 * Two walks, one set of rules: `walkSamples` (asynchronous, for a service whose event loop must stay free) and
 * `walkSamplesSync` (a one-shot CLI run reading on its own thread, where an `await` per directory and a promise per
 * entry cost more than the walk itself: ~45–150 ms against ~15 ms over 2,189 files in 297 folders). Both visit the
 * same entries in the same order and decide each one with the same helpers below.
 *
 * Names are bytes on Linux, and not every name is UTF-8 (malware trees have such names on purpose). A listing is
 * read as text, and again as bytes only when a name did not decode (it then holds U+FFFD): the path that gets
 * opened is then the name's bytes (`FsPath`), while the path reported is its text, U+FFFD and all.
 */
import type { Dirent, Stats } from "node:fs";
import { lstatSync, readdirSync, realpathSync, statSync } from "node:fs";
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { fileSystemReason } from "../diagnostics/index.js";

/** A path as the file system takes it: text, or bytes when a name in it is not UTF-8. */
export type FsPath = string | Buffer;

export type WalkEntry =
  /** `path` as reported; `realPath` is what gets opened. */
  /** `size` is 0 when the walk did not stat the file (the verdict carries the real size). */
  | { readonly kind: "file"; readonly path: string; readonly realPath: FsPath; readonly size: number }
  | { readonly kind: "skip"; readonly path: string; readonly size: number; readonly reason: string }
  | { readonly kind: "error"; readonly path: string; readonly reason: string };

/** Every sample under the given paths, in directory order, as the walk finds them (streaming). */
export async function* walkSamples(paths: readonly string[]): AsyncGenerator<WalkEntry> {
  for (const given of paths) {
    let root: string;
    let info: Stats;
    try {
      root = await realpath(given);
      info = await stat(root);
    } catch (error) {
      yield { kind: "error", path: given, reason: reasonOf(error) };
      continue;
    }
    if (info.isDirectory()) yield* walkDirectory(root, given, root);
    else yield classify(given, root, info);
  }
}

/** `walkSamples` with synchronous system calls and no promise per entry (see the top of this file). */
export function* walkSamplesSync(paths: readonly string[]): Generator<WalkEntry> {
  for (const given of paths) {
    let root: string;
    let info: Stats;
    try {
      root = realpathSync(given);
      info = statSync(root);
    } catch (error) {
      yield { kind: "error", path: given, reason: reasonOf(error) };
      continue;
    }
    if (!info.isDirectory()) {
      yield classify(given, root, info);
      continue;
    }
    // Depth first, files of a folder before its subfolders (as walkSamples): a stack, not nested generators.
    const stack: [FsPath, string][] = [[root, given]];
    for (let next = stack.pop(); next; next = stack.pop()) {
      const [dir, shownDir] = next;
      let listing: Listing;
      try {
        listing = listed(dir, readdirSync(dir, { withFileTypes: true }), () =>
          readdirSync(dir, { withFileTypes: true, encoding: "buffer" }),
        );
      } catch (error) {
        yield { kind: "error", path: shownDir, reason: reasonOf(error) };
        continue;
      }
      const subdirs: [FsPath, string][] = [];
      // path.join per entry normalises the whole path again, character by character: once per folder here.
      const shownPrefix = childPrefix(shownDir);
      const { entries, names, full: fulls } = listing;
      for (const [i, entry] of entries.entries()) {
        const full = fulls[i] as FsPath;
        const shown = shownPrefix + names[i];
        if (entry.isDirectory()) subdirs.push([full, shown]);
        else if (entry.isSymbolicLink()) yield linkEntry(shown, root, resolveLinkSync(full));
        else if (entry.isFile()) yield { kind: "file", path: shown, realPath: full, size: 0 };
        else yield special(entry, shown, lstatSafeSync(full));
      }
      for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i] as [FsPath, string]);
    }
  }
}

/**
 * What `path.join(dir, name)` puts before `name`, for any name a directory listing gives (never empty, `.`, `..`
 * or with a separator): the folder normalised, with one separator after it (none after `.`, which join drops).
 */
function childPrefix(dir: string): string {
  const joined = path.join(dir, "x");
  return joined.slice(0, -1);
}

/** A folder's entries: what each is, its name as text, and the path to open. */
interface Listing {
  readonly entries: readonly Entry[];
  readonly names: readonly string[];
  readonly full: readonly FsPath[];
}

type Entry = Dirent | Dirent<Buffer>;

/**
 * The listing of `dir` from its entries read as text; when one name did not decode (or `dir` is itself bytes), from
 * its entries read as bytes (`asBytes`), so each path opened is the name the folder holds.
 */
function listed(dir: FsPath, entries: Dirent[], asBytes: () => Dirent<Buffer>[]): Listing;
function listed(dir: FsPath, entries: Dirent[], asBytes: () => Promise<Dirent<Buffer>[]>): Promise<Listing>;
function listed(
  dir: FsPath,
  entries: Dirent[],
  asBytes: () => Dirent<Buffer>[] | Promise<Dirent<Buffer>[]>,
): Listing | Promise<Listing> {
  if (typeof dir === "string" && !entries.some((entry) => entry.name.includes("\uFFFD"))) {
    const prefix = childPrefix(dir);
    const names = entries.map((entry) => entry.name);
    return { entries, names, full: names.map((name) => prefix + name) };
  }
  const fromBytes = (raw: Dirent<Buffer>[]): Listing => {
    // A folder as bytes is a name under a real path (absolute, normalised): a separator, then the entry's name.
    const prefix = typeof dir === "string" ? Buffer.from(childPrefix(dir)) : Buffer.concat([dir, Buffer.from("/")]);
    return {
      entries: raw,
      names: raw.map((entry) => entry.name.toString("utf8")),
      full: raw.map((entry) => fsPath(Buffer.concat([prefix, entry.name]))),
    };
  };
  const raw = asBytes();
  return raw instanceof Promise ? raw.then(fromBytes) : fromBytes(raw);
}

/** A path's bytes as the file system takes them: text when they are UTF-8 (they read back the same), else bytes. */
function fsPath(bytes: Buffer): FsPath {
  const text = bytes.toString("utf8");
  return Buffer.byteLength(text) === bytes.length && Buffer.from(text).equals(bytes) ? text : bytes;
}

/** A path as text for messages (not UTF-8: U+FFFD where a byte did not decode). */
function shownPath(p: FsPath): string {
  return typeof p === "string" ? p : p.toString("utf8");
}

/** How many verdicts a scan of these paths gives: one walk, no file opened (for progress totals). */
export async function countSamples(paths: readonly string[]): Promise<number> {
  let count = 0;
  for await (const _entry of walkSamples(paths)) count++;
  return count;
}

async function* walkDirectory(dir: FsPath, shownDir: string, root: string): AsyncGenerator<WalkEntry> {
  // One read per directory (a streamed opendir() costs a promise per entry: most of the parent's time in a scan).
  let listing: Listing;
  try {
    listing = await listed(dir, await readdir(dir, { withFileTypes: true }), () =>
      readdir(dir, { withFileTypes: true, encoding: "buffer" }),
    );
  } catch (error) {
    yield { kind: "error", path: shownDir, reason: reasonOf(error) };
    return;
  }
  const subdirs: [FsPath, string][] = [];
  const { entries, names, full: fulls } = listing;
  for (const [i, entry] of entries.entries()) {
    const full = fulls[i] as FsPath;
    const shown = path.join(shownDir, names[i] as string);
    if (entry.isDirectory()) {
      subdirs.push([full, shown]);
    } else if (entry.isSymbolicLink()) {
      yield linkEntry(shown, root, await resolveLink(full));
    } else if (entry.isFile()) {
      // The worker fstat()s what it opens; no second stat here (size is known once scanned).
      yield { kind: "file", path: shown, realPath: full, size: 0 };
    } else {
      yield special(entry, shown, await lstat(full).catch(() => undefined));
    }
  }
  for (const [full, shown] of subdirs) yield* walkDirectory(full, shown, root);
}

/** Where a symlink leads: its target and what is there; undefined parts when it is broken. */
interface LinkTarget {
  readonly target?: FsPath;
  readonly info?: Stats;
}

async function resolveLink(full: FsPath): Promise<LinkTarget> {
  const bytes = await realpath(full, { encoding: "buffer" }).catch(() => undefined);
  if (bytes === undefined) return {};
  const target = fsPath(bytes);
  const info = await stat(target).catch(() => undefined);
  return info ? { target, info } : { target };
}

function resolveLinkSync(full: FsPath): LinkTarget {
  let target: FsPath;
  try {
    // The native call: Node's own realpathSync reads link targets back as text, losing a name that is not UTF-8.
    target = fsPath(realpathSync.native(full, { encoding: "buffer" }));
  } catch {
    return {};
  }
  const info = statSync(target, { throwIfNoEntry: false });
  return info ? { target, info } : { target };
}

function lstatSafeSync(full: FsPath): Stats | undefined {
  try {
    return lstatSync(full);
  } catch {
    return undefined;
  }
}

/** A symlink's entry: followed to a file inside the root, skipped otherwise (and said why). */
function linkEntry(shown: string, root: string, link: LinkTarget): WalkEntry {
  const { target, info } = link;
  if (target === undefined) return { kind: "skip", path: shown, size: 0, reason: "broken symlink" };
  if (!isInside(target, root)) {
    const where = shownPath(target);
    return { kind: "skip", path: shown, size: 0, reason: `symlink points outside the scanned root (${where})` };
  }
  if (!info) return { kind: "skip", path: shown, size: 0, reason: "broken symlink" };
  if (info.isDirectory())
    return { kind: "skip", path: shown, size: 0, reason: "symlink to a directory (not followed)" };
  return classify(shown, target, info);
}

/** A device, FIFO or socket: skipped, never opened. */
function special(entry: Entry, shown: string, info: Stats | undefined): WalkEntry {
  return { kind: "skip", path: shown, size: info?.size ?? 0, reason: `not a regular file (${kindOf(entry)})` };
}

function classify(shown: string, real: FsPath, info: Stats): WalkEntry {
  if (info.isFile()) return { kind: "file", path: shown, realPath: real, size: info.size };
  return { kind: "skip", path: shown, size: info.size, reason: `not a regular file (${statsKind(info)})` };
}

function isInside(target: FsPath, root: string): boolean {
  // Compared byte for byte (latin1 maps each byte to one character) when the target is not UTF-8.
  const relative =
    typeof target === "string"
      ? path.relative(root, target)
      : path.relative(Buffer.from(root).toString("latin1"), target.toString("latin1"));
  return relative === "" || (relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

function kindOf(entry: Entry): string {
  if (entry.isFIFO()) return "FIFO";
  if (entry.isCharacterDevice()) return "character device";
  if (entry.isBlockDevice()) return "block device";
  if (entry.isSocket()) return "socket";
  return "special file";
}

/** What a non-regular file is, for skip reasons. */
export function statsKind(info: Stats): string {
  if (info.isFIFO()) return "FIFO";
  if (info.isCharacterDevice()) return "character device";
  if (info.isBlockDevice()) return "block device";
  if (info.isSocket()) return "socket";
  if (info.isDirectory()) return "directory";
  return "special file";
}

/** Why a path could not be read, in the project's words (src/diagnostics/file-errors.ts); the verdict names it. */
export function reasonOf(error: unknown): string {
  return fileSystemReason(error);
}
