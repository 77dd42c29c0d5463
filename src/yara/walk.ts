/**
 * Walks the paths given to a scan and says, for each entry, whether it is a sample to scan or why it is skipped.
 * Directories are walked recursively. Symlinks are followed only when their target stays inside the scanned root
 * (and only to files: a linked directory inside the root is reached by the walk anyway, so no loops). Devices,
 * FIFOs and sockets are skipped, never opened.
 */
import type { Dirent, Stats } from "node:fs";
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";

type WalkEntry =
  /** `path` as reported; `realPath` is what gets opened. */
  /** `size` is 0 when the walk did not stat the file (the verdict carries the real size). */
  | { readonly kind: "file"; readonly path: string; readonly realPath: string; readonly size: number }
  | { readonly kind: "skip"; readonly path: string; readonly size: number; readonly reason: string }
  | { readonly kind: "error"; readonly path: string; readonly reason: string };

/** Every sample under the given paths, in directory order, as the walk finds them (streaming). */
export async function* walkSamples(paths: readonly string[]): AsyncGenerator<WalkEntry> {
  for (const given of paths) {
    const shown = given;
    let root: string;
    let info: Stats;
    try {
      root = await realpath(given);
      info = await stat(root);
    } catch (error) {
      yield { kind: "error", path: shown, reason: reasonOf(error) };
      continue;
    }
    if (info.isDirectory()) yield* walkDirectory(root, shown, root);
    else yield classify(shown, root, info);
  }
}

/** How many verdicts a scan of these paths gives: one walk, no file opened (for progress totals). */
export async function countSamples(paths: readonly string[]): Promise<number> {
  let count = 0;
  for await (const _entry of walkSamples(paths)) count++;
  return count;
}

async function* walkDirectory(dir: string, shownDir: string, root: string): AsyncGenerator<WalkEntry> {
  // One read per directory (a streamed opendir() costs a promise per entry: most of the parent's time in a scan).
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    yield { kind: "error", path: shownDir, reason: reasonOf(error) };
    return;
  }
  const subdirs: [string, string][] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    const shown = path.join(shownDir, entry.name);
    if (entry.isDirectory()) {
      subdirs.push([full, shown]);
    } else if (entry.isSymbolicLink()) {
      yield await followLink(full, shown, root);
    } else if (entry.isFile()) {
      // The worker fstat()s what it opens; no second stat here (size is known once scanned).
      yield { kind: "file", path: shown, realPath: full, size: 0 };
    } else {
      const info = await lstat(full).catch(() => undefined);
      yield { kind: "skip", path: shown, size: info?.size ?? 0, reason: `not a regular file (${kindOf(entry)})` };
    }
  }
  for (const [full, shown] of subdirs) yield* walkDirectory(full, shown, root);
}

async function followLink(full: string, shown: string, root: string): Promise<WalkEntry> {
  let target: string;
  try {
    target = await realpath(full);
  } catch {
    return { kind: "skip", path: shown, size: 0, reason: "broken symlink" };
  }
  if (!isInside(target, root)) {
    return { kind: "skip", path: shown, size: 0, reason: `symlink points outside the scanned root (${target})` };
  }
  const info = await stat(target).catch(() => undefined);
  if (!info) return { kind: "skip", path: shown, size: 0, reason: "broken symlink" };
  if (info.isDirectory())
    return { kind: "skip", path: shown, size: 0, reason: "symlink to a directory (not followed)" };
  return classify(shown, target, info);
}

function classify(shown: string, real: string, info: Stats): WalkEntry {
  if (info.isFile()) return { kind: "file", path: shown, realPath: real, size: info.size };
  return { kind: "skip", path: shown, size: info.size, reason: `not a regular file (${statsKind(info)})` };
}

function isInside(target: string, root: string): boolean {
  const relative = path.relative(root, target);
  return relative === "" || (relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

function kindOf(entry: Dirent): string {
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

export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
