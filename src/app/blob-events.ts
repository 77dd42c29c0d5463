/**
 * The BlobCreated events the Event Grid trigger receives (functions/index.ts, sampleArrived), read before anything
 * of the blob is: which blob, of which account and container, and how big. Microsoft Learn, "Azure Blob Storage as
 * an Event Grid source": the topic is the storage account's resource id
 * (`/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Storage/storageAccounts/<account>`), the subject
 * `/blobServices/default/containers/<container>/blobs/<name>`, and data.contentLength "the size of the blob in
 * bytes. This is the same as what would be returned in the Content-Length header from the blob".
 */

/** The parts of an Event Grid event read here (the trigger's EventGridEvent has these). */
export interface GridEvent {
  readonly id?: string;
  readonly topic?: string;
  readonly subject?: string;
  readonly eventType?: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

export type BlobArrival =
  | { readonly kind: "blob"; readonly name: string; readonly size?: number }
  | { readonly kind: "ignored"; readonly reason: string };

export const BLOB_CREATED = "Microsoft.Storage.BlobCreated";

/**
 * The blob a BlobCreated event names, when it is one of the samples container of the app's own account; anything
 * else is ignored with the reason (the handler logs it: Event Grid is not asked to retry what will never be ours).
 */
export function blobArrivalOf(
  event: GridEvent,
  expected: { readonly accountName: string; readonly containerName: string } | undefined,
): BlobArrival {
  if (!expected) return { kind: "ignored", reason: "the samples are not kept in Blob storage" };
  if (event.eventType !== BLOB_CREATED) return { kind: "ignored", reason: `event type ${String(event.eventType)}` };
  const account = /\/providers\/Microsoft\.Storage\/storageAccounts\/([^/]+)$/i.exec(event.topic ?? "")?.[1];
  // Account names are lower case (3-24 letters and digits); compared without regard to case all the same.
  if (!account || account.toLowerCase() !== expected.accountName.toLowerCase())
    return { kind: "ignored", reason: `topic ${String(event.topic)} is not storage account ${expected.accountName}` };
  const subject = /^\/blobServices\/default\/containers\/([^/]+)\/blobs\/(.+)$/.exec(event.subject ?? "");
  if (!subject || subject[1] !== expected.containerName)
    return {
      kind: "ignored",
      reason: `subject ${String(event.subject)} is not in container ${expected.containerName}`,
    };
  const name = subject[2] as string;
  const length = event.data?.contentLength;
  return {
    kind: "blob",
    name,
    ...(typeof length === "number" && Number.isSafeInteger(length) && length >= 0 ? { size: length } : {}),
  };
}
