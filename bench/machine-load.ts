/** How busy the machine was, printed beside a benchmark's figures (a shared VM's figures swing with it). */
import { cpus, loadavg } from "node:os";

/** `1.8 1.4 0.9`: the load averages over 1, 5 and 15 minutes. */
export function loadAverages(): string {
  return loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
}

/** `load average 3.2 on 2 CPUs`: how busy the machine was. */
export function machineLoad(): string {
  return `load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} CPUs`;
}
