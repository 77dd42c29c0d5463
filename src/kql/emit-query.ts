/**
 * EQL queries → one KQL query for a target: the source table(s) of the category, the condition, the rule's
 * exclusions (read at run time from a Sentinel watchlist), the entity columns, and the pipes. Sequences become a
 * chain of time-windowed inner joins. Pure: everything it reads comes in through `QueryInput`.
 */
import type { Duration, EventFilter, Expr, Pipe, Query, SequenceQuery, SequenceStep } from "../eql/ast.js";
import { walkExpr } from "../eql/ast.js";
import { normalizeCondition } from "../eql/normalize.js";
import type { KqlType } from "../kusto/schemas.js";
import type { EntityMapping, Exclusions } from "../rules/types.js";
import type { SourceSpec, TargetMapping } from "../targets/target-types.js";
import { type Cond, cond, type ExprContext, resolveField, valueText } from "./emit-expr.js";
import { entityColumn } from "./entity-columns.js";
import { type KqlNode, printCondition } from "./kql-tree.js";
import { kqlLong, kqlString, kqlTimespan, kqlVerbatim } from "./literals.js";
import { Refusal } from "./refusal.js";

export interface QueryInput {
  readonly query: Query;
  readonly mapping: TargetMapping;
  /** Column types of a table or function schema. */
  readonly columnsOf: (schema: string) => ReadonlyMap<string, KqlType>;
  readonly exclusions?: Exclusions | null;
  readonly entities?: readonly EntityMapping[];
}

export interface Emitted {
  /** The KQL query (without the generated-file header). */
  readonly kql: string;
  /** Approximations, each once, sorted. */
  readonly notes: readonly string[];
  /** Entity columns the query adds: entity type → identifier → column. */
  readonly entityColumns: readonly { readonly type: string; readonly identifier: string; readonly column: string }[];
}

const INDENT = "    ";

export function emitQuery(input: QueryInput): Emitted {
  const notes = new Set<string>();
  const q = input.query;
  if (q.kind === "sample") throw new Refusal("construct", "sample", "sample queries have no KQL translation here");
  const lets: string[] = [];
  const exclusions = exclusionPlan(input.exclusions ?? null, lets);
  const entityColumns = new Map<string, { type: string; identifier: string; column: string }>();
  const env: Env = { input, notes, exclusions, entityColumns };
  const body = q.kind === "event" ? eventQuery(q.filter, q.pipes, env) : sequenceQuery(q, env);
  const kql = [...lets, body].join("\n");
  return { kql, notes: [...notes].sort(), entityColumns: [...entityColumns.values()] };
}

interface Env {
  readonly input: QueryInput;
  readonly notes: Set<string>;
  readonly exclusions: ExclusionPlan;
  readonly entityColumns: Map<string, { type: string; identifier: string; column: string }>;
}

// ── Sources and branches ────────────────────────────────────────────────────

function sourcesFor(category: string | null, env: Env): SourceSpec[] {
  const all = env.input.mapping.sources;
  if (category === null) return [...all];
  const found = all.filter((s) => Object.hasOwn(s.categories, category));
  if (found.length === 0) {
    throw new Refusal(
      "construct",
      `category ${category}`,
      `no ${env.input.mapping.target} source holds ${category} events`,
    );
  }
  return found;
}

function contextFor(source: SourceSpec, env: Env): ExprContext {
  return {
    target: env.input.mapping.target,
    source,
    columns: env.input.columnsOf(source.schema),
    notes: env.notes,
  };
}

/**
 * The arguments of a parser function's filtering parameters that the condition implies: for each of the source's
 * `filters`, a top-level conjunct `<column> == "<value>"` gives `<parameter>="<value>"`, so that the parser filters
 * before it parses (Microsoft's vimProcessEventMicrosoft365D.yaml: `(eventtype=='*' or eventtype=='ProcessCreated')`).
 * The condition still tests the column: the argument only narrows what the parser reads. Empty for a table.
 */
function filterArguments(source: SourceSpec, node: KqlNode): string {
  if (!source.filters?.length) return "";
  const conjuncts = node.k === "and" ? node.parts : [node];
  const args: string[] = [];
  for (const { parameter, column } of source.filters) {
    const test = conjuncts.find(
      (c) =>
        c.k === "binary" &&
        c.op === "==" &&
        c.left.k === "text" &&
        c.left.text === column &&
        c.right.k === "text" &&
        /^"(?:[^"\\]|\\.)*"$/.test(c.right.text),
    );
    if (test?.k === "binary" && test.right.k === "text") args.push(`${parameter}=${test.right.text}`);
  }
  return args.length === 0 ? "" : `(${args.join(", ")})`;
}

