/**
 * Which files the broker does not fetch: files seen widely (Defender's Files API: `globalPrevalence`; file
 * statistics: `organizationPrevalence`) or validly signed (`isValidCertificate`). A widely prevalent or signed
 * binary is rarely the implant a gated hit is about, and each fetch spends a live response session on a device.
 * Pure: the broker asks the API, this decides.
 */
import type { DefenderFile, DefenderFileStats } from "../sentinel/defender-types.js";

export interface SkipPolicy {
  /** Skip a file seen on more machines worldwide than this; undefined: prevalence never skips. */
  readonly maxGlobalPrevalence?: number;
  /** Skip a file seen on more of the organisation's devices than this; undefined: never. */
  readonly maxOrgPrevalence?: number;
  /** Skip a file whose signature Defender reports valid. */
  readonly skipValidlySigned: boolean;
}

export const DEFAULT_SKIP_POLICY: SkipPolicy = { maxGlobalPrevalence: 1000, skipValidlySigned: true };

/** Why the file is skipped, in words; undefined when it is to be fetched (unknown files are fetched). */
export function skipReason(
  file: DefenderFile | undefined,
  stats: DefenderFileStats | undefined,
  policy: SkipPolicy,
): string | undefined {
  if (policy.skipValidlySigned && file?.isValidCertificate === true)
    return `validly signed${file.signer ? ` by ${file.signer}` : ""} (Files API isValidCertificate)`;
  const global = file?.globalPrevalence ?? stats?.globallyPrevalence ?? null;
  if (policy.maxGlobalPrevalence !== undefined && global !== null && global > policy.maxGlobalPrevalence)
    return `seen on ${global} machines worldwide (more than ${policy.maxGlobalPrevalence})`;
  const org = stats?.organizationPrevalence ?? null;
  if (policy.maxOrgPrevalence !== undefined && org !== null && org > policy.maxOrgPrevalence)
    return `seen on ${org} of the organisation's devices (more than ${policy.maxOrgPrevalence})`;
  return undefined;
}
