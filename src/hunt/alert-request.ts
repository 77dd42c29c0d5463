/** Turns a hit into what an incident says: title, evidence, labels, entities, and the incident it belongs to. Pure. */
import { parseEntityColumn } from "../kql/entity-columns.js";
import type { AlertRequest, EntityMapping } from "../sentinel/incidents.js";
import { isoTimeText, present, type Row } from "./hit-key.js";
import type { HitRecord, HuntPlan, IncidentGrouping, StoredVerdict } from "./types.js";

/**
 * An alert request as the hunt makes it: its description is `descriptionHead` and the result row printed after it
 * (`describedWithRow`), so a writer that keeps the row beside the description (the local one) need not keep it twice.
 */
export interface HuntAlertRequest extends AlertRequest {
  readonly descriptionHead: string;
  /**
   * True when `entities` is what `entitiesOf` gives for the row, also once the row is written as JSON and read back
   * (each entity value is text or a number): a writer that keeps the row may then leave the entities to be read
   * from it.
   */
  readonly entitiesFromRow: boolean;
  /** The query window's bounds and the event time as `toISOString` writes them (what a writer of text keeps). */
  readonly times: { readonly queryStart: string; readonly queryEnd: string; readonly eventTime: string };
}

/** Is this one of the hunt's alert requests? (Asked without reading its description, written out when read.) */
export function isHuntAlertRequest(alert: AlertRequest): alert is HuntAlertRequest {
  return "descriptionHead" in alert && "entitiesFromRow" in alert;
}

export function alertRequestOf(plan: HuntPlan, hit: HitRecord, verdict: StoredVerdict | undefined): HuntAlertRequest {
  return new HuntAlert(plan, hit, verdict);
}

/**
 * A hit's alert request (a class, not an object of closures: a hunt makes one per alerted row). What a writer may
 * not read is made when first read: the entities (the local writer reads them from the row), the times as dates
 * (it writes their text) and the description (read for an incident it creates, a group's first hit).
 */
class HuntAlert implements HuntAlertRequest {
  readonly hitKey: string;
  readonly incidentKey: string;
  readonly title: string;
  readonly severity: AlertRequest["severity"];
  readonly labels: readonly string[];
  readonly query: string;
  readonly row: Row;
  readonly tactics: readonly string[];
  readonly techniques: readonly string[];
  readonly entitiesFromRow: boolean;
  #entities: readonly EntityMapping[] | undefined;
  #head: string | undefined;
  #description: string | undefined;

  constructor(
    private readonly plan: HuntPlan,
    private readonly hit: HitRecord,
    private readonly verdict: StoredVerdict | undefined,
  ) {
    const { rule } = plan;
    const { row } = hit;
    const layout = entityLayoutOf(row);
    const host = layout.hostName === undefined ? undefined : row[layout.hostName];
    this.hitKey = hit.key;
    this.incidentKey = incidentKeyFrom(plan, hit, layout);
    this.title = `${rule.name}${present(host) ? ` on ${String(host)}` : ""}`.slice(0, 250);
    this.severity = rule.severity;
    this.labels = labelsOf(plan, verdict);
    this.query = plan.query;
    this.row = row;
    this.tactics = rule.tactics;
    this.techniques = rule.techniques;
    this.entitiesFromRow = entitiesFromText(row, layout);
  }

  get entities(): readonly EntityMapping[] {
    this.#entities ??= entityScan(this.row).entities;
    return this.#entities;
  }
  get queryStart(): Date {
    return new Date(this.hit.window.start);
  }
  get queryEnd(): Date {
    return new Date(this.hit.window.end);
  }
  get eventTime(): Date {
    return new Date(this.hit.eventTime);
  }
  /** The times as text, as `toISOString` writes them (the hit's own text when it is that already). */
  get times(): { readonly queryStart: string; readonly queryEnd: string; readonly eventTime: string } {
    const { window } = this.hit;
    if (lastWindow?.start !== window.start || lastWindow.end !== window.end)
      lastWindow = {
        start: window.start,
        end: window.end,
        isoStart: isoTimeText(window.start),
        isoEnd: isoTimeText(window.end),
      };
    return { queryStart: lastWindow.isoStart, queryEnd: lastWindow.isoEnd, eventTime: isoTimeText(this.hit.eventTime) };
  }

