/**
 * Milliseconds of CPU this process spent running `work` (user and system time, all its threads), and its result.
 * For the tests that bound the cost of pathological input: unlike the wall clock, CPU time does not grow when a
 * loaded machine gives the process less of a core (a 160 ms evaluation took 1 s of wall time at load 10 on 2 cores).
 */
export function cpuTime<T>(work: () => T): { readonly ms: number; readonly result: T } {
  const before = process.cpuUsage();
  const result = work();
  const spent = process.cpuUsage(before);
  return { ms: (spent.user + spent.system) / 1000, result };
}
