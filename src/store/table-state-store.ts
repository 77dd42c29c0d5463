/**
 * State in one Azure Table (Azurite locally). PartitionKey is `<kind>~<partition>`, RowKey the record key (both
 * encoded by names.ts); the JSON value is split over `d0`, `d1`, … string properties because one property holds
 * at most 64 KiB. `create` is the service's insert (409 when the entity exists), `put` an upsert in Replace mode,
 * both atomic per entity. The Azure SDK is only imported as a type here; the client comes from storage-clients.ts.
 *
 * Microsoft's limits ("Understanding the Table service data model"; "Performing entity group transactions"), kept
 * here whatever Azurite lets through: a PartitionKey or RowKey "may be up to 1 KiB in size" (an encoded name longer
 * than that is kept as its head and the SHA-256 of the name, the name itself in the entity, `pn` / `kn`); "the
 * combined size of all data in an entity's properties can't exceed 1 MiB", strings counted as UTF-16 (a record too
 * large is refused before anything of its batch is sent); a transaction "can include at most 100 entities, and its
 * total payload may be no more than 4 MiB in size".
 *
 * `batch` sends one entity group transaction per partition, 100 operations and TRANSACTION_BYTES, partition by
 * partition in the order each partition first appears in the batch. A transaction is all or nothing: when a create
 * in it finds its entity present (409, the failing operation's index leads the message), that operation is
 * answered false, the transaction's other creates are looked up together (a rerun creates many records that exist:
 * a few queries, not a round trip each), those found answered false, and the rest is sent again; a delete of a
 * missing entity (404) likewise succeeds. A swap, and a delete given the value expected, is a request of its own, made
 * conditional on the entity's ETag (If-Match).
 */
import { hash } from "node:crypto";
import type { TableClient, TableEntity, TransactionAction } from "@azure/data-tables";
import { decodeName, encodeName, hasLoneSurrogate } from "./names.js";
import { recordId } from "./record-id.js";
import {
  type DamagedRecord,
  isConditional,
  type StateKind,
  type StateOp,
  type StateRecord,
  type StateStore,
  sameValue,
} from "./state-store.js";

/** At most this many operations in one entity group transaction (the service's limit), all in one partition. */
export const TRANSACTION_LIMIT = 100;

/** Keys read by one query: with the partition's, 15 comparisons, the most a filter may hold. */
const KEYS_PER_QUERY = 14;

const CHUNK = 30_000; // UTF-16 code units per property: below the 64 KiB property limit
/** An entity's size as the service counts it ("can't exceed 1 MiB"), its strings as UTF-16: see `entitySize`. */
const ENTITY_BYTES = 1024 * 1024;
/**
 * A transaction's request at most this size: the 4 MiB payload less room for the rest of the request; each
 * operation's MIME headers are counted apart (OPERATION_HEADER_BYTES each, and its keys as its request line carries
 * them: with two keys of 512 characters of `%XX`, a part's headers are ~3 KB, and 100 such parts outran a flat 1 KiB
 * each by more than the 64 KiB kept aside).
 */
export const TRANSACTION_BYTES = 4 * 1024 * 1024 - 64 * 1024;
const OPERATION_HEADER_BYTES = 1024;
/**
 * The most characters of a PartitionKey or RowKey: 1 KiB as UTF-16 (Azurite, Microsoft's emulator, refuses a longer
 * one). An encoded name that does not fit is its first characters, `%%` (never in encodeName's output) and the
 * SHA-256 of the name; every name that fits is kept as it always was.
 */
const KEY_CHARS = 512;
const HASH_CHARS = 2 + 64;

type Entity = TableEntity<Record<string, unknown>>;

export class TableStateStore implements StateStore {
  private ready: Promise<void> | undefined;
  private readonly damage: DamagedRecord[] = [];
  /**
   * The ETags of entities this store read or wrote last, with their values as JSON: a swap whose expected value is
   * the one remembered is sent as a conditional update at once (412 when the entity changed since: then read and
   * compared as usual), saving the read. Few are kept (leases are what is swapped).
   */
  private readonly etags = new Map<string, { readonly json: string; readonly etag: string }>();

  constructor(private readonly client: TableClient) {}

