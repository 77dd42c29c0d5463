/**
 * Builds real ELF samples at run time (never checked in): a tiny C program calling
 * `shmget((key_t)0x82015F0D, 0x40, IPC_CREAT|0666)`, which gcc compiles to the immediates the Derusbi rule looks
 * for (`mov edx,0x3b6; mov esi,0x40; mov edi,0x82015f0d`). Used by the tests, the benchmark and the demo samples.
 */
import { execFile } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export type OptLevel = "-O0" | "-O2" | "-Os";
export const OPT_LEVELS: readonly OptLevel[] = ["-O0", "-O2", "-Os"];

/** The C source of the fixture: the Derusbi shared-memory call and nothing else of interest. */
export const SHMGET_PROGRAM = `#include <sys/ipc.h>
#include <sys/shm.h>

int main(void) {
  int id = shmget((key_t)0x82015F0D, 0x40, IPC_CREAT | 0666);
  return id < 0 ? 1 : 0;
}
`;

/** Compiles the fixture with gcc at the given optimisation level into outDir; returns the binary's path. */
export async function buildShmgetElf(outDir: string, optLevel: OptLevel = "-O2"): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const name = `shmget${optLevel.replace("-", "_")}`;
  const source = path.join(outDir, `${name}.c`);
  const binary = path.join(outDir, name);
  await writeFile(source, SHMGET_PROGRAM);
  try {
    await run(process.env.CC ?? "gcc", [optLevel, "-o", binary, source]);
  } catch (error) {
    const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new Error(`cannot build the shmget fixture with gcc (${detail}); install gcc`);
  } finally {
    await rm(source, { force: true });
  }
  return binary;
}

/** True when a C compiler is available to build fixtures. */
export async function haveCompiler(): Promise<boolean> {
  return run(process.env.CC ?? "gcc", ["--version"]).then(
    () => true,
    () => false,
  );
}
