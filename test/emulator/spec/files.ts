/**
 * Microsoft's OpenAPI 2.0 files for the APIs the emulator serves (`../shared/reference/azure-specs`, Azure REST API
 * specs, MIT; SOURCES.md lists them): where they are, how a `$ref` between them resolves (the archive mixes the
 * classic and the service-group folder layouts, so a ref that misses in one layout is looked up in the other), and
 * which swagger files make up each api-version of each resource provider.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** `../shared/reference/azure-specs/specification`, found from this file up to the worktree's parent. */
export const SPEC_ROOT = findSpecRoot();

function findSpecRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, "..", "shared", "reference", "azure-specs", "specification");
    if (existsSync(path.join(dir, "package.json")) && existsSync(candidate)) return path.resolve(candidate);
    const up = path.dirname(dir);
    if (up === dir) throw new Error("../shared/reference/azure-specs not found above test/emulator/spec");
    dir = up;
  }
}

/** One api-version of one API, and the swagger files (relative to SPEC_ROOT) that define its operations. */
export interface SpecVersion {
  readonly provider: "Microsoft.SecurityInsights" | "Microsoft.OperationalInsights/savedSearches" | "LogAnalytics";
  readonly apiVersion: string;
  readonly swaggers: readonly string[];
}

const SI = "securityinsights/resource-manager/Microsoft.SecurityInsights";
const SI_FILES = ["AlertRules.json", "Bookmarks.json", "Incidents.json", "Metadata.json", "Watchlists.json"];
const OI = "operationalinsights/resource-manager/Microsoft.OperationalInsights";

export const SPEC_VERSIONS: readonly SpecVersion[] = [
  {
    provider: "Microsoft.SecurityInsights",
    apiVersion: "2022-09-01-preview",
    swaggers: SI_FILES.map((f) => `${SI}/preview/2022-09-01-preview/${f}`),
  },
  {
    provider: "Microsoft.SecurityInsights",
    apiVersion: "2025-12-01",
    swaggers: SI_FILES.map((f) => `${SI}/stable/2025-12-01/${f}`),
  },
  {
    provider: "Microsoft.OperationalInsights/savedSearches",
    apiVersion: "2020-08-01",
    swaggers: [`${OI}/stable/2020-08-01/SavedSearches.json`],
  },
  {
    provider: "Microsoft.OperationalInsights/savedSearches",
    apiVersion: "2025-07-01",
    swaggers: [`${OI}/OperationalInsights/stable/2025-07-01/SavedSearches.json`],
  },
  {
    provider: "LogAnalytics",
    apiVersion: "v1",
    swaggers: ["operationalinsights/data-plane/Microsoft.OperationalInsights/stable/v1/OperationalInsights.json"],
  },
];

/** The api-versions the emulator serves for a provider: exactly those it has the spec of. */
export function apiVersionsOf(provider: SpecVersion["provider"]): readonly string[] {
  return SPEC_VERSIONS.filter((v) => v.provider === provider).map((v) => v.apiVersion);
}

const cache = new Map<string, unknown>();

/** A spec file's JSON (absolute path), read once. */
export function readSpec(file: string): unknown {
  let json = cache.get(file);
  if (json === undefined) {
    json = JSON.parse(readFileSync(file, "utf8")) as unknown;
    cache.set(file, json);
  }
  return json;
}

/**
 * The absolute file a relative reference from `from` names. The archive holds some files of one api-version only in
 * the other folder layout (SOURCES.md, "Repository layout caveat"), so a miss is retried with the service-group
 * folder (`SecurityInsights/`, `OperationalInsights/`) removed or inserted, and the OperationalInsights common types
 * are taken from the classic folder.
 */
export function resolveFile(from: string, relative: string): string {
  const direct = path.resolve(path.dirname(from), relative);
  for (const candidate of layoutCandidates(direct)) if (existsSync(candidate)) return candidate;
  throw new Error(`spec reference '${relative}' from ${path.relative(SPEC_ROOT, from)} resolves to no archived file`);
}

function layoutCandidates(file: string): string[] {
  const out = [file];
  for (const group of ["SecurityInsights", "OperationalInsights"]) {
    const provider = `${path.sep}Microsoft.${group}${path.sep}`;
    const grouped = `${provider}${group}${path.sep}`;
    if (file.includes(grouped)) out.push(file.replace(grouped, provider));
    else if (file.includes(provider)) out.push(file.replace(provider, grouped));
  }
  if (/operationalinsights.*common[\\/]v1[\\/]types\.json$/.test(file)) {
    out.push(path.join(SPEC_ROOT, "operationalinsights/resource-manager/common/v1/types.json"));
  }
  return out;
}