/** The branches (one per source) of a filter: `from | where ...` lines, or none when the filter never matches. */
function branches(
  filter: EventFilter,
  env: Env,
  extra: (source: SourceSpec, ctx: ExprContext) => string[],
  withEntities = true,
): string[][] {
  const sources = sourcesFor(filter.category, env);
  const condition = normalizeCondition(filter.condition);
  const out: string[][] = [];
  let firstRefusal: Refusal | undefined;
  for (const source of sources) {
    const ctx = contextFor(source, env);
    let c: Cond;
    const local = new Set<string>();
    try {
      c = cond(condition, { ...ctx, notes: local });
    } catch (error) {
      if (!(error instanceof Refusal) || sources.length === 1) throw error;
      firstRefusal ??= error;
      continue;
    }
    if (c.k === "const" && c.v !== true) continue;
    for (const n of local) env.notes.add(n);
    const lines = [`${source.from}${c.k === "kql" ? filterArguments(source, c.node) : ""}`];
    const categoryFilter = filter.category === null ? null : source.categories[filter.category];
    if (categoryFilter) lines.push(`| where ${categoryFilter}`);
    if (c.k === "kql") lines.push(`| where ${printCondition(c.node, INDENT)}`);
    lines.push(...exclusionLines(ctx, env), ...(withEntities ? entityLines(ctx, env) : []), ...extra(source, ctx));
    out.push(lines);
  }
  if (out.length === 0 && !firstRefusal && !readsFields(condition)) {
    // false in the EQL itself (`where false`), whatever the target: the query matches nothing, as in Elasticsearch
    const source = sources[0] as SourceSpec;
    const ctx = contextFor(source, env);
    out.push([source.from, "| where false", ...extra(source, ctx)]);
  }
  if (out.length === 0) {
    if (firstRefusal) throw firstRefusal;
    throw new Refusal("construct", "always false", `the condition can never hold on ${env.input.mapping.target}`);
  }
  if (firstRefusal && out.length < sources.length) {
    env.notes.add(`some ${env.input.mapping.target} sources are left out of the union: ${firstRefusal.message}`);
  }
  return out;
}

function readsFields(expr: Expr): boolean {
  for (const node of walkExpr(expr)) if (node.kind === "field") return true;
  return false;
}

function union(branchLines: readonly (readonly string[])[]): string {
  if (branchLines.length === 1) return (branchLines[0] as string[]).join("\n");
  const parts = branchLines.map((lines) => `(${lines.map((l, i) => (i === 0 ? l : `${INDENT}${l}`)).join("\n")})`);
  return `union\n${parts.map((p) => `${INDENT}${p.replace(/\n/g, `\n${INDENT}`)}`).join(",\n")}`;
}

// ── Event queries ───────────────────────────────────────────────────────────

function eventQuery(filter: EventFilter, pipes: readonly Pipe[], env: Env): string {
  const withTime = pipes.length > 0;
  const tiebreak = withTime && sourcesFor(filter.category, env).every((s) => s.tiebreaker !== undefined);
  const lines = branches(filter, env, (source) =>
    withTime
      ? [`| extend ShmhuntTime = ${source.time}${tiebreak ? `, ShmhuntTiebreaker = ${source.tiebreaker}` : ""}`]
      : [],
  );
  return [union(lines), ...pipeLines(pipes, "ShmhuntTime", tiebreak ? "ShmhuntTiebreaker" : undefined)].join("\n");
}

/** `head`/`tail` in order: by time, then by the tiebreaker when the sources have one (Elasticsearch's order). */
function pipeLines(pipes: readonly Pipe[], time: string, tiebreaker?: string): string[] {
  const by = (dir: "asc" | "desc") => [time, ...(tiebreaker ? [tiebreaker] : [])].map((c) => `${c} ${dir}`).join(", ");
  if (!tiebreaker) {
    return pipes.map((p) =>
      p.kind === "head"
        ? `| top ${kqlLong(p.count)} by ${time} asc`
        : `| top ${kqlLong(p.count)} by ${time} desc | sort by ${time} asc`,
    );
  }
  // `top` orders by one expression only
  return pipes.map((p) =>
    p.kind === "head"
      ? `| sort by ${by("asc")} | take ${kqlLong(p.count)}`
      : `| sort by ${by("desc")} | take ${kqlLong(p.count)} | sort by ${by("asc")}`,
  );
}

