/**
 * Receives a sample from a stream into a temporary file: streamed (never buffered whole), size-limited, and
 * hashed while it flows. The claimed SHA-256, when given, is checked before the sample is accepted.
 *
 * Nothing is opened before the source is known to be a byte stream. Whatever ends the upload (its end, an error,
 * the sender going away: `aborted`/`close` without `end`), the file is closed (stream.pipeline) and the temporary
 * directory removed before the promise settles, so a cut upload leaks neither a descriptor nor a directory.
 */
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { pipeline } from "node:stream/promises";
import { makeTempFolder, tempPrefix } from "./temp-folder.js";

export const SHA256_PATTERN = /^[0-9a-f]{64}$/;

/** Temporary directories of the spool are named `<prefix><owner>-<random>` (temp-folder.ts: a later start cleans them). */
export const SPOOL_PREFIX = tempPrefix("spool");

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

export type SampleErrorCode =
  | "SAMPLE_TOO_LARGE"
  | "SAMPLE_HASH_MISMATCH"
  | "SAMPLE_BAD_HASH"
  | "SAMPLE_EMPTY"
  | "SAMPLE_NOT_BYTES"
  | "SAMPLE_INCOMPLETE"
  | "SAMPLE_NO_SPACE";

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

function isByteStream(value: unknown): value is NodeJS.ReadableStream {
  const stream = value as { on?: unknown; once?: unknown; pause?: unknown; resume?: unknown } | null;
  return (
    typeof stream === "object" &&
    stream !== null &&
    typeof stream.on === "function" &&
    typeof stream.once === "function" &&
    typeof stream.pause === "function" &&
    typeof stream.resume === "function"
  );
}

/** The temporary folder's disk or quota is full, or the file size limit is reached (RLIMIT_FSIZE): not the sender's fault. */
function noSpace(error: unknown): SampleError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== "ENOSPC" && code !== "EDQUOT" && code !== "EFBIG") return undefined;
  return new SampleError("SAMPLE_NO_SPACE", `no room for the sample in the temporary folder (${code})`);
}

export async function spoolSample(source: unknown, options: SpoolOptions): Promise<SpooledSample> {
  // Checked before anything is opened: a body that is not a byte stream costs no descriptor.
  if (!isByteStream(source)) throw new SampleError("SAMPLE_NOT_BYTES", "the sample must be sent as raw bytes");
  const claimed = options.claimedSha256 === undefined ? undefined : normaliseSha256(options.claimedSha256);
  const folder = options.tmpDir ?? tmpdir();
  const dir = await makeTempFolder("spool", folder).catch((error: unknown) => {
    throw noSpace(error) ?? error;
  });
  const file = path.join(dir.path, randomBytes(8).toString("hex"));
  const cleanup = () => dir.remove();
  const hash = createHash("sha256");
  const sha1 = createHash("sha1");
  const md5 = createHash("md5");
  let size = 0;
  try {
    // The file side is a pipeline: whichever way it ends, the descriptor is closed when it settles.
    const sink = new PassThrough();
    const writing = pipeline(sink, createWriteStream(file, { flags: "wx", mode: 0o600 }));
    const received = new Promise<void>((resolve, reject) => {
      let settled = false;
      const detach = () => {
        for (const [event, listener] of listeners) source.removeListener(event, listener);
        sink.removeListener("drain", onDrain);
      };
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        detach();
        // Stop storing but keep the source flowing (its bytes are dropped), so an HTTP caller can still be
        // answered 413; the source is not destroyed here, its owner closes it.
        source.resume();
        sink.destroy(error instanceof Error ? error : new Error(String(error)));
        reject(error);
      };
      const onCut = () => fail(new SampleError("SAMPLE_INCOMPLETE", "the upload ended before its last byte"));
      const onEnd = () => {
        if (settled) return;
        settled = true;
        detach();
        sink.end();
        resolve();
      };
      const onDrain = () => source.resume();
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
        if (!sink.write(bytes)) {
          source.pause();
          sink.once("drain", onDrain);
        }
      };
      // The source's listeners, attached here and detached by `detach` from this one list (each handler settles
      // at most once, and the first to settle detaches them all).
      const listeners: readonly (readonly [string, Parameters<typeof source.on>[1]])[] = [
        ["data", onData],
        ["end", onEnd],
        ["error", fail],
        ["aborted", onCut],
        ["close", onCut],
      ];
      for (const [event, listener] of listeners) source.on(event, listener);
      // The file refusing a write (a full disk, EFBIG) ends the upload too: a paused source would wait for a drain
      // of the destroyed sink that never comes.
      writing.catch(fail);
      // A source already finished or destroyed before we listened would never emit again.
      const state = source as { destroyed?: boolean; readableEnded?: boolean };
      if (state.readableEnded) onEnd();
      else if (state.destroyed) onCut();
    });
    // Both must settle: a failed upload waits for the file to be closed before its directory goes.
    const [receivedResult, writingResult] = await Promise.allSettled([received, writing]);
    if (receivedResult.status === "rejected") throw receivedResult.reason;
    if (writingResult.status === "rejected") throw writingResult.reason;
  } catch (error) {
    await cleanup();
    throw noSpace(error) ?? error;
  }
  const sha256 = hash.digest("hex");
  if (claimed !== undefined && claimed !== sha256) {
    await cleanup();
    throw new SampleError("SAMPLE_HASH_MISMATCH", `content has sha256 ${sha256}, not the claimed ${claimed}`);
  }
  return { path: file, sha256, sha1: sha1.digest("hex"), md5: md5.digest("hex"), size, cleanup };
}
