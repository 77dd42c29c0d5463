/** What a hit knows of its sample's file, read from its result row with the plan's columns (src/app/plans.ts). */
import type { HitRecord, HuntPlan } from "../hunt/types.js";
import type { SampleNames } from "../store/sample-index.js";
import { huntColumnsOf } from "../targets/index.js";

export function sampleNamesOf(hit: HitRecord, plan: HuntPlan | undefined): SampleNames {
  const row = hit.row;
  const columns = plan?.sampleNameColumns;
  const first = (names: readonly string[] | undefined, pattern?: RegExp): string | undefined => {
    for (const name of names ?? []) {
      const value = row[name];
      if (typeof value !== "string") continue;
      const text = value.trim();
      if (text !== "" && (!pattern || pattern.test(text))) return pattern ? text.toLowerCase() : text;
    }
    return undefined;
  };
  const host = first(huntColumnsOf(hit.target).host);
  const path = first(columns?.path);
  const sha1 = first(columns?.sha1, /^[0-9a-f]{40}$/i);
  const md5 = first(columns?.md5, /^[0-9a-f]{32}$/i);
  return {
    ...(hit.sha256 ? { sha256: hit.sha256 } : {}),
    ...(sha1 ? { sha1 } : {}),
    ...(md5 ? { md5 } : {}),
    ...(host ? { host } : {}),
    ...(path ? { path } : {}),
  };
}
