/** Deterministic resource ids, so that every retry and every redeploy addresses the same resource. */
import { createHash } from "node:crypto";

/** shmhunt's UUIDv5 namespace (a fixed random UUID). */
export const shmhuntNamespace = "5b0d3c8e-6a0f-4f64-9d4c-2f3c8a1e7b21";

/** RFC 4122 version-5 UUID (SHA-1 of namespace and name). */
export function uuidv5(name: string, namespace = shmhuntNamespace): string {
  const ns = Buffer.from(namespace.replace(/-/g, ""), "hex");
  if (ns.length !== 16) throw new Error(`not a UUID: ${namespace}`);
  const bytes = createHash("sha1").update(ns).update(name, "utf8").digest().subarray(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const contentIds = {
  /** The analytics rule of a rule on a target. */
  alertRule: (ruleId: string, target: string) => uuidv5(`alertRule/${ruleId}/${target}`),
  /** The hunting query (saved search) of a rule on a target: readable, and within the 64-character limit. */
  huntingQuery: (ruleId: string, target: string) => `shmhunt-${target}-${ruleId}`.toLowerCase().slice(0, 64),
  metadata: (kind: string, name: string) => `shmhunt-${kind}-${uuidv5(`${kind}/${name}`)}`.toLowerCase(),
  incident: (hitKey: string) => uuidv5(`incident/${hitKey}`),
  bookmark: (hitKey: string) => uuidv5(`bookmark/${hitKey}`),
} as const;