  /**
   * Both written out when first read: a writer reads them only for an incident it creates (a group's first hit),
   * and the result row, printed, cost more than the rest of a hit's alert.
   */
  get descriptionHead(): string {
    this.#head ??= descriptionHeadOf(this.plan, this.hit, this.verdict);
    return this.#head;
  }
  get description(): string {
    this.#description ??= describedWithRow(this.descriptionHead, this.hit.row);
    return this.#description;
  }
}

/** The last window's bounds and their ISO text (a batch's hits share their window). */
let lastWindow: { start: string; end: string; isoStart: string; isoEnd: string } | undefined;

/**
 * Every entity value of the row text or a finite number, none undefined: the entities are the same once the row is
 * read back (JSON drops an undefined column, and the entities' order follows the columns').
 */
function entitiesFromText(row: Row, layout: EntityLayout): boolean {
  const { types } = layout;
  for (let t = 0; t < types.length; t++) {
    const { fields } = types[t]!;
    for (let f = 0; f < fields.length; f++) {
      const value = row[fields[f]!.column];
      if (value === undefined) return false;
      if (!present(value) || typeof value === "string") continue;
      if (!Number.isFinite(value)) return false;
    }
  }
  return true;
}

/**
 * The incident labels of a plan's hits with a verdict: the same for every hit of the plan with that verdict, so
 * built once per plan and verdict (a run's verdicts are shared objects) and shared, read-only, by its alerts.
 */
const labelCache = new WeakMap<HuntPlan, Map<StoredVerdict | undefined, readonly string[]>>();
const LABEL_SETS_KEPT = 1024;

function labelsOf(plan: HuntPlan, verdict: StoredVerdict | undefined): readonly string[] {
  let byVerdict = labelCache.get(plan);
  if (!byVerdict) {
    byVerdict = new Map();
    labelCache.set(plan, byVerdict);
  }
  let labels = byVerdict.get(verdict);
  if (!labels) {
    const { rule } = plan;
    const verdictLabel = verdict
      ? verdict.scanFailed
        ? "scan-failed"
        : verdict.matches.length > 0
          ? "match"
          : "clean"
      : "none";
    labels = Object.freeze([
      "shmhunt",
      `rule:${rule.id}`,
      `target:${plan.target}`,
      ...rule.tactics,
      ...rule.techniques,
      `verdict:${verdictLabel}`,
      ...(verdict?.matches.map((m) => `yara:${m.rule}`) ?? []),
    ]);
    if (byVerdict.size >= LABEL_SETS_KEPT) byVerdict.clear(); // bounded: verdicts read from records are new objects
    byVerdict.set(verdict, labels);
  }
  return labels;
}

/** The incident's description before the result row: the rule, the window, the sample and its verdict, the gate. */
function descriptionHeadOf(plan: HuntPlan, hit: HitRecord, verdict: StoredVerdict | undefined): string {
  const { rule } = plan;
  return [
    rule.description ?? rule.name,
    "",
    `Rule: ${rule.name} (${rule.id}), target ${plan.target}, risk score ${rule.riskScore}.`,
    `Seen in the window ${hit.window.start} .. ${hit.window.end}; event time ${hit.eventTime}.`,
    hit.sha256 ? `Sample: ${hit.sha256}.` : "Sample: none named in the result row.",
    verdict?.scanFailed
      ? `YARA verdict: scan failed after ${verdict.scanFailed.attempts} attempts (${verdict.scanFailed.reason}); the sample was not cleared.`
      : verdict
        ? `YARA verdict: ${verdict.matches.length > 0 ? `matched ${verdict.matches.map((m) => m.rule).join(", ")}` : "no rule matched"} (scanned ${verdict.scannedAt}, ${verdict.size} bytes).`
        : "YARA verdict: none yet.",
    `Gate: ${rule.gate.mode}. Hit key: ${hit.key}.`,
    "",
    "Result row:",
  ].join("\n");
}

/** The whole description: its head, then the result row printed (joined to the head, not copied into it). */
export function describedWithRow(head: string, row: Row): string {
  const text = `${head}\n${JSON.stringify(row, null, 2)}`;
  return text.length > DESCRIPTION_CHARS ? text.slice(0, DESCRIPTION_CHARS) : text;
}