  async get<T>(kind: StateKind, partition: string, key: string): Promise<T | undefined> {
    await this.ensureTable();
    try {
      const entity = await this.client.getEntity<Record<string, unknown>>(partitionKey(kind, partition), keyName(key));
      const value = this.decodeOrReport<T>(kind, partition, key, entity);
      this.remember(kind, partition, key, value, (entity as { etag?: unknown }).etag);
      return value;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /**
   * One query per 14 keys (`PartitionKey eq … and (RowKey eq … or …)`): the service allows at most 15 comparisons
   * in a filter ("Querying tables and entities", Azure Storage REST reference).
   */
  async getMany<T>(kind: StateKind, partition: string, keys: readonly string[]): Promise<Array<T | undefined>> {
    await this.ensureTable();
    const pk = partitionKey(kind, partition);
    const found = new Map<string, T>();
    const distinct = [...new Set(keys)];
    for (let from = 0; from < distinct.length; from += KEYS_PER_QUERY) {
      const rowKeys = distinct.slice(from, from + KEYS_PER_QUERY).map((key) => `RowKey eq ${quote(keyName(key))}`);
      const filter = `PartitionKey eq ${quote(pk)} and (${rowKeys.join(" or ")})`;
      for await (const entity of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
        const key = keyOf(entity);
        const value = this.decodeOrReport<T>(kind, partition, key, entity);
        if (value !== undefined) found.set(key, value);
      }
    }
    return keys.map((key) => found.get(key));
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
      await this.client.deleteEntity(partitionKey(kind, partition), keyName(key));
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
      const recordPartition = partitionOf(entity, kind);
      const key = keyOf(entity);
      const value = this.decodeOrReport<T>(kind, recordPartition, key, entity);
      if (value !== undefined) records.push({ partition: recordPartition, key, value });
    }
    return records.sort((a, b) => compare(a.partition, b.partition) || compare(a.key, b.key));
  }

  async batch(ops: readonly StateOp[]): Promise<boolean[]> {
    if (ops.length === 0) return [];
    await this.ensureTable();
    const results: boolean[] = ops.map(() => true);
    // Every entity made before anything is sent: a record too large for one fails the batch, not half of it.
    const items: Sendable[] = ops.map((op, index) => sendable(op, index));
    // A swap or a conditional delete is a request of its own (on the entity's ETag), in its place in the order.
    let run: Sendable[] = [];
    const flush = async () => {
      for (const chunk of transactions(run)) await this.submit(chunk, results);
      run = [];
    };
    for (const [index, op] of ops.entries()) {
      if (!isConditional(op)) {
        run.push(items[index]!);
        continue;
      }
      await flush();
      results[index] = await this.conditional(op, items[index]!.entity);
    }
    await flush();
    return results;
  }

  /**
   * A swap (replaces the entity) or a delete given `expected` (removes it), carried out only if the entity still
   * holds the value expected: at once under the ETag remembered for that value, else (none, or the entity changed
   * since) it is read, compared, and written only if its ETag is still the one read (412: another writer won).
   * `entity`: the entity the batch made of the op (made once, before anything of the batch was sent; a delete's
   * keys).
   */
  private async conditional(op: Extract<StateOp, { op: "swap" | "delete" }>, entity: Entity): Promise<boolean> {
    const id = recordId(op.kind, op.partition, op.key);
    const write = async (etag: string) => {
      if (op.op === "delete") {
        await this.client.deleteEntity(entity.partitionKey, entity.rowKey, { etag });
        this.etags.delete(id);
      } else {
        const done = await this.client.updateEntity(entity, "Replace", { etag });
        this.remember(op.kind, op.partition, op.key, op.value, done.etag);
      }
    };
    const known = this.etags.get(id);
    if (known && known.json === JSON.stringify(op.expected)) {
      try {
        await write(known.etag);
        return true;
      } catch (error) {
        this.etags.delete(id);
        const status = statusOf(error);
        if (status === 404) return false;
        if (status !== 412) throw error;
      }
    }
    let found: Record<string, unknown>;
    try {
      found = await this.client.getEntity<Record<string, unknown>>(entity.partitionKey, entity.rowKey);
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
    const current = this.decodeOrReport<unknown>(op.kind, op.partition, op.key, found);
    if (current === undefined || !sameValue(current, op.expected)) return false;
    const etag = (found as { etag?: unknown }).etag;
    if (typeof etag !== "string") throw new Error(`table entity ${op.kind}/${op.partition}/${op.key} has no ETag`);
    try {
      await write(etag);
      return true;
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || status === 404) return false; // changed (or removed) since it was read: another won
      throw error;
    }
  }

  damaged(): readonly DamagedRecord[] {
    return [...this.damage];
  }

  /** Keeps an entity's ETag with its value (the oldest forgotten past ETAGS_KEPT); no ETag: forgets it. */
  private remember(kind: StateKind, partition: string, key: string, value: unknown, etag: unknown): void {
    const id = recordId(kind, partition, key);
    this.etags.delete(id);
    if (typeof etag !== "string" || value === undefined) return;
    if (this.etags.size >= ETAGS_KEPT) this.etags.delete(this.etags.keys().next().value as string);
    this.etags.set(id, { json: JSON.stringify(value), etag });
  }

  /** Sends one transaction; drops the operations the service refuses as already done and sends the rest. */
  private async submit(chunk: readonly Sendable[], results: boolean[]): Promise<void> {
    let remaining = [...chunk];
    let lookedUp = false;
    while (remaining.length > 0) {
      const actions: TransactionAction[] = remaining.map(({ op, entity }) =>
        op.op === "create"
          ? ["create", entity]
          : op.op === "put" || op.op === "swap"
            ? ["upsert", entity, "Replace"]
            : ["delete", entity],
      );
      try {
        const response = await this.client.submitTransaction(actions);
        for (const [i, { op }] of remaining.entries()) {
          // A record written alone (a lease taken) is remembered for the swap that may follow; others forgotten.
          const etag = remaining.length === 1 ? response.subResponses[i]?.etag : undefined;
          if (op.op !== "delete") this.remember(op.kind, op.partition, op.key, op.value, etag);
          else this.etags.delete(recordId(op.kind, op.partition, op.key));
        }
        return;
      } catch (error) {
        const status = statusOf(error);
        const failed = failedIndex(error);
        const item = failed === undefined ? undefined : remaining[failed];
        const expected =
          item && ((status === 409 && item.op.op === "create") || (status === 404 && item.op.op === "delete"));
        if (!expected || failed === undefined) throw error;
        if (item.op.op === "create") results[item.index] = false;
        remaining = remaining.filter((_, i) => i !== failed);
        if (item.op.op === "create" && !lookedUp) {
          // The transaction's other creates may find their entities too (a rerun of a window): looked up together.
          lookedUp = true;
          const present = await this.present(
            item.entity.partitionKey as string,
            remaining.filter(({ op }) => op.op === "create").map(({ entity }) => entity.rowKey as string),
          );
          for (const { op, index, entity } of remaining)
            if (op.op === "create" && present.has(entity.rowKey as string)) results[index] = false;
          remaining = remaining.filter(({ op, entity }) => op.op !== "create" || !present.has(entity.rowKey as string));
        }
      }
    }
  }

  /** Which of these row keys of one partition have an entity: one query per 14 keys, row keys only. */
  private async present(pk: string, rowKeys: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let from = 0; from < rowKeys.length; from += KEYS_PER_QUERY) {
      const keys = rowKeys.slice(from, from + KEYS_PER_QUERY).map((rowKey) => `RowKey eq ${quote(rowKey)}`);
      const filter = `PartitionKey eq ${quote(pk)} and (${keys.join(" or ")})`;
      const entities = this.client.listEntities({ queryOptions: { filter, select: ["RowKey"] } });
      for await (const entity of entities) found.add(String(entity.rowKey));
    }
    return found;
  }

