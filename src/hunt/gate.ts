/** The gate: what a hit's sample verdict means for the hit, per the rule's policy. Pure. */
import { type GatePolicy, matchFile, type StoredVerdict } from "./types.js";

export type GateDecision =
  | { readonly action: "alert"; readonly verdict?: StoredVerdict; readonly confirmed: boolean }
  | { readonly action: "pending" }
  | { readonly action: "benign"; readonly verdict: StoredVerdict; readonly reason: string }
  | { readonly action: "unverified"; readonly reason: string };

export interface GateInput {
  readonly policy: GatePolicy;
  /** The SHA-256 of the hit's sample, when the row names one. */
  readonly sha256: string | undefined;
  /** No hash, but the file's host and path are known: the hit can wait for the sample found there. */
  readonly located?: boolean;
  readonly verdict: StoredVerdict | undefined;
  /** When the hit was first seen, and now: for the pending timeout. */
  readonly firstSeen: Date;
  readonly now: Date;
}

/** Does the verdict confirm the hit: did one of the policy's YARA rules (any rule, when none named) match? */
export function confirms(policy: GatePolicy, verdict: StoredVerdict): boolean {
  if (policy.yaraRules.length === 0) return verdict.matches.length > 0;
  const wanted = wantedRules(policy);
  return verdict.matches.some((m) => {
    const file = matchFile(m);
    return wanted.has(normaliseRuleName(m.rule)) || (file !== undefined && wanted.has(normaliseRuleName(file)));
  });
}

/** The policy's rule names, normalised once per policy (a hunt asks for every hit of a run). */
const wantedByPolicy = new WeakMap<GatePolicy, ReadonlySet<string>>();

function wantedRules(policy: GatePolicy): ReadonlySet<string> {
  let wanted = wantedByPolicy.get(policy);
  if (!wanted) {
    wanted = new Set(policy.yaraRules.map(normaliseRuleName));
    wantedByPolicy.set(policy, wanted);
  }
  return wanted;
}

/** `shm-creation.yar`, `rules/shm-creation.yar` and `shm-creation` name the same file. */
function normaliseRuleName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? name;
  return base.replace(/\.(yar|yara)$/i, "");
}

export function decide(input: GateInput): GateDecision {
  const { policy, sha256, verdict } = input;
  if (policy.mode === "none") return { action: "alert", confirmed: false };
  if (policy.mode === "annotate") {
    return verdict
      ? { action: "alert", verdict, confirmed: !verdict.scanFailed && confirms(policy, verdict) }
      : { action: "alert", confirmed: false };
  }
  if (sha256 === undefined && !input.located)
    return { action: "unverified", reason: "the result row names no sample hash (SHA256) and no host and path" };
  // A sample built to make the scan fail must not slip through the gate: it alerts, marked "scan failed".
  if (verdict?.scanFailed) return { action: "alert", verdict, confirmed: false };
  if (verdict) {
    return confirms(policy, verdict)
      ? { action: "alert", verdict, confirmed: true }
      : { action: "benign", verdict, reason: `sample ${sha256} matched none of the gate's YARA rules` };
  }
  if (input.now.getTime() - input.firstSeen.getTime() >= policy.pendingTimeoutMs) {
    return {
      action: "unverified",
      reason: `sample ${sha256 ?? "(by host and path)"} did not arrive within ${policy.pendingTimeoutMs / 1000}s`,
    };
  }
  return { action: "pending" };
}
