/** What a hit knows of its sample's file, read from its result row with the plan's columns (src/app/plans.ts). */
import { namedHashesOf } from "../hunt/sample-locator.js";
import type { HitRecord, HuntPlan } from "../hunt/types.js";
import type { SampleNames } from "../store/sample-index.js";
import { huntColumnsOf } from "../targets/index.js";

export function sampleNamesOf(hit: HitRecord, plan: HuntPlan | undefined): SampleNames {
  const row = hit.row;
  const first = (names: readonly string[] | undefined): string | undefined => {
    for (const name of names ?? []) {
      const value = row[name];
      if (typeof value !== "string") continue;
      const text = value.trim();
      if (text !== "") return text;
    }
    return undefined;
  };
  const host = first(huntColumnsOf(hit.target).host);
  const path = first(plan?.sampleNameColumns?.path);
  // The hit's own record of them when it waits by host and path, else read from the row as the hunt reads them.
  const { sha1, md5 } = hit.expects ?? namedHashesOf(row, plan) ?? {};
  return {
    ...(hit.sha256 ? { sha256: hit.sha256 } : {}),
    ...(sha1 ? { sha1 } : {}),
    ...(md5 ? { md5 } : {}),
    ...(host ? { host } : {}),
    ...(path ? { path } : {}),
  };
}
