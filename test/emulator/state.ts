/**
 * What the emulator holds: workspaces, each with its tables (columns + rows, seeded by tests) and its ARM
 * resources (saved searches, Sentinel content), kept as the wire JSON the service would return. All names are
 * case-insensitive as in ARM; collections keep insertion order so lists are stable.
 */
import { randomUUID } from "node:crypto";
import { loadSchemas, type Schemas } from "../../src/kusto/index.js";

export interface ColumnSchema {
  readonly name: string;
  /** A KQL scalar type: string, int, long, real, bool, datetime, timespan, guid, dynamic, decimal. */
  readonly type: string;
}

export type Row = Readonly<Record<string, unknown>>;

export interface WorkspaceTable {
  readonly name: string;
  readonly columns: readonly ColumnSchema[];
  readonly rows: Row[];
  /** When each row was handed to the emulator (epoch ms), parallel to `rows`; absent for derived tables. */
  readonly seededAt?: number[];
}

/**
 * How long after its `TimeGenerated` a row reaches the workspace, unless a table sets its own
 * (`setIngestionDelay`): Azure Monitor documents a typical latency of 20 seconds to 3 minutes
 * (learn.microsoft.com/azure/azure-monitor/logs/data-ingestion-time), so rows appear late, as they do there.
 */
export const DEFAULT_INGESTION_DELAY_MS = 3 * 60_000;

export interface IngestionOptions {
  /** The emulator's clock (seeding times; default: the real one). */
  readonly clock?: () => Date;
  /** The delay of tables without their own (default DEFAULT_INGESTION_DELAY_MS). */
  readonly defaultIngestionDelayMs?: number;
}

/** A resource as the service returns it on the wire. */
export interface WireResource {
  id: string;
  name: string;
  type: string;
  etag?: string;
  kind?: string;
  properties: Record<string, unknown>;
  [extra: string]: unknown;
}

/** A case-insensitive, insertion-ordered map of resources by name. */
export class ResourceCollection {
  private readonly items = new Map<string, WireResource>();

  get(name: string): WireResource | undefined {
    return this.items.get(name.toLowerCase());
  }
  set(name: string, resource: WireResource): void {
    this.items.set(name.toLowerCase(), resource);
  }
  delete(name: string): boolean {
    return this.items.delete(name.toLowerCase());
  }
  list(): WireResource[] {
    return [...this.items.values()];
  }
  get size(): number {
    return this.items.size;
  }
}

/** A workspace function made from a saved search with a function alias. */
export interface WorkspaceFunction {
  readonly name: string;
  /** The declared parameters as Log Analytics stores them, e.g. `path:string, depth:int = 1`; empty when none. */
  readonly parameters: string;
  readonly body: string;
}

/** The columns of a known table from the project's `schemas/` (e.g. DeviceProcessEvents, Syslog), via src/kusto. */
export function knownTableColumns(table: string): ColumnSchema[] | undefined {
  knownTables ??= loadSchemas().tables;
  return knownTables[table]?.map((c) => ({ name: c.name, type: c.type }));
}

let knownTables: Schemas["tables"] | undefined;

export interface WorkspaceAddress {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly name: string;
}

export class WorkspaceState implements WorkspaceAddress {
  readonly tables = new Map<string, WorkspaceTable>();
  readonly savedSearches = new ResourceCollection();
  readonly alertRules = new ResourceCollection();
  readonly incidents = new ResourceCollection();
  readonly bookmarks = new ResourceCollection();
  readonly watchlists = new ResourceCollection();
  readonly metadata = new ResourceCollection();
  /** Relations per incident (key: incident name, lower case). */
  readonly incidentRelations = new Map<string, ResourceCollection>();
  /** Items per watchlist (key: watchlist alias, lower case). */
  readonly watchlistItems = new Map<string, ResourceCollection>();
  /** Incident comments and bookmark relations, by parent kind and name. */
  readonly children = new Map<string, ResourceCollection>();
  private incidentCounter = 0;
  private readonly ingestionDelays = new Map<string, number>();
  private readonly clock: () => Date;
  private readonly defaultIngestionDelayMs: number;

