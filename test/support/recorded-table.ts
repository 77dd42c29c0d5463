/**
 * A TableStateStore on Azurite whose requests are recorded (method, URL, body): tests check what the store sends
 * against Microsoft's documented limits, where Azurite would accept what Azure refuses.
 */
import { TableClient } from "@azure/data-tables";
import { TableStateStore } from "../../src/store/index.js";
import type { Azurite } from "./azurite.js";

export interface Sent {
  readonly method: string;
  readonly url: string;
  readonly body: string;
}

let tables = 0;

/** `failWhen`: a request for which the store sees a crash (the request never answered, never sent). */
export function recordedTableStore(
  azurite: Azurite,
  options: { failWhen?: (sent: Sent, index: number) => boolean } = {},
): { store: TableStateStore; sent: Sent[] } {
  const client = TableClient.fromConnectionString(azurite.connectionString, `recorded${++tables}x${process.pid}`, {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });
  const sent: Sent[] = [];
  client.pipeline.addPolicy({
    name: "record-requests",
    sendRequest: async (request, next) => {
      const item = {
        method: request.method,
        url: request.url,
        body: typeof request.body === "string" ? request.body : "",
      };
      sent.push(item);
      if (options.failWhen?.(item, sent.length - 1)) throw new Error("simulated crash: the request was never answered");
      return next(request);
    },
  });
  return { store: new TableStateStore(client), sent };
}

/** The entity group transactions (POST …/$batch) among the requests sent. */
export function transactionsOf(sent: readonly Sent[]): Sent[] {
  return sent.filter((s) => s.method === "POST" && s.url.includes("$batch"));
}

/** The entities (JSON bodies) a transaction request carries. */
export function entitiesIn(body: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const part of body.split(/--changeset_[^\r\n]*/)) {
    const json = /\r\n\r\n(\{.*\})\s*$/s.exec(part);
    if (json) out.push(JSON.parse(json[1]!) as Record<string, unknown>);
  }
  return out;
}

/**
 * An entity's size as the data model counts it: the keys as UTF-16 (2 bytes a unit) and per property its name as
 * UTF-16 and its value, a string as UTF-16 ("String: a UTF-16-encoded value"), with a few bytes of framing.
 */
export function documentedEntitySize(entity: Record<string, unknown>): number {
  let size = 4 + (String(entity.PartitionKey).length + String(entity.RowKey).length) * 2;
  for (const [name, value] of Object.entries(entity)) {
    if (name === "PartitionKey" || name === "RowKey" || name.includes("@odata")) continue;
    size += 8 + name.length * 2 + (typeof value === "string" ? 4 + value.length * 2 : 8);
  }
  return size;
}
