/**
 * The deploy plan: desired workspace content against what the workspace holds, as create / update / unchanged /
 * delete. Pure: the Azure adapter reads the actual state, this module decides, the adapter applies.
 *
 * Rules:
 * - A desired resource is compared on the properties shmhunt sets, and only those: the service adds read-only
 *   properties (etag, lastModifiedUtc, watchlistId…) which must not make every deploy an update.
 * - Deletion (`prune`) only ever touches resources carrying shmhunt's managed marker; anything else in the
 *   workspace is never in the plan.
 */

export type ResourceKind =
  | "workspaceFunction"
  | "watchlist"
  | "watchlistItem"
  | "savedSearch"
  | "alertRule"
  | "metadata";

/** Apply order: what others depend on first (functions and watchlists before queries that call them). */
export const applyOrder: readonly ResourceKind[] = [
  "workspaceFunction",
  "watchlist",
  "watchlistItem",
  "savedSearch",
  "alertRule",
  "metadata",
];

export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

export interface DesiredResource {
  readonly kind: ResourceKind;
  /** Deterministic resource name (derived from rule id and target); unique per kind (and per parent). */
  readonly name: string;
  /** The parent resource's name for child resources (a watchlist item's watchlist alias). */
  readonly parent?: string;
  /** The properties shmhunt owns, as sent on the wire. */
  readonly properties: { readonly [key: string]: Json };
  /** Metadata only: the content item it describes (applied right after it, so a stopped apply leaves it marked). */
  readonly owner?: { readonly kind: ResourceKind; readonly name: string };
  /**
   * Hunting queries only: what the hunting-query YAML (the Azure-Sentinel repository format) says beyond the saved
   * search (`id`: the YAML's GUID, `contentIds.huntingQueryYaml`). Never sent to the service, never compared.
   */
  readonly hunting?: { readonly id: string; readonly requiredDataConnectors: Json; readonly entityMappings: Json };
}

export interface ActualResource {
  readonly kind: ResourceKind;
  readonly name: string;
  readonly parent?: string;
  readonly properties: { readonly [key: string]: Json };
  /** Carries shmhunt's marker (see markers.ts): the only resources prune may delete. */
  readonly managed: boolean;
  readonly etag?: string;
}

export type PlanAction = "create" | "update" | "unchanged" | "delete";

export interface PlanStep {
  readonly action: PlanAction;
  readonly kind: ResourceKind;
  readonly name: string;
  readonly parent?: string;
  /** For updates: the dotted property paths that differ. */
  readonly changes?: readonly string[];
  readonly desired?: DesiredResource;
  readonly actual?: ActualResource;
}

export interface Plan {
  readonly steps: readonly PlanStep[];
  readonly counts: Readonly<Record<PlanAction, number>>;
  /** Prune: shmhunt's resources no longer in the rules that are kept all the same, and why (`keptFromPrune`). */
  readonly kept: readonly KeptResource[];
}

/**
 * A resource the plan leaves alone though the rules name it, or prune would delete it: a watchlist holding rows added
 * outside shmhunt (with all its rows), a row of shmhunt's an analyst edited.
 */
export interface KeptResource {
  readonly kind: ResourceKind;
  readonly name: string;
  readonly reason: string;
}

interface PlanOptions {
  /** Delete managed resources that are no longer desired. */
  readonly prune: boolean;
}

const keyOf = (r: { kind: ResourceKind; name: string; parent?: string | undefined }) =>
  `${r.kind}\u0000${r.parent ?? ""}\u0000${r.name.toLowerCase()}`;

export function planDeployment(
  desired: readonly DesiredResource[],
  actual: readonly ActualResource[],
  options: PlanOptions,
): Plan {
  const actualByKey = new Map(actual.map((a) => [keyOf(a), a]));
  const desiredKeys = new Set<string>();
  const steps: PlanStep[] = [];
  const kept: KeptResource[] = [];

  for (const d of desired) {
    const key = keyOf(d);
    if (desiredKeys.has(key)) throw new Error(`two desired ${d.kind} resources are named '${d.name}'`);
    desiredKeys.add(key);
    const a = actualByKey.get(key);
    const base = { kind: d.kind, name: d.name, ...(d.parent !== undefined ? { parent: d.parent } : {}), desired: d };
    if (!a) {
      steps.push({ action: "create", ...base });
      continue;
    }
    if (d.kind === "watchlistItem" && !a.managed) {
      // A row of shmhunt's id whose content is no longer what that id was made from: an analyst edited it, and it is
      // theirs now (docs/deploy.md): a PUT to its id would replace their edit.
      kept.push({
        kind: d.kind,
        name: d.name,
        reason: "edited outside shmhunt: its content is theirs now, not updated",
      });
      continue;
    }
    const changes = diffOwned(d.properties, a.properties);
    steps.push(
      changes.length === 0
        ? { action: "unchanged", ...base, actual: a }
        : { action: "update", ...base, actual: a, changes },
    );
  }

  if (options.prune) {
    const keeps = keptFromPrune(actual, desiredKeys);
    kept.push(...keeps.kept);
    for (const a of actual) {
      if (a.managed && !desiredKeys.has(keyOf(a)) && !keeps.spares(a)) {
        steps.push({
          action: "delete",
          kind: a.kind,
          name: a.name,
          ...(a.parent ? { parent: a.parent } : {}),
          actual: a,
        });
      }
    }
  }

  steps.sort(compareSteps);
  const counts = { create: 0, update: 0, unchanged: 0, delete: 0 };
  for (const s of steps) counts[s.action]++;
  return { steps, counts, kept };
}