  constructor(
    readonly subscriptionId: string,
    readonly resourceGroup: string,
    readonly name: string,
    /** The workspace GUID the Logs API addresses it by. */
    readonly customerId: string,
    options: IngestionOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.defaultIngestionDelayMs = options.defaultIngestionDelayMs ?? DEFAULT_INGESTION_DELAY_MS;
  }

  /** Rows of `table` arrive `ms` after their TimeGenerated (0: as soon as seeded). */
  setIngestionDelay(table: string, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0)
      throw new Error(`ingestion delay must be a non-negative number of ms, got ${ms}`);
    this.ingestionDelays.set(table.toLowerCase(), ms);
  }

  ingestionDelayOf(table: string): number {
    return this.ingestionDelays.get(table.toLowerCase()) ?? this.defaultIngestionDelayMs;
  }

  /**
   * When a row reaches the workspace (epoch ms): its TimeGenerated plus the table's delay, but never before it was
   * seeded (a row seeded now with an old TimeGenerated arrives now). `ingestion_time()` returns this; a query sees
   * the row only from then on.
   */
  arrivalOf(table: WorkspaceTable, index: number, timeGenerated: number | undefined): number {
    const seeded = table.seededAt?.[index] ?? Number.NEGATIVE_INFINITY;
    if (timeGenerated === undefined || !Number.isFinite(timeGenerated)) return seeded;
    return Math.max(seeded, timeGenerated + this.ingestionDelayOf(table.name));
  }

  /** `/subscriptions/…/resourceGroups/…/providers/Microsoft.OperationalInsights/workspaces/…` */
  get resourceId(): string {
    return `/subscriptions/${this.subscriptionId}/resourceGroups/${this.resourceGroup}/providers/Microsoft.OperationalInsights/workspaces/${this.name}`;
  }

  /**
   * Adds rows to a table, creating it if needed. Columns default to the project's schema for that table name
   * (schemas/), else they are inferred from the rows (string, long, real, bool, dynamic, datetime for Date).
   */
  seedTable(name: string, rows: readonly Row[], columns?: readonly ColumnSchema[]): WorkspaceTable {
    const seeded = this.clock().getTime();
    const existing = this.tables.get(name.toLowerCase());
    if (existing) {
      existing.rows.push(...rows);
      existing.seededAt?.push(...rows.map(() => seeded));
      return existing;
    }
    const table: WorkspaceTable = {
      name,
      columns: columns ?? knownTableColumns(name) ?? inferColumns(rows),
      rows: [...rows],
      seededAt: rows.map(() => seeded),
    };
    this.tables.set(name.toLowerCase(), table);
    return table;
  }

  table(name: string): WorkspaceTable | undefined {
    return this.tables.get(name.toLowerCase());
  }

  nextIncidentNumber(): number {
    this.incidentCounter += 1;
    return this.incidentCounter;
  }

  relationsOf(incident: string): ResourceCollection {
    const key = incident.toLowerCase();
    let found = this.incidentRelations.get(key);
    if (!found) {
      found = new ResourceCollection();
      this.incidentRelations.set(key, found);
    }
    return found;
  }

  /** The child collection `kind` (e.g. "incidents/comments") of one parent. */
  childrenOf(kind: string, parent: string): ResourceCollection {
    const key = `${kind}/${parent.toLowerCase()}`;
    let found = this.children.get(key);
    if (!found) {
      found = new ResourceCollection();
      this.children.set(key, found);
    }
    return found;
  }

  itemsOf(watchlistAlias: string): ResourceCollection {
    const key = watchlistAlias.toLowerCase();
    let found = this.watchlistItems.get(key);
    if (!found) {
      found = new ResourceCollection();
      this.watchlistItems.set(key, found);
    }
    return found;
  }

  /** Saved searches that carry a function alias, as callable workspace functions. */
  functions(): WorkspaceFunction[] {
    const out: WorkspaceFunction[] = [];
    for (const search of this.savedSearches.list()) {
      const alias = search.properties.functionAlias;
      if (typeof alias !== "string" || alias === "") continue;
      const parameters = search.properties.functionParameters;
      out.push({
        name: alias,
        parameters: typeof parameters === "string" ? parameters : "",
        body: String(search.properties.query ?? ""),
      });
    }
    return out;
  }

  /**
   * The rows `_GetWatchlist('alias')` returns: `_DTItemId`, `LastUpdatedTimeUTC`, `SearchKey`, `WatchlistItem`
   * (dynamic) and one string column per item key, as Sentinel does. Undefined when no such watchlist.
   */
  watchlistTable(alias: string): WorkspaceTable | undefined {
    const watchlist = this.watchlists.get(alias);
    if (!watchlist) return undefined;
    const searchKey = String(watchlist.properties.itemsSearchKey ?? "");
    const keys: string[] = [];
    const rows: Row[] = [];
    for (const item of this.itemsOf(alias).list()) {
      const values = (item.properties.itemsKeyValue ?? {}) as Record<string, unknown>;
      for (const key of Object.keys(values)) if (!keys.includes(key)) keys.push(key);
      rows.push({
        _DTItemId: item.properties.watchlistItemId,
        LastUpdatedTimeUTC: item.properties.updated,
        SearchKey: values[searchKey] === undefined ? null : String(values[searchKey]),
        WatchlistItem: values,
        ...Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v === null ? null : String(v)])),
      });
    }
    const fixed = ["_DTItemId", "LastUpdatedTimeUTC", "SearchKey", "WatchlistItem"];
    const columns: ColumnSchema[] = [
      { name: "_DTItemId", type: "string" },
      { name: "LastUpdatedTimeUTC", type: "datetime" },
      { name: "SearchKey", type: "string" },
      { name: "WatchlistItem", type: "dynamic" },
      ...keys.filter((k) => !fixed.includes(k)).map((k) => ({ name: k, type: "string" })),
    ];
    return { name: "Watchlist", columns, rows };
  }
}

