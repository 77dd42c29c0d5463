/**
 * Once per test run: the per-user caches the CLI writes (`$XDG_CACHE_HOME/shmhunt`, e.g. compiled YARA rules, see
 * src/yara/compiled-cache.ts) go to a folder of this run, not the user's home; every child process inherits it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export default function setup(): () => void {
  const cache = mkdtempSync(path.join(tmpdir(), "shmhunt-test-cache-"));
  process.env.XDG_CACHE_HOME = cache;
  return () => rmSync(cache, { recursive: true, force: true });
}
