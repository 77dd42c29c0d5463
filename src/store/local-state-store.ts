/**
 * State as JSON files under a directory: `<dir>/<kind>/<partition>/<key>.json`. Every write goes to a temporary
 * file that is renamed into place (atomic on POSIX file systems); create-if-absent uses link(), which fails when
 * the target exists, so two writers cannot both create the same record.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { linkIfAbsent } from "./link-if-absent.js";
import { decodeName, encodeName } from "./names.js";
import type { StateKind, StateRecord, StateStore } from "./state-store.js";

export class LocalStateStore implements StateStore {
  constructor(readonly dir: string) {}

  async get<T>(kind: StateKind, partition: string, key: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(this.file(kind, partition, key), "utf8")) as T;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async create<T>(kind: StateKind, partition: string, key: string, value: T): Promise<boolean> {
    const target = this.file(kind, partition, key);
    const temp = await this.writeTemp(target, value);
    return linkIfAbsent(temp, target);
  }

  async put<T>(kind: StateKind, partition: string, key: string, value: T): Promise<void> {
    const target = this.file(kind, partition, key);
    const temp = await this.writeTemp(target, value);
    await rename(temp, target);
  }

  async delete(kind: StateKind, partition: string, key: string): Promise<void> {
    await rm(this.file(kind, partition, key), { force: true });
  }

  async list<T>(kind: StateKind, partition?: string): Promise<ReadonlyArray<StateRecord<T>>> {
    const kindDir = path.join(this.dir, kind);
    const partitions = partition === undefined ? await names(kindDir) : [encodeName(partition)];
    const records: StateRecord<T>[] = [];
    for (const encodedPartition of partitions.sort()) {
      const files = (await names(path.join(kindDir, encodedPartition))).filter((f) => f.endsWith(".json")).sort();
      for (const file of files) {
        const key = decodeName(file.slice(0, -".json".length));
        const value = await this.get<T>(kind, decodeName(encodedPartition), key);
        if (value !== undefined) records.push({ partition: decodeName(encodedPartition), key, value });
      }
    }
    return records;
  }

  private file(kind: StateKind, partition: string, key: string): string {
    return path.join(this.dir, kind, encodeName(partition), `${encodeName(key)}.json`);
  }

  /** Writes the value to a fresh temporary file beside the target (same file system, so rename is atomic). */
  private async writeTemp(target: string, value: unknown): Promise<string> {
    const dir = path.dirname(target);
    await mkdir(dir, { recursive: true });
    const temp = path.join(dir, `.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
    await writeFile(temp, JSON.stringify(value), { flush: true });
    return temp;
  }
}

async function names(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => !name.startsWith(".tmp-"));
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === "ENOENT";
}
