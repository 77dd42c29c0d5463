/**
 * Builds the scan benchmark's corpus in os.tmpdir(): ELF files of /usr/bin and /usr/lib (hard links when the file
 * system allows, copies otherwise), the gcc shmget fixtures, and large generated files, at least `minBytes` in all.
 */
import { randomBytes } from "node:crypto";
import { copyFile, link, mkdir, open, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { buildShmgetElf, OPT_LEVELS } from "../../src/yara/index.js";

export interface Corpus {
  readonly dir: string;
  readonly files: number;
  readonly bytes: number;
  /** Files that carry the seed rule's pattern after an ELF header (what both scanners must report). */
  readonly expectedMatches: number;
  readonly parts: Readonly<Record<string, { files: number; bytes: number }>>;
}

const SYSTEM_DIRS = ["/usr/bin", "/usr/lib"];
const GENERATED_FILE = 128 * 1024 * 1024;

export async function buildCorpus(dir: string, minBytes: number, systemShare = 0.7): Promise<Corpus> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const parts: Record<string, { files: number; bytes: number }> = {};
  const add = (part: string, bytes: number) => {
    const p = parts[part] ?? { files: 0, bytes: 0 };
    parts[part] = { files: p.files + 1, bytes: p.bytes + bytes };
  };

  // 1. System ELF files, up to systemShare of the target.
  const systemDir = path.join(dir, "system");
  await mkdir(systemDir, { recursive: true });
  let systemBytes = 0;
  let n = 0;
  for (const root of SYSTEM_DIRS) {
    for await (const file of elfFiles(root)) {
      if (systemBytes >= minBytes * systemShare) break;
      const info = await stat(file.path);
      const target = path.join(systemDir, `${n++}-${path.basename(file.path)}`);
      await link(file.path, target).catch(() => copyFile(file.path, target));
      systemBytes += info.size;
      add("system ELF", info.size);
    }
  }

  // 2. The fixtures.
  const fixtureDir = path.join(dir, "fixtures");
  for (const level of OPT_LEVELS) {
    const file = await buildShmgetElf(fixtureDir, level);
    add("gcc fixtures", (await stat(file)).size);
  }

  // 3. Generated large files (pseudo-random content, ELF header; the last one carries the pattern at its end).
  const generatedDir = path.join(dir, "generated");
  await mkdir(generatedDir, { recursive: true });
  const pattern = Buffer.from("b6030000be40000000bf0d5f0182", "hex");
  let total = Object.values(parts).reduce((sum, p) => sum + p.bytes, 0);
  let index = 0;
  const block = randomBytes(4 * 1024 * 1024);
  while (total < minBytes || index < 2) {
    const file = path.join(generatedDir, `generated-${index++}.bin`);
    const handle = await open(file, "w");
    for (let at = 0; at < GENERATED_FILE; at += block.length) {
      block.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
      block.writeUInt32LE(at, 64); // every block differs a little
      await handle.write(block, 0, block.length, at);
    }
    total += GENERATED_FILE;
    add("generated", GENERATED_FILE);
    await handle.close();
  }
  const marked = path.join(generatedDir, "generated-0.bin");
  const handle = await open(marked, "r+");
  await handle.write(pattern, 0, pattern.length, GENERATED_FILE - pattern.length);
  await handle.close();

  const files = Object.values(parts).reduce((sum, p) => sum + p.files, 0);
  return { dir, files, bytes: total, expectedMatches: OPT_LEVELS.length + 1, parts };
}

async function* elfFiles(root: string): AsyncGenerator<{ path: string }> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) yield* elfFiles(full);
    else if (entry.isFile() && (await isElf(full))) yield { path: full };
  }
}

async function isElf(file: string): Promise<boolean> {
  try {
    const handle = await open(file, "r");
    try {
      const head = Buffer.alloc(4);
      const { bytesRead } = await handle.read(head, 0, 4, 0);
      return bytesRead === 4 && head.readUInt32BE(0) === 0x7f454c46;
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
}
