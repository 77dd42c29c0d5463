/**
 * The scan benchmark's inputs, in os.tmpdir():
 * - a tree of real ELF files: every regular file under a system library folder (default /usr/lib/x86_64-linux-gnu),
 *   hard-linked with its folder structure kept (copied when links are refused), symlinks left out so both scanners
 *   read each file once, plus the three gcc shmget fixtures (the planted matches);
 * - one large sample: an ELF header and pseudo-random content, optionally with the seed pattern in its last bytes.
 */
import { randomBytes } from "node:crypto";
import type { Dirent } from "node:fs";
import { copyFile, link, mkdir, open, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { buildShmgetElf, OPT_LEVELS } from "../../test/support/shmget-elf.js";

export interface Tree {
  readonly dir: string;
  readonly files: number;
  readonly bytes: number;
  /** The fixtures every scanner must report (real system files may match too: the scanners must then agree). */
  readonly planted: readonly string[];
}

export async function buildTree(dir: string, source: string): Promise<Tree> {
  await rm(dir, { recursive: true, force: true });
  let files = 0;
  let bytes = 0;
  const mirror = async (from: string, to: string): Promise<void> => {
    await mkdir(to, { recursive: true });
    let entries: Dirent[];
    try {
      entries = await readdir(from, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const a = path.join(from, entry.name);
      const b = path.join(to, entry.name);
      if (entry.isDirectory()) await mirror(a, b);
      else if (entry.isFile()) {
        const ok = await link(a, b).then(
          () => true,
          () =>
            copyFile(a, b).then(
              () => true,
              () => false,
            ),
        );
        if (!ok) continue;
        files++;
        bytes += (await stat(b)).size;
      }
    }
  };
  await mirror(source, path.join(dir, path.basename(source)));
  const planted: string[] = [];
  for (const level of OPT_LEVELS) {
    const file = await buildShmgetElf(path.join(dir, "fixtures"), level);
    planted.push(file);
    files++;
    bytes += (await stat(file)).size;
  }
  return { dir, files, bytes, planted };
}

/** The seed rule's bytes (`shmget(0x82015F0D, 64, IPC_CREAT|0666)` as gcc emits it). */
export const SEED_PATTERN = Buffer.from("b6030000be40000000bf0d5f0182", "hex");

/** A file of `size` bytes: an ELF header, pseudo-random content (every 4 MiB block a little different). */
export async function buildLargeSample(file: string, size: number): Promise<void> {
  const block = randomBytes(4 * 1024 * 1024);
  const handle = await open(file, "w");
  try {
    for (let at = 0; at < size; at += block.length) {
      block.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
      block.writeUInt32LE(at, 64);
      await handle.write(block, 0, Math.min(block.length, size - at), at);
    }
  } finally {
    await handle.close();
  }
}

/** Writes (or, with `planted` false, clears) the seed pattern in the last bytes of the sample. */
export async function plantPattern(file: string, size: number, planted: boolean): Promise<void> {
  const handle = await open(file, "r+");
  try {
    const bytes = planted ? SEED_PATTERN : Buffer.alloc(SEED_PATTERN.length);
    await handle.write(bytes, 0, bytes.length, size - bytes.length);
  } finally {
    await handle.close();
  }
}