/** The longest description written, in characters. */
const DESCRIPTION_CHARS = 5000;

/**
 * Sentinel entities of a result row: its `Entity_<Type>_<Identifier>` columns, which the query computes from the
 * rule's `[shmhunt.entities]` on every target (the same columns the analytics rule's entity mappings name), in
 * column order; empty values are left out.
 */
export function entitiesOf(row: Row): EntityMapping[] {
  return entityScan(row).entities;
}

/**
 * A row's entities, and the entity types it has a column for (empty or not). The arrays are made at their size
 * (an array grown by `push` keeps room for 16 more): a local alert keeps them.
 */
function entityScan(row: Row): { entities: EntityMapping[]; mapped: ReadonlySet<string>; fromText: boolean } {
  const layout = entityLayoutOf(row);
  const found: EntityMapping[] = [];
  /** Every value text or a finite number: the same once the row is written as JSON and read back. */
  let fromText = true;
  for (const { type, fields } of layout.types) {
    let n = 0;
    for (const { identifier, column } of fields) {
      const value = row[column];
      if (!present(value)) continue;
      if (typeof value !== "string" && !Number.isFinite(value)) fromText = false;
      scratch[n++] = { identifier, value: String(value) };
    }
    if (n > 0) found.push({ entityType: type, fieldMappings: scratch.slice(0, n) });
  }
  return { entities: found.slice(), mapped: layout.mapped, fromText };
}

/** The field mappings of one entity, gathered before they are copied out at their size. */
const scratch: Array<{ identifier: string; value: string }> = [];

/**
 * Where the entities are in rows with one list of columns: the entity types in the order of their first column,
 * each with its columns in column order. A hunt's rows share their columns (one query result), so the layout is
 * worked out once and recognised again by the column names, in order.
 */
interface EntityLayout {
  readonly columns: readonly string[];
  readonly types: ReadonlyArray<{
    readonly type: string;
    readonly fields: ReadonlyArray<{ readonly identifier: string; readonly column: string }>;
  }>;
  readonly mapped: ReadonlySet<string>;
  /** The column of the Host entity's HostName (the incident's title names it). */
  readonly hostName: string | undefined;
}

/** The layouts of the last few column lists met (rows read back from the state may come from an older query). */
const layouts: EntityLayout[] = [];
const LAYOUTS_KEPT = 8;

function entityLayoutOf(row: Row): EntityLayout {
  for (let i = 0; i < layouts.length; i++) if (hasColumns(row, layouts[i]!.columns)) return layouts[i]!;
  const columns: string[] = [];
  const byType = new Map<string, { identifier: string; column: string }[]>();
  for (const column in row) {
    columns.push(column);
    if (!column.startsWith("Entity_")) continue; // parseEntityColumn's prefix: most columns are not entities
    const entity = parseEntityColumn(column);
    if (!entity) continue;
    const fields = byType.get(entity.type);
    if (fields) fields.push({ identifier: entity.identifier, column });
    else byType.set(entity.type, [{ identifier: entity.identifier, column }]);
  }
  const layout: EntityLayout = {
    columns,
    types: [...byType].map(([type, fields]) => ({ type, fields })),
    mapped: new Set(byType.keys()),
    hostName: byType.get("Host")?.find((f) => f.identifier === "HostName")?.column,
  };
  if (layouts.length >= LAYOUTS_KEPT) layouts.pop();
  layouts.unshift(layout);
  return layout;
}

/** Does the row have exactly these columns, in this order? */
function hasColumns(row: Row, columns: readonly string[]): boolean {
  let i = 0;
  for (const column in row) if (column !== columns[i++]) return false;
  return i === columns.length;
}

/**
 * The incident a hit belongs to, as the analytics rule's grouping would choose it. The rule's analytics rule groups
 * by the `group_by` entities its query maps (desired.ts `groupByEntities`); so here: the grouped entity types
 * that have an `Entity_<Type>_…` column in the row. None: the hit's own incident. Else the rule, the target, the
 * values of those entities and the grouping window that holds the hit's event time. Windows are fixed (multiples
 * of the window since the epoch), so the key is the same on every retry and every overlapping run.
 *
 * The key is `group/` and the JSON of `[rule id, target, [[type, "identifier=value"…]…], window ms, window]`,
 * written out piece by piece (the same text; the head once per plan).
 */