function inferColumns(rows: readonly Row[]): ColumnSchema[] {
  const columns = new Map<string, string>();
  for (const row of rows) {
    for (const [key, value] of Object.entries(row)) {
      if (value === null || value === undefined || columns.has(key)) continue;
      columns.set(key, inferType(value));
    }
  }
  return [...columns].map(([name, type]) => ({ name, type }));
}

function inferType(value: unknown): string {
  if (value instanceof Date) return "datetime";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "bigint") return "long";
  if (typeof value === "number") return Number.isInteger(value) ? "long" : "real";
  if (typeof value === "object") return "dynamic";
  return "string";
}

export class EmulatorState {
  private readonly workspaces: WorkspaceState[] = [];

  constructor(private readonly ingestion: IngestionOptions = {}) {}

  /** Creates a workspace (an ARM resource that already exists, with a Log Analytics GUID). */
  addWorkspace(
    address: WorkspaceAddress & { readonly customerId?: string; readonly tables?: Record<string, readonly Row[]> },
  ): WorkspaceState {
    const existing = this.find(address);
    if (existing) throw new Error(`workspace ${address.name} already exists`);
    const workspace = new WorkspaceState(
      address.subscriptionId,
      address.resourceGroup,
      address.name,
      address.customerId ?? randomUUID(),
      this.ingestion,
    );
    for (const [name, rows] of Object.entries(address.tables ?? {})) workspace.seedTable(name, rows);
    this.workspaces.push(workspace);
    return workspace;
  }

  find(address: WorkspaceAddress): WorkspaceState | undefined {
    return this.workspaces.find(
      (w) =>
        w.subscriptionId.toLowerCase() === address.subscriptionId.toLowerCase() &&
        w.resourceGroup.toLowerCase() === address.resourceGroup.toLowerCase() &&
        w.name.toLowerCase() === address.name.toLowerCase(),
    );
  }

  /** By the Logs API's workspace id: the GUID, or the workspace's ARM resource id. */
  findByLogsId(id: string): WorkspaceState | undefined {
    const wanted = id.toLowerCase();
    return this.workspaces.find((w) => w.customerId.toLowerCase() === wanted || w.resourceId.toLowerCase() === wanted);
  }

  all(): readonly WorkspaceState[] {
    return this.workspaces;
  }
}