  /** The entity's value, or undefined (reported in `damaged()`) when its JSON does not hold. */
  private decodeOrReport<T>(kind: StateKind, partition: string, key: string, entity: Record<string, unknown>) {
    try {
      return decode<T>(entity);
    } catch (error) {
      const where = `table entity ${String(entity.partitionKey)}/${String(entity.rowKey)}`;
      if (!this.damage.some((d) => d.where === where))
        this.damage.push({ kind, partition, key, where, error: (error as Error).message });
      return undefined;
    }
  }

  private ensureTable(): Promise<void> {
    this.ready ??= this.client.createTable().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }
}

/** An operation with its entity as sent (a delete: its keys) and its share of a transaction's request. */
interface Sendable {
  readonly op: StateOp;
  readonly index: number;
  readonly entity: Entity;
  readonly bytes: number;
}

function sendable(op: StateOp, index: number): Sendable {
  const entity =
    op.op === "delete"
      ? ({ partitionKey: partitionKey(op.kind, op.partition), rowKey: keyName(op.key) } as Entity)
      : encode(op.kind, op.partition, op.key, op.value);
  // The entity as the request carries it (JSON, UTF-8), and its part's headers, whose request line names the entity
  // by its keys again, URL-escaped: a key's `%` is `%25` there, so up to 3 bytes a character (the keys are ASCII).
  const keys = (entity.partitionKey as string).length + (entity.rowKey as string).length;
  return {
    op,
    index,
    entity,
    bytes: Buffer.byteLength(JSON.stringify(entity)) + OPERATION_HEADER_BYTES + 3 * keys,
  };
}

