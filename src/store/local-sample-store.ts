/** Samples as files named by their SHA-256 in one folder; verdict summaries in `<dir>/.meta/<sha256>.json`. */
import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { linkIfAbsent } from "./link-if-absent.js";
import type { SampleInfo, SampleStore } from "./sample-store.js";
import { normaliseSha256 } from "./spool.js";

export class LocalSampleStore implements SampleStore {
  constructor(readonly dir: string) {}

  async putFile(sha256: string, file: string): Promise<boolean> {
    const target = this.file(sha256);
    if (await this.has(sha256)) return false;
    await mkdir(this.dir, { recursive: true });
    // Unique per call: concurrent uploads of the same sample each write their own copy; one link wins.
    const temp = `${target}.tmp-${process.pid}-${randomUUID()}`;
    await copyFile(file, temp);
    return linkIfAbsent(temp, target);
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.info(sha256)) !== undefined;
  }

  async info(sha256: string): Promise<SampleInfo | undefined> {
    try {
      const stats = await stat(this.file(sha256));
      // The version: the file itself (putFile links a new file in; a sample's file is never written over).
      const version = `${stats.dev}:${stats.ino}`;
      return stats.isFile() ? { sha256: normaliseSha256(sha256), size: stats.size, version } : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async open(sha256: string): Promise<Readable | undefined> {
    return (await this.has(sha256)) ? createReadStream(this.file(sha256)) : undefined;
  }

  async withFile<T>(sample: SampleInfo, use: (file: string) => Promise<T>): Promise<T | undefined> {
    return (await this.isStored(sample)) ? use(this.file(sample.sha256)) : undefined;
  }

  async setAside(sample: SampleInfo, _actualSha256: string): Promise<boolean> {
    if (!(await this.isStored(sample))) return false;
    const aside = path.join(this.dir, ".mismatched");
    await mkdir(aside, { recursive: true });
    await rename(this.file(sample.sha256), path.join(aside, normaliseSha256(sample.sha256)));
    return true;
  }

  async annotate(sha256: string, summary: Readonly<Record<string, string>>): Promise<void> {
    const metaDir = path.join(this.dir, ".meta");
    await mkdir(metaDir, { recursive: true });
    const target = path.join(metaDir, `${normaliseSha256(sha256)}.json`);
    const temp = `${target}.tmp-${process.pid}-${randomUUID()}`;
    await writeFile(temp, JSON.stringify(summary));
    await rename(temp, target);
  }

  /** The summary written by annotate(), for tests and the CLI. */
  async annotation(sha256: string): Promise<Record<string, string> | undefined> {
    try {
      return JSON.parse(await readFile(path.join(this.dir, ".meta", `${normaliseSha256(sha256)}.json`), "utf8"));
    } catch {
      return undefined;
    }
  }

  /** Is the version `sample` describes the one stored now (its file, when described; else its size)? */
  private async isStored(sample: SampleInfo): Promise<boolean> {
    const now = await this.info(sample.sha256);
    return (
      now !== undefined && now.size === sample.size && (sample.version === undefined || now.version === sample.version)
    );
  }

  private file(sha256: string): string {
    return path.join(this.dir, normaliseSha256(sha256));
  }
}
