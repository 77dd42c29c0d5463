/**
 * The `scan` operator, per ../shared/reference/kusto-docs/scan-operator.md: each record is checked against the
 * steps from last to first; Check 1 (the previous step has an active sequence and the condition holds) promotes
 * that sequence to this step and outputs the record; Check 2 (this step is active, or is the first step) updates
 * this step's own record and outputs it when `output=all`. `output=last` is not supported (WS500).
 */
import { type Ctx, type Fn, type RowScope, spanOf } from "./context.js";
import { semanticError, unsupported } from "./errors.js";
import { type Column, materialize, memoized, type Relation, type Row } from "./relation.js";
import { compileScalar } from "./scalars.js";
import { elements, kindOf, type Node, resultColumns, simpleName } from "./syntax.js";
import type { Value } from "./values.js";

interface Step {
  readonly name: string;
  readonly output: "all" | "none";
  readonly condition: Fn;
  readonly assignments: readonly { slot: number; fn: Fn }[];
}

/** A sequence: one extended record per step reached so far, and its match id. */
interface Sequence {
  readonly records: Row[];
  readonly matchId: number;
}

export async function scanRelation(op: Node, input: Relation, ctx: Ctx): Promise<Relation> {
  const out = resultColumns(op);
  const inputWidth = input.columns.length;
  let matchIdColumn: string | undefined;
  for (const p of elements(op.Parameters)) {
    const n = simpleName(p.Name).toLowerCase();
    if (n === "with_match_id") matchIdColumn = String(p.Expression?.ToString?.() ?? "").trim();
    else throw unsupported(`scan parameter ${n}`, spanOf(ctx, p));
  }
  const declared: { column: Column; def: Value }[] = [];
  for (const d of elements(op.DeclareClause?.Declarations)) {
    const name = simpleName(d.NameAndType?.Name);
    const col = out.find((c) => c.name === name);
    if (!col) throw semanticError(`scan: declared column ${name} missing from the output`, spanOf(ctx, d));
    const defNode = d.DefaultValue?.Value;
    const def = defNode ? (await compileScalar(defNode, emptyScope, ctx)).fn([]) : col.type === "string" ? "" : null;
    declared.push({ column: col, def });
  }
  const width = inputWidth + declared.length;
  const withMatchId = matchIdColumn !== undefined || out.length > width;
  const columns: Column[] = [...input.columns, ...declared.map((d) => d.column)];
  const slots = new Map(columns.map((c, i) => [c.name, i] as const));

  // The state the conditions and assignments currently see (`s1.col`).
  let current: Sequence | undefined;
  const stepNames = elements(op.Steps).map((s: Node) => simpleName(s.Name));
  const scope: RowScope = {
    columns,
    slot: (name) => slots.get(name),
    stepColumn(step, column) {
      const k = stepNames.indexOf(step);
      const slot = slots.get(column);
      if (k < 0 || slot === undefined) return undefined;
      const declaredAt = slot - inputWidth;
      return () => {
        const rec = current?.records[k];
        if (rec) return rec[slot] as Value;
        return declaredAt >= 0 ? (declared[declaredAt]?.def ?? null) : null;
      };
    },
  };

  const steps: Step[] = [];
  for (const s of elements(op.Steps)) {
    const outputText = String(s.ScanStepOutput?.ToString?.() ?? "").toLowerCase();
    if (outputText.includes("last")) throw unsupported("scan step output=last", spanOf(ctx, s));
    const assignments: { slot: number; fn: Fn }[] = [];
    for (const a of elements(s.ComputationClause?.Assignments)) {
      const slot = slots.get(simpleName(a.Name));
      if (slot === undefined || slot < inputWidth)
        throw unsupported("scan assignment to an input column", spanOf(ctx, a));
      assignments.push({ slot, fn: (await compileScalar(a.Expression, scope, ctx)).fn });
    }
    steps.push({
      name: simpleName(s.Name),
      output: outputText.includes("none") ? "none" : "all",
      condition: (await compileScalar(s.Condition, scope, ctx)).fn,
      assignments,
    });
  }
  if (kindOf(op) !== "ScanOperator") throw unsupported("scan", spanOf(ctx, op));

  return memoized(out, async () => {
    const rows = await materialize(input);
    const state: (Sequence | undefined)[] = steps.map(() => undefined);
    const emitted: Row[] = [];
    let nextMatchId = 0;
    const extend = (row: Row, seq: Sequence | undefined): Row => {
      const last = seq?.records[seq.records.length - 1];
      const r = row.slice(0, inputWidth);
      for (let i = 0; i < declared.length; i++) {
        r.push(last ? (last[inputWidth + i] as Value) : (declared[i]?.def ?? null));
      }
      return r;
    };
    const assign = (step: Step, r: Row): Row => {
      const values = step.assignments.map((a) => a.fn(r));
      step.assignments.forEach((a, i) => {
        r[a.slot] = values[i] as Value;
      });
      return r;
    };
    const emit = (r: Row, seq: Sequence) => {
      // Kusto.Language's schema carries the match id column (named by with_match_id, else match_id).
      emitted.push(withMatchId ? [...r.slice(0, width), seq.matchId] : r.slice(0, width));
    };
    for (const row of rows) {
      for (let k = steps.length - 1; k >= 0; k--) {
        const step = steps[k] as Step;
        const prev = k > 0 ? state[k - 1] : undefined;
        if (prev) {
          current = prev;
          const r = extend(row, prev);
          if (step.condition(r) === true) {
            assign(step, r);
            const seq: Sequence = { records: [...prev.records, r], matchId: prev.matchId };
            state[k] = seq;
            state[k - 1] = undefined;
            if (step.output === "all") emit(r, seq);
            continue;
          }
        }
        const own = state[k];
        if (own || k === 0) {
          current = own;
          const r = extend(row, own);
          if (step.condition(r) === true) {
            assign(step, r);
            // Matching the first step again continues its sequence (same match id); a new id starts only when
            // the step had no active sequence.
            const seq: Sequence = own
              ? { records: [...own.records.slice(0, k), r], matchId: own.matchId }
              : { records: [r], matchId: nextMatchId++ };
            state[k] = seq;
            if (step.output === "all") emit(r, seq);
          }
        }
      }
    }
    current = undefined;
    return emitted;
  });
}

const emptyScope: RowScope = { columns: [], slot: () => undefined };