export function incidentKeyOf(plan: HuntPlan, hit: HitRecord): string {
  return incidentKeyFrom(plan, hit, entityLayoutOf(hit.row));
}

function incidentKeyFrom(plan: HuntPlan, hit: HitRecord, layout: EntityLayout): string {
  const grouping: IncidentGrouping = plan.rule.grouping;
  if (grouping.windowMs <= 0) return hit.key;
  const groups = groupColumnsOf(plan, layout);
  if (groups === undefined) return hit.key;
  const { row } = hit;
  const window = Math.floor(Date.parse(hit.eventTime) / grouping.windowMs);
  // The hits of a group share its key: looked up by the window and the grouped columns' values, made once.
  let level: Map<unknown, unknown> = groups.keys;
  let found: unknown = level.get(window);
  const { columns } = groups;
  for (let i = 0; i < columns.length && found !== undefined; i++) {
    level = found as Map<unknown, unknown>;
    found = level.get(row[columns[i]!]);
  }
  if (typeof found === "string") return found;
  let values = "";
  for (let t = 0; t < groups.types.length; t++) {
    const { type, fields } = groups.types[t]!;
    values += `${values === "" ? "" : ","}[${JSON.stringify(type)}`;
    for (let f = 0; f < fields.length; f++) {
      const { identifier, column } = fields[f]!;
      const value = row[column];
      if (!present(value)) continue;
      values += `,${JSON.stringify(`${identifier}=${String(value)}`)}`;
    }
    values += "]";
  }
  const key = `${groupHeadOf(plan)}${values}],${JSON.stringify(grouping.windowMs)},${JSON.stringify(window)}]`;
  if (++groups.size > GROUP_KEYS_KEPT) {
    groups.keys.clear();
    groups.size = 1;
  }
  level = groups.keys;
  let at: unknown = window;
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i]!;
    let next = level.get(at) as Map<unknown, unknown> | undefined;
    if (next === undefined) {
      next = new Map();
      level.set(at, next);
    }
    level = next;
    at = row[column];
  }
  level.set(at, key);
  return key;
}

/**
 * The columns a plan's grouping reads in rows of one layout: per grouped entity type the row has a column for, in
 * the grouping's order, its fields; and the keys made so far, by window, then each column's value in turn.
 */
interface GroupColumns {
  readonly types: ReadonlyArray<{ readonly type: string; readonly fields: EntityLayout["types"][number]["fields"] }>;
  readonly columns: readonly string[];
  readonly keys: Map<unknown, unknown>;
  size: number;
}

const groupColumns = new WeakMap<HuntPlan, WeakMap<EntityLayout, GroupColumns | null>>();
/** Group keys kept per plan and layout (a run's groups; all are forgotten past this, and made again). */
const GROUP_KEYS_KEPT = 4096;

function groupColumnsOf(plan: HuntPlan, layout: EntityLayout): GroupColumns | undefined {
  let byLayout = groupColumns.get(plan);
  if (!byLayout) {
    byLayout = new WeakMap();
    groupColumns.set(plan, byLayout);
  }
  let groups = byLayout.get(layout);
  if (groups === undefined) {
    const types: Array<GroupColumns["types"][number]> = [];
    for (const type of plan.rule.grouping.entities) {
      if (!layout.mapped.has(type)) continue;
      types.push({ type, fields: layout.types.find((t) => t.type === type)?.fields ?? [] });
    }
    groups =
      types.length === 0
        ? null
        : { types, columns: types.flatMap((t) => t.fields.map((f) => f.column)), keys: new Map(), size: 0 };
    byLayout.set(layout, groups);
  }
  return groups ?? undefined;
}

/** `group/[<rule id>,<target>,[` as JSON, once per plan. */
const groupHeads = new WeakMap<HuntPlan, string>();

function groupHeadOf(plan: HuntPlan): string {
  let head = groupHeads.get(plan);
  if (head === undefined) {
    head = `group/[${JSON.stringify(plan.rule.id)},${JSON.stringify(plan.target)},[`;
    groupHeads.set(plan, head);
  }
  return head;
}
