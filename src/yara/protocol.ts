/** Messages between the scan pool (parent) and a scan worker process. Sent with `serialization: "advanced"`. */
import type { ExternalValue } from "./binding.js";
import type { ScanLimits } from "./sample.js";
import type { Verdict } from "./verdict.js";

export interface RulesMessage {
  readonly type: "rules";
  readonly id: string;
  readonly source: string;
  readonly externals: Readonly<Record<string, ExternalValue>>;
  readonly serialized?: Uint8Array;
}

export type ScanTarget =
  | { readonly kind: "path"; readonly path: string; readonly displayPath: string }
  | { readonly kind: "bytes"; readonly data: Uint8Array };

export interface ScanMessage {
  readonly type: "scan";
  readonly jobId: number;
  readonly target: ScanTarget;
  readonly limits: ScanLimits;
}

export type ToWorker = RulesMessage | ScanMessage;

export type FromWorker =
  | { readonly type: "ready" }
  | { readonly type: "result"; readonly jobId: number; readonly verdict: Verdict }
  | { readonly type: "failed"; readonly jobId: number; readonly message: string };
