/** Temporary directories for YARA tests, under os.tmpdir(), removed by the caller. */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export async function tempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `shmhunt-${prefix}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export const repoRoot = path.resolve(import.meta.dirname, "../..");
export const seedRules = path.join(repoRoot, "rules");
