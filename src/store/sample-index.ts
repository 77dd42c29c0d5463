/**
 * Finds a stored sample by what a hit knows of its file. Samples are stored by SHA-256 (sample-store.ts); this
 * index adds the other names: SHA-1 and MD5 (Defender's tables often leave `SHA256` empty, and its Files API takes
 * SHA-1), and the host and path the sample came from (an audit record names a file by path only). The entries are
 * `sampleindex` records of the state store: partition `sha1`, `md5` or `hostpath`, key the value, the record the
 * sample's SHA-256. A host + path entry names the latest sample seen there (a file changes; its hash does not).
 */
import type { StateOp, StateStore } from "./state-store.js";

/** What names a file: any of its hashes, and the host and path it was found at. */
export interface SampleNames {
  readonly sha256?: string;
  readonly sha1?: string;
  readonly md5?: string;
  readonly host?: string;
  readonly path?: string;
}

export interface SampleIndexEntry {
  readonly sha256: string;
  readonly at: string;
}

const SHA1 = /^[0-9a-f]{40}$/;
const MD5 = /^[0-9a-f]{32}$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** A host compares case-insensitively (a DNS name); a path exactly (Linux paths are case-sensitive). */
export function hostPathKey(host: string, path: string): string {
  return JSON.stringify([host.trim().toLowerCase(), path]);
}

export class SampleIndex {
  constructor(private readonly store: StateStore) {}

  /** The writes that index a stored sample (SHA-256 known) under its other names. */
  ops(sha256: string, names: SampleNames, at: Date): StateOp[] {
    const value: SampleIndexEntry = { sha256, at: at.toISOString() };
    const ops: StateOp[] = [];
    const sha1 = names.sha1?.toLowerCase();
    const md5 = names.md5?.toLowerCase();
    if (sha1 && SHA1.test(sha1)) ops.push({ op: "put", kind: "sampleindex", partition: "sha1", key: sha1, value });
    if (md5 && MD5.test(md5)) ops.push({ op: "put", kind: "sampleindex", partition: "md5", key: md5, value });
    if (names.host && names.path)
      ops.push({
        op: "put",
        kind: "sampleindex",
        partition: "hostpath",
        key: hostPathKey(names.host, names.path),
        value,
      });
    return ops;
  }

  async add(sha256: string, names: SampleNames, at: Date): Promise<void> {
    const ops = this.ops(sha256, names, at);
    if (ops.length > 0) await this.store.batch(ops);
  }

  /** Whether the sample `sha256` is indexed under each of these hashes (those given; none given: true). */
  async knows(sha256: string, hashes: { readonly sha1?: string; readonly md5?: string }): Promise<boolean> {
    for (const [partition, key] of [
      ["sha1", hashes.sha1?.toLowerCase()],
      ["md5", hashes.md5?.toLowerCase()],
    ] as const) {
      if (!key) continue;
      const entry = await this.store.get<SampleIndexEntry>("sampleindex", partition, key);
      if (entry?.sha256 !== sha256) return false;
    }
    return true;
  }

  /**
   * The SHA-256 a sample known by these names is stored under, best name first (SHA-256, SHA-1, MD5, host + path);
   * `has` says whether the store holds a SHA-256. Undefined when none is known.
   */
  async find(names: SampleNames, has: (sha256: string) => Promise<boolean>): Promise<string | undefined> {
    const sha256 = names.sha256?.toLowerCase();
    if (sha256 && SHA256.test(sha256) && (await has(sha256))) return sha256;
    const lookups: Array<[string, string | undefined]> = [
      ["sha1", names.sha1?.toLowerCase()],
      ["md5", names.md5?.toLowerCase()],
      ["hostpath", names.host && names.path ? hostPathKey(names.host, names.path) : undefined],
    ];
    for (const [partition, key] of lookups) {
      if (!key) continue;
      const entry = await this.store.get<SampleIndexEntry>("sampleindex", partition, key);
      if (entry && typeof entry.sha256 === "string" && (await has(entry.sha256))) return entry.sha256;
    }
    return undefined;
  }
}
