/** Samples stored by SHA-256: a local folder (local-sample-store.ts) or Azure Blob (blob-sample-store.ts). */
import type { Readable } from "node:stream";
import type { SampleNames } from "./sample-index.js";

/**
 * Blob metadata saying why a blob of the samples container is not taken as a sample (docs/service.md): its key, its
 * values, and, for a blob whose bytes are not the sample its name says, the SHA-256 they have.
 */
export const UNREAD_KEY = "shmhunt_unread";
export const UNREAD = { tooLarge: "too-large", hashMismatch: "hash-mismatch" } as const;
export const ACTUAL_SHA256_KEY = "shmhunt_sha256";

export interface SampleInfo {
  readonly sha256: string;
  readonly size: number;
  /** Which stored version of the sample this describes (Blob: its ETag); withFile reads that version only. */
  readonly version?: string;
}

export interface SampleStore {
  /**
   * Stores the file under its (already verified) SHA-256; false when that sample was already there. Bytes set aside
   * under that name (setAside) give way to it. `names` (its
   * other hashes, the host and path it came from) go with it where the store keeps metadata (Blob).
   */
  putFile(sha256: string, file: string, names?: SampleNames): Promise<boolean>;
  has(sha256: string): Promise<boolean>;
  info(sha256: string): Promise<SampleInfo | undefined>;
  /** The sample's bytes, or undefined when it is not stored. */
  open(sha256: string): Promise<Readable | undefined>;
  /**
   * Runs `use` with a local file holding the stored version `sample` describes (from info(), whose size the caller
   * checked): the stored file itself for a local folder, for Blob a temporary download of at most `sample.size`
   * bytes of that version only, deleted afterwards. Undefined when the sample is not stored, or no longer as
   * described (replaced since: ask info() again).
   */
  withFile<T>(sample: SampleInfo, use: (file: string) => Promise<T>): Promise<T | undefined>;
  /**
   * The stored version `sample` describes was read and its bytes hash to `actualSha256`, not to its name: from now
   * on the sample is not stored (has, info and withFile answer as for one never stored) and putFile stores the real
   * one. Blob: the blob stays where it is, its metadata saying why (UNREAD_KEY: UNREAD.hashMismatch, and
   * ACTUAL_SHA256_KEY); a folder: the file moves into `.mismatched/`. False when the stored sample is no longer the
   * version described (replaced or deleted since it was read: the replacement is looked at on its own).
   */
  setAside(sample: SampleInfo, actualSha256: string): Promise<boolean>;
  /** Keeps a short verdict summary with the sample (blob metadata / a side file). */
  annotate(sha256: string, summary: Readonly<Record<string, string>>): Promise<void>;
}

/**
 * Blobs written to the samples container under any name (the Event Grid trigger's BlobCreated events): read by
 * name through the SDK, never handed over whole by the Functions host. Only the Blob store has them.
 */
export interface ArrivedBlobs {
  /** The storage account and container the store's client reaches (an event for another is not ours). */
  readonly accountName: string;
  readonly containerName: string;
  /** The blob's size now, or undefined when it is gone. */
  blobSize(name: string): Promise<number | undefined>;
  /**
   * The blob's first `maxBytes` bytes as a stream (a ranged download: nothing past them is transferred), or
   * undefined when it is gone. The caller destroys the stream when done.
   */
  openBlob(name: string, maxBytes: number): Promise<Readable | undefined>;
  /** Adds `values` to the blob's metadata (kept: what it had), e.g. why it was not read. False when it is gone. */
  noteBlob(name: string, values: Readonly<Record<string, string>>): Promise<boolean>;
}

export function hasArrivedBlobs(store: SampleStore): store is SampleStore & ArrivedBlobs {
  const candidate = store as Partial<ArrivedBlobs>;
  return typeof candidate.openBlob === "function" && typeof candidate.accountName === "string";
}
