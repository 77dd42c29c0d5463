/** What a hit knows of its sample's file, read from its result row with the plan's columns (src/app/plans.ts). */
import { hostAndPathOf, namedHashesOf } from "../hunt/sample-locator.js";
import type { HitRecord, HuntPlan } from "../hunt/types.js";
import type { SampleNames } from "../store/sample-index.js";

export function sampleNamesOf(hit: HitRecord, plan: HuntPlan | undefined): SampleNames {
  const row = hit.row;
  const { host, path } = hostAndPathOf(row, hit.target, plan?.sampleNameColumns?.path);
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