// ── Sequences ───────────────────────────────────────────────────────────────

/**
 * `sequence` as Elasticsearch's state machine, with KQL `scan` (see docs/kql.md "Sequences"): every step's
 * events (one row per step an event matches, `ShmhuntStep` = its number; `until` rows are step 0) are sorted by
 * join key, time, tiebreaker and step (last first), and scanned. Per key, step k takes the sequence waiting after
 * step k-1 (the most recent: a newer one replaces it), an event never extends a sequence waiting at its own step
 * (`isnull(s<k>.ShmhuntStage)` rules out scan's "Check 2"), and an `until` row marks the key's sequences in
 * progress dead. Sorting by key first gives per-key state without `partition`: a step only takes a sequence of
 * the same key.
 */
function sequenceQuery(q: SequenceQuery, env: Env): string {
  const steps: SequenceStep[] = [];
  for (const s of q.steps) {
    if (s.missing)
      throw new Refusal("construct", "sequence missing event", "missing events `![...]` are not translated");
    for (let i = 0; i < s.runs; i++) steps.push(s);
  }
  env.notes.add("sequence: no entity columns (each step's event is in the ShmhuntEvent<n> column)");
  const keyCount = q.by.length + (steps[0]?.by.length ?? 0);
  const until = untilOn(q, env);
  const allSources = [...steps.map((s) => s.filter), ...(until ? [until.filter] : [])].flatMap((f) =>
    sourcesFor(f.category, env),
  );
  const tiebreak = allSources.every((s) => s.tiebreaker !== undefined);
  if (!tiebreak) {
    env.notes.add("sequence: events with the same timestamp are taken in no defined order (no tiebreaker column)");
  }
  const stepRows = (filter: EventFilter, by: readonly Expr[], n: number, name: string): string => {
    const keys: readonly Expr[] = [...q.by, ...by];
    const required = keys.flatMap((k, j) => (k.kind === "field" && k.optional ? [] : [j]));
    const lines = branches(
      filter,
      env,
      (source, ctx) => {
        const cols = [
          `ShmhuntStep = ${n}`,
          ...keys.map((k, j) => `ShmhuntKey${j} = ${keyValue(k, ctx)}`),
          `ShmhuntTime = ${source.time}`,
          ...(tiebreak ? [`ShmhuntTiebreaker = ${source.tiebreaker}`] : []),
          `ShmhuntEvent = ${n === 0 ? "dynamic(null)" : "pack_all()"}`,
        ];
        return [
          `| project ${cols.join(", ")}`,
          // a missing key drops the event, except for an optional key (`?f`), where null is a key value
          ...(required.length ? [`| where ${required.map((j) => `isnotempty(ShmhuntKey${j})`).join(" and ")}`] : []),
        ];
      },
      false,
    );
    return `let ${name} = ${union(lines).replace(/\n/g, `\n${INDENT}`)};`;
  };
  const names = steps.map((_, i) => `shmhuntStep${i + 1}`);
  const lets = steps.map((step, i) => stepRows(step.filter, step.by, i + 1, names[i] as string));
  if (until) {
    names.push("shmhuntUntil");
    lets.push(stepRows(until.filter, until.by, 0, "shmhuntUntil"));
  }
  const keyCols = Array.from({ length: keyCount }, (_, j) => `ShmhuntKey${j}`);
  const sameKey = (step: string) => keyCols.map((k) => `${k} == ${step}.${k}`);
  const order = [...keyCols.map((k) => `${k} asc`), "ShmhuntTime asc"];
  if (tiebreak) order.push("ShmhuntTiebreaker asc");
  order.push("ShmhuntStep desc");
  const n = steps.length;
  const perStep = (k: number) => [
    `ShmhuntTime${k}`,
    ...(tiebreak ? [`ShmhuntTiebreaker${k}`] : []),
    `ShmhuntEvent${k}`,
  ];
  const declared = [
    "ShmhuntStage: long",
    ...(until ? ["ShmhuntDead: bool = false"] : []),
    ...Array.from({ length: n }, (_, i) => [
      `ShmhuntTime${i + 1}: datetime`,
      ...(tiebreak ? [`ShmhuntTiebreaker${i + 1}: ${tiebreakerType(allSources, env)}`] : []),
      `ShmhuntEvent${i + 1}: dynamic`,
    ]).flat(),
  ];
  const scanSteps: string[] = [];
  for (let k = 1; k <= n; k++) {
    const conds = [`ShmhuntStep == ${k}`];
    if (k > 1) {
      conds.push(`isnull(s${k}.ShmhuntStage)`, ...sameKey(`s${k - 1}`));
      if (until) conds.push(`s${k - 1}.ShmhuntDead == false`);
      if (q.maxspan) conds.push(`ShmhuntTime - s1.ShmhuntTime <= ${timespan(q.maxspan)}`);
    }
    let condition = conds.join(" and ");
    const assignments = [`ShmhuntStage = ${k}`];
    if (until && k < n) {
      // an `until` row of the same key replaces the sequence waiting here with a dead one
      condition = `(${condition}) or (ShmhuntStep == 0 and ${sameKey(`s${k}`).join(" and ") || "true"})`;
      assignments.push("ShmhuntDead = ShmhuntStep == 0");
    }
    if (k === n) {
      for (let i = 1; i < n; i++) {
        for (const col of perStep(i)) assignments.push(`${col} = s${i}.${col.replace(/\d+$/, "")}`);
      }
      for (const col of perStep(n)) assignments.push(`${col} = ${col.replace(/\d+$/, "")}`);
    }
    const output = k === n ? "" : " output=none";
    scanSteps.push(`${INDENT}step s${k}${output}: ${condition} => ${assignments.join(", ")};`);
  }
  const out = [
    ...lets,
    names.length === 1 ? names[0] : `union ${names.join(", ")}`,
    `| sort by ${order.join(", ")}`,
    `| scan declare (${declared.join(", ")}) with (`,
    ...scanSteps,
    ")",
    `| project ${[...keyCols, ...Array.from({ length: n }, (_, i) => perStep(i + 1)).flat()].join(", ")}`,
  ];
  // sequences come in the order they complete, as Elasticsearch returns them
  out.push(...pipeLines(q.pipes, `ShmhuntTime${n}`, tiebreak ? `ShmhuntTiebreaker${n}` : undefined));
  return out.join("\n");
}