/**
 * What prune keeps of shmhunt's content no longer in the rules: a watchlist that holds rows added outside shmhunt
 * (not its own, markers in desired.ts `isManagedWatchlistItem`), with every row of it, shmhunt's too. Deleting a
 * watchlist deletes its rows, and rows an analyst adds are never pruned (docs/deploy.md, README "Tuning
 * exclusions"). Its metadata is still deleted: the watchlist is then no longer shmhunt's, and left to those who
 * added to it.
 */
function keptFromPrune(
  actual: readonly ActualResource[],
  desiredKeys: ReadonlySet<string>,
): { kept: KeptResource[]; spares: (a: ActualResource) => boolean } {
  const foreignRows = new Map<string, number>();
  for (const a of actual)
    if (a.kind === "watchlistItem" && !a.managed && a.parent !== undefined) {
      const alias = a.parent.toLowerCase();
      foreignRows.set(alias, (foreignRows.get(alias) ?? 0) + 1);
    }
  const keptAliases = new Set<string>();
  const kept: KeptResource[] = [];
  for (const a of actual) {
    const rows = foreignRows.get(a.name.toLowerCase());
    if (a.kind !== "watchlist" || !a.managed || desiredKeys.has(keyOf(a)) || rows === undefined) continue;
    keptAliases.add(a.name.toLowerCase());
    kept.push({
      kind: "watchlist",
      name: a.name,
      reason: `holds ${rows} row${rows === 1 ? "" : "s"} added outside shmhunt: kept with all its rows, no longer shmhunt's`,
    });
  }
  const spares = (a: ActualResource) =>
    (a.kind === "watchlist" && keptAliases.has(a.name.toLowerCase())) ||
    (a.kind === "watchlistItem" && keptAliases.has((a.parent ?? "").toLowerCase()));
  return { kept, spares };
}

/**
 * Creates and updates in dependency order, each metadata right after the item it describes; deletes last, in
 * reverse (children and dependents first), metadata after all.
 */
function compareSteps(a: PlanStep, b: PlanStep): number {
  const phase = (s: PlanStep) => (s.action === "delete" ? 1 : 0);
  if (phase(a) !== phase(b)) return phase(a) - phase(b);
  if (phase(a) === 0) {
    const ka = placeOf(a);
    const kb = placeOf(b);
    const order = applyOrder.indexOf(ka.kind) - applyOrder.indexOf(kb.kind);
    if (order !== 0) return order;
    const byName = ka.name.localeCompare(kb.name);
    if (byName !== 0) return byName;
    if (ka.after !== kb.after) return ka.after - kb.after;
    return a.name.localeCompare(b.name);
  }
  // Deletes: a metadata last, after everything it marks (a resource is shmhunt's while its metadata points at it: a
  // prune stopped between the two then leaves a metadata the next prune still knows, never an unmarked resource it
  // would not); the others children and dependents first.
  const metadata = Number(a.kind === "metadata") - Number(b.kind === "metadata");
  if (metadata !== 0) return metadata;
  const order = applyOrder.indexOf(a.kind) - applyOrder.indexOf(b.kind);
  if (order !== 0) return -order;
  return a.name.localeCompare(b.name);
}

/** Where a create or update goes: a metadata with an owner sorts with its owner, just after it. */
function placeOf(step: PlanStep): { kind: ResourceKind; name: string; after: number } {
  const owner = step.kind === "metadata" ? step.desired?.owner : undefined;
  return owner ? { kind: owner.kind, name: owner.name, after: 1 } : { kind: step.kind, name: step.name, after: 0 };
}

/**
 * The paths where `owned` (desired) differs from `actual`, looking only at keys present in `owned`.
 * Arrays compare element-wise and must have the same length; strings compare exactly, except that line endings
 * are normalised (the service may return CRLF for multi-line queries).
 */
export function diffOwned(owned: Json, actual: Json | undefined, path = ""): string[] {
  if (owned === null || typeof owned !== "object") {
    return sameScalar(owned, actual) ? [] : [path || "(root)"];
  }
  if (Array.isArray(owned)) {
    if (!Array.isArray(actual) || actual.length !== owned.length) return [path || "(root)"];
    return owned.flatMap((item, i) => diffOwned(item, (actual as readonly Json[])[i], `${path}[${i}]`));
  }
  if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return [path || "(root)"];
  const ownedObject = owned as { readonly [key: string]: Json };
  const actualObject = actual as { readonly [key: string]: Json };
  return Object.keys(ownedObject).flatMap((key) =>
    diffOwned(ownedObject[key] as Json, actualObject[key], path ? `${path}.${key}` : key),
  );
}

function sameScalar(a: Json, b: Json | undefined): boolean {
  if (typeof a === "string" && typeof b === "string") return a.replace(/\r\n/g, "\n") === b.replace(/\r\n/g, "\n");
  return a === b;
}
