/** Messages between the scan pool (parent) and a scan worker process. Sent with `serialization: "advanced"`. */
import type { ExternalValue } from "./binding.js";
import type { Prefilter } from "./prefilter.js";
import type { ScanLimits } from "./sample.js";
import type { Verdict } from "./verdict.js";

export interface RulesMessage {
  readonly type: "rules";
  readonly id: string;
  readonly source: string;
  readonly externals: Readonly<Record<string, ExternalValue>>;
  readonly serialized?: Uint8Array;
  readonly prefilter?: Prefilter;
  /**
   * Load YARA-X and the rules at once (a pool warmed up for a server), not when the first sample needs them. A
   * failure is reported then, by each sample that needs YARA-X, as without it.
   */
  readonly loadNow?: boolean;
}

export type ScanTarget =
  /** `path`: text, or bytes when a name in it is not UTF-8 (`FsPath`; bytes arrive as a Uint8Array, see `pathOf`). */
  | { readonly kind: "path"; readonly path: string | Uint8Array; readonly displayPath: string }
  | { readonly kind: "bytes"; readonly data: Uint8Array };

/** A batch of samples, scanned in order; the reply carries one verdict per target, in the same order. */
export interface ScanMessage {
  readonly type: "scan";
  readonly batchId: number;
  readonly targets: readonly ScanTarget[];
  readonly limits: ScanLimits;
}

export type ToWorker = RulesMessage | ScanMessage;

/** A target's path as the file system takes it (a path's bytes cross the IPC channel as a plain Uint8Array). */
export function pathOf(target: { readonly path: string | Uint8Array }): string | Buffer {
  const { path } = target;
  return typeof path === "string" || Buffer.isBuffer(path)
    ? path
    : Buffer.from(path.buffer, path.byteOffset, path.byteLength);
}

export type FromWorker =
  | { readonly type: "ready" }
  | { readonly type: "result"; readonly batchId: number; readonly verdicts: readonly Verdict[] }
  | { readonly type: "failed"; readonly batchId: number; readonly message: string };

/**
 * Progress record: before each sample of a batch, the worker writes which one it is starting into a small file the
 * pool shares with it (an inherited descriptor, unlinked at once). Nothing crosses the IPC channel per sample; the
 * pool reads the record only when a worker dies or overruns, to name the one sample that crashed or hung.
 */
export const PROGRESS_FD = 4;
export const PROGRESS_BYTES = 24;

export interface Progress {
  readonly batchId: number;
  readonly index: number;
  /** `Date.now()` in the worker when the sample started (wall clock: comparable across processes). */
  readonly startedAt: number;
}

export function encodeProgress(into: Buffer, progress: Progress): Buffer {
  into.writeDoubleLE(progress.batchId, 0);
  into.writeDoubleLE(progress.index, 8);
  into.writeDoubleLE(progress.startedAt, 16);
  return into;
}

export function decodeProgress(from: Buffer): Progress | undefined {
  if (from.length < PROGRESS_BYTES) return undefined;
  return { batchId: from.readDoubleLE(0), index: from.readDoubleLE(8), startedAt: from.readDoubleLE(16) };
}