/**
 * The `until` step, or null when it can never match on the target (its events are not recorded there): the
 * sequences are then never cut, a superset of Elasticsearch's answer, reported as an approximation.
 */
function untilOn(q: SequenceQuery, env: Env): SequenceStep | null {
  if (!q.until) return null;
  try {
    const probe: Env = { ...env, notes: new Set() };
    branches(q.until.filter, probe, () => [], false);
    return q.until;
  } catch (error) {
    if (!(error instanceof Refusal) || !(error.subject === "always false" || error.subject.startsWith("category "))) {
      throw error;
    }
    env.notes.add(
      `sequence until: never matches on ${env.input.mapping.target} (${error.message}), so sequences are not cut by it`,
    );
    return null;
  }
}

/** The KQL type of the tiebreaker columns (the first source's; all sources of one target share it). */
function tiebreakerType(sources: readonly SourceSpec[], env: Env): string {
  const source = sources[0];
  if (!source?.tiebreaker) return "long";
  const t = env.input.columnsOf(source.schema).get(source.tiebreaker);
  return t ?? "long";
}

function keyValue(key: Expr, ctx: ExprContext): string {
  if (key.kind !== "field") throw new Refusal("construct", "sequence by an expression", "only fields are join keys");
  const v = resolveField(key, ctx);
  if (v.k === "const") {
    // a constant field joins on its value; an optional field without counterpart is null, itself a key value
    if (v.v !== null) return kqlString(String(v.v));
    if (key.optional) return '""';
    throw new Refusal("field", key.name, `join key has no column on ${ctx.target}`);
  }
  if (v.field?.spec.argsOf) throw new Refusal("field", key.name, "argv cannot be a join key");
  return valueText(v, "string");
}

function timespan(d: Duration): string {
  return kqlTimespan(d.value, d.unit);
}

// ── Exclusions (data, read at run time from the watchlist) ──────────────────

interface ExclusionPlan {
  /** One entry per (field, operator) the rule's items use: the let name to test against. */
  readonly checks: readonly { readonly field: string; readonly operator: "==" | ":"; readonly name: string }[];
}

