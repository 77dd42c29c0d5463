/**
 * Samples as block blobs named by their SHA-256 in one container (Azurite locally). Uploads use
 * `If-None-Match: *`, so a sample is written once; the verdict summary goes into the blob's metadata.
 * The Azure SDK is only imported as a type here; the client comes from storage-clients.ts.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import type { ContainerClient } from "@azure/storage-blob";
import type { SampleNames } from "./sample-index.js";
import {
  ACTUAL_SHA256_KEY,
  type ArrivedBlobs,
  type SampleInfo,
  type SampleStore,
  UNREAD,
  UNREAD_KEY,
} from "./sample-store.js";
import { normaliseSha256 } from "./spool.js";
import { statusOf } from "./table-state-store.js";
import { makeTempFolder } from "./temp-folder.js";

export class BlobSampleStore implements SampleStore, ArrivedBlobs {
  private ready: Promise<unknown> | undefined;

  /** `tmpDir`: where local copies (withFile) go, owner-named so that a start after a kill removes them; os.tmpdir() by default. */
  constructor(
    private readonly container: ContainerClient,
    private readonly tmpDir?: string,
  ) {}

  get accountName(): string {
    return this.container.accountName;
  }

  get containerName(): string {
    return this.container.containerName;
  }

  async blobSize(name: string): Promise<number | undefined> {
    try {
      return (await this.container.getBlobClient(name).getProperties()).contentLength ?? 0;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async openBlob(name: string, maxBytes: number): Promise<Readable | undefined> {
    try {
      // A ranged Get Blob: a blob larger than maxBytes is not transferred past them.
      const response = await this.container.getBlobClient(name).download(0, maxBytes);
      return response.readableStreamBody as Readable | undefined;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      // 416: a range on an empty blob, which has no byte 0.
      if (statusOf(error) === 416) return Readable.from([]);
      throw error;
    }
  }

  async noteBlob(name: string, values: Readonly<Record<string, string>>): Promise<boolean> {
    const blob = this.container.getBlobClient(name);
    try {
      const props = await blob.getProperties();
      const metadata = { ...(props.metadata ?? {}), ...values };
      // Only if unchanged since read: a blob replaced meanwhile keeps its own metadata (its own event follows).
      await blob.setMetadata(metadata, { conditions: props.etag ? { ifMatch: props.etag } : {} });
      return true;
    } catch (error) {
      const status = statusOf(error);
      if (status === 404 || status === 412) return false;
      throw error;
    }
  }

  async putFile(sha256: string, file: string, names: SampleNames = {}): Promise<boolean> {
    await this.ensureContainer();
    const name = normaliseSha256(sha256);
    try {
      await this.upload(name, file, names, { ifNoneMatch: "*" });
      return true;
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
    }
    // A blob of that name already: the sample, or bytes set aside (not the sample), which give way to it unless
    // they changed since they were looked at (If-Match: then the blob is someone's new write, with its own event).
    try {
      const props = await this.container.getBlobClient(name).getProperties();
      if (!isSetAside(props.metadata) || !props.etag) return false;
      await this.upload(name, file, names, { ifMatch: props.etag });
      return true;
    } catch (error) {
      const status = statusOf(error);
      if (status === 404 || status === 412) return false;
      throw error;
    }
  }

  private async upload(
    name: string,
    file: string,
    names: SampleNames,
    conditions: { ifNoneMatch: string } | { ifMatch: string },
  ): Promise<void> {
    await this.container.getBlockBlobClient(name).uploadFile(file, {
      conditions,
      metadata: { ...originMetadata(names), sha256: name },
      blobHTTPHeaders: { blobContentType: "application/octet-stream" },
    });
  }

  async setAside(sample: SampleInfo, actualSha256: string): Promise<boolean> {
    await this.ensureContainer();
    const blob = this.container.getBlobClient(normaliseSha256(sample.sha256));
    try {
      const props = await blob.getProperties({ conditions: sample.version ? { ifMatch: sample.version } : {} });
      if (props.contentLength !== sample.size) return false;
      const metadata = {
        ...(props.metadata ?? {}),
        [UNREAD_KEY]: UNREAD.hashMismatch,
        [ACTUAL_SHA256_KEY]: normaliseSha256(actualSha256),
      };
      await blob.setMetadata(metadata, { conditions: props.etag ? { ifMatch: props.etag } : {} });
      return true;
    } catch (error) {
      const status = statusOf(error);
      if (status === 404 || status === 412) return false;
      throw error;
    }
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.info(sha256)) !== undefined;
  }

  async info(sha256: string): Promise<SampleInfo | undefined> {
    await this.ensureContainer();
    try {
      const props = await this.container.getBlobClient(normaliseSha256(sha256)).getProperties();
      // Bytes set aside under the name are not the sample (setAside).
      if (isSetAside(props.metadata)) return undefined;
      return {
        sha256: normaliseSha256(sha256),
        size: props.contentLength ?? 0,
        ...(props.etag ? { version: props.etag } : {}),
      };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async open(sha256: string): Promise<Readable | undefined> {
    await this.ensureContainer();
    try {
      const response = await this.container.getBlobClient(normaliseSha256(sha256)).download();
      return response.readableStreamBody as Readable | undefined;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async withFile<T>(sample: SampleInfo, use: (file: string) => Promise<T>): Promise<T | undefined> {
    await this.ensureContainer();
    const name = normaliseSha256(sample.sha256);
    const dir = await makeTempFolder("blob", this.tmpDir);
    const file = path.join(dir.path, name);
    try {
      try {
        // A Get Blob of the version described only (If-Match: its ETag; 412 when the blob was replaced since), and
        // of its bytes only (x-ms-range): nothing past the size the caller checked is transferred, whatever the
        // blob holds now. An empty version has no byte to ask for (a range on it is a 416): nothing is read.
        if (sample.size === 0) await writeFile(file, "", { flag: "wx" });
        else
          await this.container.getBlobClient(name).downloadToFile(file, 0, sample.size, {
            conditions: sample.version ? { ifMatch: sample.version } : {},
          });
      } catch (error) {
        const status = statusOf(error);
        if (status === 404 || status === 412) return undefined;
        throw error;
      }
      return await use(file);
    } finally {
      await dir.remove();
    }
  }

  async annotate(sha256: string, summary: Readonly<Record<string, string>>): Promise<void> {
    await this.ensureContainer();
    const name = normaliseSha256(sha256);
    // Metadata values must be ASCII header values: keep them short and plain. The sample's origin (sha1, md5,
    // host, path, written by putFile) is kept: setMetadata replaces the whole set.
    const kept = (await this.annotation(name)) ?? {};
    const metadata: Record<string, string> = { ...pick(kept, ORIGIN_KEYS), sha256: name };
    for (const [key, value] of Object.entries(summary)) {
      metadata[key.replace(/[^A-Za-z0-9_]/g, "_")] = value.replace(/[^\x20-\x7e]/g, "?").slice(0, 1024);
    }
    await this.container.getBlobClient(name).setMetadata(metadata);
  }

  /** The metadata written by annotate(), for tests and the CLI. */
  async annotation(sha256: string): Promise<Record<string, string> | undefined> {
    try {
      return (await this.container.getBlobClient(normaliseSha256(sha256)).getProperties()).metadata;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  private ensureContainer(): Promise<unknown> {
    this.ready ??= this.container.createIfNotExists().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }
}

const ORIGIN_KEYS = ["sha1", "md5", "host", "path"] as const;

/** Is this the metadata of bytes set aside (setAside: they do not hash to the blob's name)? */
function isSetAside(metadata: Readonly<Record<string, string>> | undefined): boolean {
  return metadata?.[UNREAD_KEY] === UNREAD.hashMismatch;
}

/** A sample's other names as blob metadata (ASCII header values: the path percent-encoded). */
function originMetadata(names: SampleNames): Record<string, string> {
  const out: Record<string, string> = {};
  if (names.sha1) out.sha1 = names.sha1.toLowerCase();
  if (names.md5) out.md5 = names.md5.toLowerCase();
  if (names.host) out.host = encodeURIComponent(names.host);
  if (names.path) out.path = encodeURIComponent(names.path);
  return out;
}

function pick(from: Record<string, string>, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(keys.flatMap((k) => (from[k] === undefined ? [] : [[k, from[k] as string]])));
}
