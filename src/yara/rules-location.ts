/** Where `rules/*.yar` is when the caller gives no rule paths: ./rules in the working directory, else shmhunt's own. */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export function defaultRulesDir(cwd: string = process.cwd()): string {
  const local = path.join(cwd, "rules");
  if (existsSync(local)) return local;
  // The package root: the nearest folder above this module holding package.json (src/ or dist/src/ layouts).
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (dir !== path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json")) && existsSync(path.join(dir, "rules")))
      return path.join(dir, "rules");
    dir = path.dirname(dir);
  }
  return local;
}