function exclusionPlan(exclusions: Exclusions | null, lets: string[]): ExclusionPlan {
  if (!exclusions || exclusions.items.length === 0) return { checks: [] };
  const pairs: { field: string; operator: "==" | ":" }[] = [];
  for (const item of exclusions.items) {
    if (!pairs.some((p) => p.field === item.field && p.operator === item.operator)) {
      pairs.push({ field: item.field, operator: item.operator });
    }
  }
  lets.push(
    `let shmhuntExclusions = _GetWatchlist(${kqlString(exclusions.watchlist)})`,
    `${INDENT}| project Field = tostring(WatchlistItem.Field), Operator = tostring(WatchlistItem.Operator), Value = tostring(WatchlistItem.Value);`,
  );
  const checks = pairs.map((p, i) => {
    const name = `shmhuntExcluded${i + 1}`;
    const rows = `shmhuntExclusions | where Field == ${kqlString(p.field)} and Operator == ${kqlString(p.operator)}`;
    if (p.operator === "==") lets.push(`let ${name} = ${rows} | project Value;`);
    else {
      // EQL `:` patterns: case-insensitive, `*` and `?` wildcards, anchored; built from the rows at run time.
      lets.push(
        `let ${name} = toscalar(${rows}`,
        `${INDENT}| extend Pattern = replace_string(replace_string(regex_quote(Value), ${kqlVerbatim("\\*")}, ".*"), ${kqlVerbatim("\\?")}, ".")`,
        `${INDENT}| summarize Patterns = make_list(Pattern)`,
        `${INDENT}| project iff(array_length(Patterns) == 0, "", strcat("(?is)^(?:", strcat_array(Patterns, "|"), ")$")));`,
      );
    }
    return { ...p, name };
  });
  return { checks };
}

function exclusionLines(ctx: ExprContext, env: Env): string[] {
  const out: string[] = [];
  for (const check of env.exclusions.checks) {
    const local = new Set<string>();
    const v = resolveField(
      { kind: "field", name: check.field, optional: true, span: NO_SPAN },
      { ...ctx, notes: local },
    );
    if (v.k === "const" || v.field?.spec.argsOf) {
      env.notes.add(`exclusions on ${check.field} are not applied on ${ctx.source.from}: no such column`);
      continue;
    }
    for (const n of local) env.notes.add(n);
    const subject = valueText(v, "string");
    out.push(
      check.operator === "=="
        ? `| where ${subject} !in (${check.name})`
        : `| where not(isnotempty(${check.name}) and ${subject} matches regex ${check.name})`,
    );
  }
  return out;
}

const NO_SPAN = { start: { line: 1, column: 1, offset: 0 }, end: { line: 1, column: 1, offset: 0 } };

// ── Entities ────────────────────────────────────────────────────────────────

/** The column text of the `.sha1` field beside a `.sha256` one, when the target maps it. */
function sha1Sibling(field: string, ctx: ExprContext): string | undefined {
  if (!field.endsWith(".sha256")) return undefined;
  const v = resolveField(
    { kind: "field", name: `${field.slice(0, -".sha256".length)}.sha1`, optional: true, span: NO_SPAN },
    { ...ctx, notes: new Set() },
  );
  return v.k === "const" || v.field?.spec.argsOf ? undefined : valueText(v, "string");
}

/** `| extend Entity_Host_HostName = DeviceName, ...`: the columns Sentinel's entity mappings point at. */
function entityLines(ctx: ExprContext, env: Env): string[] {
  const parts: string[] = [];
  for (const entity of env.input.entities ?? []) {
    for (const { identifier, field } of entity.identifiers) {
      const column = entityColumn(entity.type, identifier);
      const v = resolveField(
        { kind: "field", name: field, optional: true, span: NO_SPAN },
        { ...ctx, notes: new Set() },
      );
      if (v.k === "const" || v.field?.spec.argsOf) continue;
      let value = valueText(v, "string");
      // A FileHash's Algorithm is the rule's constant (Sentinel needs both identifiers), placed before its Value.
      if (entity.type === "FileHash" && identifier === "Value" && entity.algorithm) {
        const algorithm = entityColumn(entity.type, "Algorithm");
        const sha1 = entity.algorithm === "SHA256" ? sha1Sibling(field, ctx) : undefined;
        if (sha1) {
          // Defender documents its SHA256 columns as "usually not populated - use the SHA1 column when available"
          // (schemas/DeviceFileEvents.docs.json): a row without a SHA-256 names its file by the SHA-1.
          const useSha1 = `isempty(${value}) and isnotempty(${sha1})`;
          parts.push(`${algorithm} = iff(${useSha1}, "SHA1", "SHA256")`);
          value = `iff(${useSha1}, ${sha1}, ${value})`;
        } else {
          parts.push(`${algorithm} = "${entity.algorithm}"`);
        }
        env.entityColumns.set(algorithm, { type: entity.type, identifier: "Algorithm", column: algorithm });
      }
      parts.push(`${column} = ${value}`);
      env.entityColumns.set(column, { type: entity.type, identifier, column });
    }
  }
  return parts.length ? [`| extend ${parts.join(", ")}`] : [];
}
