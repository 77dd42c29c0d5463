/**
 * Which targets a local workspace folder holds data for: a target that reads workspace functions when the folder
 * defines them all (`functions/<Name>.kql`), another when a table file has one of its table names (src/targets).
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { DEFAULT_TARGET, REGISTRY, TARGETS, type Target, targetOfTable } from "../targets/index.js";
import { formatOf } from "./load.js";

/** The targets `dir` holds data for, in registry order; the default target when none (or no folder). */
export function targetsWithData(dir: string): Target[] {
  const files = existsSync(dir) ? readdirSync(dir) : [];
  const tables = files.filter((f) => formatOf(f) !== undefined).map((f) => f.replace(/\.[^.]*$/, ""));
  const found = TARGETS.filter((target) => {
    const { functions } = REGISTRY[target];
    if (functions.length > 0) return functions.every((f) => existsSync(path.join(dir, "functions", `${f.name}.kql`)));
    return tables.some((t) => targetOfTable(t) === target);
  });
  return found.length > 0 ? found : [DEFAULT_TARGET];
}