/**
 * The operations in transactions: grouped by partition (order kept within one; the partitions in the order each
 * first appears), at most 100 operations and TRANSACTION_BYTES each, and an entity at most once per transaction
 * (the service refuses a second operation on it).
 */
function transactions(ops: readonly Sendable[]): Sendable[][] {
  const open = new Map<string, { ops: Sendable[]; keys: Set<string>; bytes: number }>();
  const out: Sendable[][] = [];
  for (const item of ops) {
    const pk = item.entity.partitionKey as string;
    let last = open.get(pk);
    const rowKey = item.entity.rowKey as string;
    // The keys of the open transaction in a set: checking them by scanning was quadratic in the batch.
    if (
      !last ||
      last.ops.length >= TRANSACTION_LIMIT ||
      last.keys.has(rowKey) ||
      (last.ops.length > 0 && last.bytes + item.bytes > TRANSACTION_BYTES)
    ) {
      last = { ops: [], keys: new Set(), bytes: 0 };
      open.set(pk, last);
      out.push(last.ops);
    }
    last.ops.push(item);
    last.keys.add(rowKey);
    last.bytes += item.bytes;
  }
  return out;
}

/** The index of the operation that failed a transaction, which the service puts before its message (`3:…`). */
function failedIndex(error: unknown): number | undefined {
  const message = (error as { message?: unknown })?.message;
  const match = typeof message === "string" ? /^(\d+):/.exec(message) : null;
  return match ? Number(match[1]) : undefined;
}

/** How many ETags a store remembers for its swaps. */
const ETAGS_KEPT = 256;

function partitionKey(kind: StateKind, partition: string): string {
  return `${kind}~${keyName(partition, KEY_CHARS - kind.length - 1)}`;
}

/**
 * A name as a key of at most `room` characters: encoded (names.ts), or its head and the name's SHA-256 (of its UTF-8;
 * of its encoding when it holds a lone surrogate, which UTF-8 would turn into U+FFFD, making names that differ only
 * there one key).
 */
function keyName(name: string, room = KEY_CHARS): string {
  const encoded = encodeName(name);
  if (encoded.length <= room) return encoded;
  return `${encoded.slice(0, room - HASH_CHARS)}%%${hash("sha256", hasLoneSurrogate(name) ? encoded : name, "hex")}`;
}

const hashed = (key: string) => key.includes("%%");

/** A record's partition, from its entity: its PartitionKey decoded, or the name kept beside a hashed one. */
function partitionOf(entity: Record<string, unknown>, kind: StateKind): string {
  return typeof entity.pn === "string" ? entity.pn : decodeName(String(entity.partitionKey).slice(kind.length + 1));
}

/** A record's key, from its entity: its RowKey decoded, or the name kept beside a hashed one. */
function keyOf(entity: Record<string, unknown>): string {
  return typeof entity.kn === "string" ? entity.kn : decodeName(String(entity.rowKey));
}

function encode(kind: StateKind, partition: string, key: string, value: unknown): Entity {
  const json = JSON.stringify(value);
  const chunks = Math.max(1, Math.ceil(json.length / CHUNK));
  const entity: Entity = { partitionKey: partitionKey(kind, partition), rowKey: keyName(key), n: chunks };
  if (hashed(entity.partitionKey)) entity.pn = partition;
  if (hashed(entity.rowKey)) entity.kn = key;
  for (let i = 0; i < chunks; i++) entity[`d${i}`] = json.slice(i * CHUNK, (i + 1) * CHUNK);
  const size = entitySize(entity);
  if (
    size > ENTITY_BYTES ||
    (typeof entity.pn === "string" && entity.pn.length > CHUNK) ||
    (typeof entity.kn === "string" && entity.kn.length > CHUNK)
  )
    throw new Error(
      `state record ${kind}/${partition}/${key} is too large for a table entity (${size} bytes as the service counts them; at most ${ENTITY_BYTES}, names at most ${CHUNK} characters)`,
    );
  return entity;
}

/**
 * An entity's size as the service counts it: its keys and every property's name and string value as UTF-16
 * ("String: a UTF-16-encoded value", the data model's property types), 2 bytes a unit, with a few bytes of framing
 * for each property and an 8-byte value for a number.
 */
function entitySize(entity: Entity): number {
  let size = 4 + 2 * (entity.partitionKey.length + entity.rowKey.length);
  for (const name in entity) {
    if (name === "partitionKey" || name === "rowKey") continue;
    const value = entity[name];
    size += 8 + 2 * name.length + (typeof value === "string" ? 4 + 2 * value.length : 8);
  }
  return size;
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
