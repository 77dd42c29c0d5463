/**
 * One rule on both sides of the paired corpus: the evaluator (src/eql, Elasticsearch's semantics) over the ECS
 * documents Elastic's pipeline made, and the translated KQL run by the local engine (src/workspace) over the raw
 * records (Defender rows as their tables; audit lines as Syslog rows through ShmhuntAuditd; ASIM through
 * Microsoft's own parsers over the raw Defender rows). Each side reports the keys of the events it matched.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import path from "node:path";
import { evaluate } from "../../src/eql/index.js";
import { translateRule } from "../../src/kql/index.js";
import type { LoadedRule, Target } from "../../src/rules/types.js";
import { functionWithBody, REGISTRY } from "../../src/targets/index.js";
import { openWorkspace, toRecords, type Workspace } from "../../src/workspace/index.js";
import { asimFunctions } from "./asim.js";
import { auditCorpus, defenderCorpus, type PairedEvent } from "./corpus.js";

export interface Side {
  readonly target: Target;
  readonly events: readonly PairedEvent[];
  readonly workspace: Workspace;
}

export type Outcome =
  | { readonly kind: "refused"; readonly reason: string }
  | {
      readonly kind: "compared";
      /** Keys the evaluator matched (for a sequence: every event of every matched sequence). */
      readonly ecs: readonly string[];
      /** Keys the KQL matched. */
      readonly kql: readonly string[];
      readonly approximations: readonly string[];
    }
  | { readonly kind: "failed"; readonly reason: string };

function writeTables(dir: string, tables: ReadonlyMap<string, readonly Record<string, unknown>[]>): void {
  mkdirSync(dir, { recursive: true });
  for (const [table, rows] of tables) {
    writeFileSync(path.join(dir, `${table}.ndjson`), `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`);
  }
}

/** The three sides, their workspaces written under `work`. */
export async function openSides(work: string): Promise<Side[]> {
  const defender = defenderCorpus();
  const audit = auditCorpus();
  const defenderDir = mkdtempSync(path.join(work, "defender-"));
  writeTables(defenderDir, defender.tables);
  const auditDir = mkdtempSync(path.join(work, "auditd-"));
  writeTables(auditDir, new Map([["Syslog", audit.syslog]]));
  return [
    { target: "defender", events: defender.events, workspace: await openWorkspace(defenderDir) },
    {
      target: "asim",
      events: defender.events,
      workspace: await openWorkspace(defenderDir, { functions: asimFunctions().functions }),
    },
    {
      target: "auditd",
      events: audit.events,
      workspace: await openWorkspace(auditDir, { functions: REGISTRY.auditd.functions.map(functionWithBody) }),
    },
  ];
}

/** The key of a KQL result row (the extra column PairedLine of Defender rows, or the audit event id). */
function rowKey(target: Target, row: Record<string, unknown>): string {
  if (target === "auditd") return row.AuditEventId ? `audit:${String(row.AuditEventId)}` : "audit:?";
  const line = row.PairedLine ?? row.PairedLine1 ?? row.PairedLine2;
  return line === undefined || line === null ? "defender:?" : `defender:${String(line)}`;
}

const sorted = (keys: Iterable<string>): string[] => [...new Set(keys)].sort();

export async function compare(rule: LoadedRule, side: Side): Promise<Outcome> {
  const ast = rule.query?.ast;
  if (!ast) return { kind: "refused", reason: "no query" };
  const t = translateRule(rule, side.target, { validate: false });
  if (t.refused || !t.kql) return { kind: "refused", reason: t.refused?.message ?? "refused" };
  const matches = evaluate(
    ast,
    side.events.map((e) => e.ecs),
  );
  const ecs = sorted(matches.flatMap((m) => m.indexes.filter((i) => i >= 0).map((i) => side.events[i]?.key ?? "")));
  let rows: Record<string, unknown>[];
  try {
    rows = toRecords(await side.workspace.query(t.kql, { now: Date.UTC(2026, 0, 1) }));
  } catch (error) {
    return { kind: "failed", reason: (error as Error).message.split("\n")[0] ?? "" };
  }
  return {
    kind: "compared",
    ecs,
    kql: sorted(rows.flatMap((r) => keysOf(side.target, r))),
    approximations: t.approximations,
  };
}

/** A row's keys: a sequence row holds each step's event as a bag in `ShmhuntEvent<n>`; an event row is one event. */
function keysOf(target: Target, row: Record<string, unknown>): string[] {
  const steps = Object.keys(row).filter((k) => /^ShmhuntEvent\d+$/.test(k));
  if (steps.length === 0) return [rowKey(target, row)];
  return steps.map((k) => rowKey(target, (row[k] ?? {}) as Record<string, unknown>));
}
