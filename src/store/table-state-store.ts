/**
 * State in one Azure Table (Azurite locally). PartitionKey is `<kind>~<partition>`, RowKey the record key (both
 * encoded by names.ts); the JSON value is split over `d0`, `d1`, … string properties because one property holds
 * at most 64 KiB. `create` is the service's insert (409 when the entity exists), `put` an upsert in Replace mode,
 * both atomic per entity. The Azure SDK is only imported as a type here; the client comes from storage-clients.ts.
 */
import type { TableClient, TableEntity } from "@azure/data-tables";
import { decodeName, encodeName } from "./names.js";
import type { StateKind, StateRecord, StateStore } from "./state-store.js";

const CHUNK = 30_000; // UTF-16 code units per property: below the 64 KiB property limit
const MAX_CHUNKS = 30; // keeps an entity under 1 MiB with room for the keys

type Entity = TableEntity<Record<string, unknown>>;

export class TableStateStore implements StateStore {
  private ready: Promise<void> | undefined;

  constructor(private readonly client: TableClient) {}

  async get<T>(kind: StateKind, partition: string, key: string): Promise<T | undefined> {
    await this.ensureTable();
    try {
      const entity = await this.client.getEntity<Record<string, unknown>>(
        partitionKey(kind, partition),
        encodeName(key),
      );
      return decode<T>(entity);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async create<T>(kind: StateKind, partition: string, key: string, value: T): Promise<boolean> {
    await this.ensureTable();
    try {
      await this.client.createEntity(encode(kind, partition, key, value));
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw error;
    }
  }

  async put<T>(kind: StateKind, partition: string, key: string, value: T): Promise<void> {
    await this.ensureTable();
    await this.client.upsertEntity(encode(kind, partition, key, value), "Replace");
  }

  async delete(kind: StateKind, partition: string, key: string): Promise<void> {
    await this.ensureTable();
    try {
      await this.client.deleteEntity(partitionKey(kind, partition), encodeName(key));
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  async list<T>(kind: StateKind, partition?: string): Promise<ReadonlyArray<StateRecord<T>>> {
    await this.ensureTable();
    const filter =
      partition === undefined
        ? `PartitionKey ge ${quote(`${kind}~`)} and PartitionKey lt ${quote(`${kind}~~`)}`
        : `PartitionKey eq ${quote(partitionKey(kind, partition))}`;
    const records: StateRecord<T>[] = [];
    for await (const entity of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
      const pk = String(entity.partitionKey);
      records.push({
        partition: decodeName(pk.slice(kind.length + 1)),
        key: decodeName(String(entity.rowKey)),
        value: decode<T>(entity),
      });
    }
    return records.sort((a, b) => compare(a.partition, b.partition) || compare(a.key, b.key));
  }

  private ensureTable(): Promise<void> {
    this.ready ??= this.client.createTable().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }
}

function partitionKey(kind: StateKind, partition: string): string {
  return `${kind}~${encodeName(partition)}`;
}

function encode(kind: StateKind, partition: string, key: string, value: unknown): Entity {
  const json = JSON.stringify(value);
  const chunks = Math.max(1, Math.ceil(json.length / CHUNK));
  if (chunks > MAX_CHUNKS) {
    throw new Error(`state record ${kind}/${partition}/${key} is too large for a table entity (${json.length} chars)`);
  }
  const entity: Entity = { partitionKey: partitionKey(kind, partition), rowKey: encodeName(key), n: chunks };
  for (let i = 0; i < chunks; i++) entity[`d${i}`] = json.slice(i * CHUNK, (i + 1) * CHUNK);
  return entity;
}

function decode<T>(entity: Record<string, unknown>): T {
  const chunks = Number(entity.n ?? 1);
  let json = "";
  for (let i = 0; i < chunks; i++) json += String(entity[`d${i}`] ?? "");
  return JSON.parse(json) as T;
}

/** An OData string literal: single quotes doubled. */
function quote(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown })?.statusCode;
  return typeof status === "number" ? status : undefined;
}
