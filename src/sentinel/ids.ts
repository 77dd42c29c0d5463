/** Deterministic resource ids, so that every retry and every redeploy addresses the same resource. */
import { v5 } from "uuid";

/** shmhunt's UUIDv5 namespace (a fixed random UUID). */
export const shmhuntNamespace = "5b0d3c8e-6a0f-4f64-9d4c-2f3c8a1e7b21";

/** RFC 9562 version-5 UUID (SHA-1 of namespace and name), by the `uuid` package. */
export function uuidv5(name: string, namespace = shmhuntNamespace): string {
  return v5(name, namespace);
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
