/** Finding the scan processes a test started, through /proc (Linux). */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Processes whose environment holds `mark` (a scan worker inherits its parent's environment). */
export function processesMarked(mark: string): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, "utf8").includes(mark);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Whether process `pid` has a file open whose path starts with `prefix` (false once the process is gone). */
export function holdsFileUnder(pid: number, prefix: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(prefix);
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}
