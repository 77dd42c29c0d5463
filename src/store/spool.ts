/**
 * Receives a sample from a stream into a temporary file: streamed (never buffered whole), size-limited, and
 * hashed while it flows. The claimed SHA-256, when given, is checked before the sample is accepted.
 */
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

export const SHA256_PATTERN = /^[0-9a-f]{64}$/;

export interface SpoolOptions {
  readonly maxBytes: number;
  /** The hash the sender claims (hex); the upload fails unless the content has it. */
  readonly claimedSha256?: string;
  /** Where temporary files go; os.tmpdir() by default. */
  readonly tmpDir?: string;
}

export interface SpooledSample {
  readonly path: string;
  readonly sha256: string;
  /** Defender often names a file by SHA-1 or MD5 only: every sample is indexed by all three (sample-index.ts). */
  readonly sha1: string;
  readonly md5: string;
  readonly size: number;
  /** Deletes the temporary file. */
  cleanup(): Promise<void>;
}

export type SampleErrorCode = "SAMPLE_TOO_LARGE" | "SAMPLE_HASH_MISMATCH" | "SAMPLE_BAD_HASH" | "SAMPLE_EMPTY";

/** A sample refused for what it is (too large, wrong hash): the sender's fault, reported as such. */
export class SampleError extends Error {
  constructor(
    readonly code: SampleErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "SampleError";
  }
}

export function normaliseSha256(value: string, field = "sha256"): string {
  const lower = value.trim().toLowerCase();
  if (!SHA256_PATTERN.test(lower)) throw new SampleError("SAMPLE_BAD_HASH", `${field} must be 64 hex digits`);
  return lower;
}

export async function spoolSample(source: NodeJS.ReadableStream, options: SpoolOptions): Promise<SpooledSample> {
  const claimed = options.claimedSha256 === undefined ? undefined : normaliseSha256(options.claimedSha256);
  const dir = await mkdtemp(path.join(options.tmpDir ?? tmpdir(), "shmhunt-sample-"));
  const file = path.join(dir, randomBytes(8).toString("hex"));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const hash = createHash("sha256");
  const sha1 = createHash("sha1");
  const md5 = createHash("md5");
  let size = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(file, { flags: "wx", mode: 0o600 });
      let failed = false;
      const fail = (error: unknown) => {
        if (failed) return;
        failed = true;
        // Stop storing but keep the source flowing (its bytes are dropped), so an HTTP caller can still be
        // answered 413; the source is not destroyed here, its owner closes it.
        source.removeListener("data", onData);
        source.resume();
        out.destroy();
        reject(error);
      };
      const onData = (chunk: Buffer | string) => {
        const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
        size += bytes.length;
        if (size > options.maxBytes) {
          fail(new SampleError("SAMPLE_TOO_LARGE", `sample exceeds the limit of ${options.maxBytes} bytes`));
          return;
        }
        hash.update(bytes);
        sha1.update(bytes);
        md5.update(bytes);
        if (!out.write(bytes)) {
          source.pause();
          out.once("drain", () => source.resume());
        }
      };
      source.on("data", onData);
      source.once("end", () => {
        if (!failed) out.end();
      });
      source.once("error", fail);
      out.once("error", fail);
      out.once("finish", () => {
        if (!failed) resolve();
      });
    });
  } catch (error) {
    await cleanup();
    throw error;
  }
  const sha256 = hash.digest("hex");
  if (claimed !== undefined && claimed !== sha256) {
    await cleanup();
    throw new SampleError("SAMPLE_HASH_MISMATCH", `content has sha256 ${sha256}, not the claimed ${claimed}`);
  }
  return { path: file, sha256, sha1: sha1.digest("hex"), md5: md5.digest("hex"), size, cleanup };
}
