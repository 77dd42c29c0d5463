/**
 * The environment of the Node processes shmhunt starts for local work: scan workers, the off-thread rule compiler,
 * and the CLI run from (or building) the Kusto.Language startup snapshot. None of them opens a TLS connection.
 *
 * - `NODE_EXTRA_CA_CERTS` is dropped: it is "only read when the Node.js process is first launched" (Node's CLI
 *   documentation), and Node 20, measured here, then parses that file and builds its whole root store as the process
 *   starts, whether or not it ever uses TLS: with Debian's bundle, tens of milliseconds of every start (docs/yara.md,
 *   Figures).
 * - glibc's malloc is asked to back large allocations with transparent huge pages (`glibc.malloc.hugetlb=1`,
 *   glibc ≥ 2.35, ignored by others): a scan worker's sample buffer and a snapshot's heap are tens of MB, and with
 *   4 KiB pages their first touches are page faults, half of a snapshot's start. A `GLIBC_TUNABLES` of the caller's is
 *   kept, this one added.
 *
 * It imports nothing: the CLI forks its first scan worker through it before loading anything else.
 */

/** The variables a local child must not inherit (see above). */
const DROPPED: readonly string[] = ["NODE_EXTRA_CA_CERTS"];

const HUGE_PAGES = "glibc.malloc.hugetlb=1";

/** `parent` (default: this process's environment) as a local child should get it, with `set` applied last. */
export function localChildEnvironment(
  set: Readonly<Record<string, string>> = {},
  parent: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...parent };
  for (const name of DROPPED) delete env[name];
  const tunables = env.GLIBC_TUNABLES;
  if (!tunables?.includes("glibc.malloc.hugetlb")) {
    env.GLIBC_TUNABLES = tunables ? `${tunables}:${HUGE_PAGES}` : HUGE_PAGES;
  }
  return { ...env, ...set };
}
