/**
 * The targets shmhunt translates to, one registry entry each (target-types.ts says what an entry holds). The
 * `Target` type, the API enums and every per-target list derive from `REGISTRY`: adding a target is one file
 * beside these and one line here (docs/targets.md), and test/targets/registry.test.ts fails on any missing fact.
 */
import { resolveSchemas } from "../kusto/globals.js";
import type { FunctionSchema } from "../kusto/schemas.js";
import { asim } from "./asim.js";
import { auditd } from "./auditd.js";
import { defender } from "./defender.js";
import type { HuntColumns, TargetDefinition, TargetFunction } from "./target-types.js";

/** Every target by name, in the order lists show them. */
export const REGISTRY = { defender, asim, auditd } as const satisfies Readonly<Record<string, TargetDefinition>>;

/** A KQL target shmhunt translates to. */
export type Target = keyof typeof REGISTRY;

export const TARGETS: readonly Target[] = Object.keys(REGISTRY) as Target[];

/** The target hunted when nothing says which (a Log Analytics workspace, or a local one with no known data). */
export const DEFAULT_TARGET: Target = "defender";

export function isTarget(name: string): name is Target {
  return Object.hasOwn(REGISTRY, name);
}

/** Every workspace function the targets deploy. */
export const TARGET_FUNCTIONS: readonly TargetFunction[] = TARGETS.flatMap((t) => REGISTRY[t].functions);

let sourceFunctionList: readonly FunctionSchema[] | undefined;

/**
 * The functions the targets' sources call with parameters (the ASIM unifying parsers), each with the parameter
 * list its source declares and the output columns of its schema: what checks and local runs of a query bind.
 * The parameters have this one owner (the source's entry); src/kusto knows only the columns.
 */
export function sourceFunctions(): readonly FunctionSchema[] {
  if (!sourceFunctionList) {
    const { functions } = resolveSchemas();
    sourceFunctionList = TARGETS.flatMap((t) => REGISTRY[t].sources).flatMap((s) => {
      if (s.parameters === undefined) return [];
      const columns = functions[s.schema]?.columns;
      if (!columns) throw new Error(`no schema for ${s.schema}, which ${s.from} returns`);
      return [{ name: s.schema, parameters: s.parameters, columns }];
    });
  }
  return sourceFunctionList;
}

const union = (pick: (h: HuntColumns) => readonly string[]): string[] => [
  ...new Set(TARGETS.flatMap((t) => pick(REGISTRY[t].hunt))),
];

/** The hunt's columns of every target together (each target's own first, in registry order). */
export const ALL_HUNT_COLUMNS: HuntColumns = {
  identity: union((h) => h.identity),
  time: union((h) => h.time),
  host: union((h) => h.host),
  sampleHash: union((h) => h.sampleHash),
};

/** The hunt's columns of a target; for a name that is no target, those of every target. */
export function huntColumnsOf(target: string): HuntColumns {
  return isTarget(target) ? REGISTRY[target].hunt : ALL_HUNT_COLUMNS;
}

/** The target whose table (or function) this is (`DeviceFileEvents` → defender), if any. */
export function targetOfTable(name: string): Target | undefined {
  return TARGETS.find((t) => new RegExp(`^(?:${REGISTRY[t].tables.source})$`).test(name));
}

/** The first name of one of the target's tables (or functions) in a query text. */
export function tableIn(query: string, target: Target): string | undefined {
  return new RegExp(`\\b(?:${REGISTRY[target].tables.source})\\b`).exec(query)?.[0];
}

export { functionDeclaration, functionFile, functionsDir, functionWithBody } from "./function-files.js";
export type {
  HuntColumns,
  SourceSpec,
  TargetDefinition,
  TargetFunction,
  TargetMapping,
} from "./target-types.js";
