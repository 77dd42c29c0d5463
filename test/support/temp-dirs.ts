/** Temporary folders for a test file: made under os.tmpdir(), all removed after the file's tests. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll } from "vitest";

/** A maker of fresh folders named `shmhunt-<prefix>-…`; call it at a test file's top level (it registers the removal). */
export function tempDirs(prefix: string): () => string {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(path.join(tmpdir(), `shmhunt-${prefix}-`));
    made.push(dir);
    return dir;
  };
}
