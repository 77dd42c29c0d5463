/**
 * Builds the state and sample stores from their settings. The Azure SDK modules are imported here, lazily
 * (dynamic import), so nothing heavy loads until a store backed by Azure is actually asked for.
 */
import { BlobSampleStore } from "./blob-sample-store.js";
import { LocalSampleStore } from "./local-sample-store.js";
import { LocalStateStore } from "./local-state-store.js";
import type { SampleStore } from "./sample-store.js";
import type { StateStore } from "./state-store.js";
import { TableStateStore } from "./table-state-store.js";

/** How to reach Azure Storage: a connection string (Azurite, development) or a service URL and an identity. */
export type AzureStorageAccess =
  | { readonly connectionString: string }
  | { readonly url: string; readonly managedIdentityClientId?: string };

export type StateLocation =
  | { readonly kind: "local"; readonly dir: string }
  | { readonly kind: "table"; readonly table: string; readonly access: AzureStorageAccess };

export type SampleLocation =
  | { readonly kind: "local"; readonly dir: string }
  | { readonly kind: "blob"; readonly container: string; readonly access: AzureStorageAccess };

export async function createStateStore(location: StateLocation): Promise<StateStore> {
  if (location.kind === "local") return new LocalStateStore(location.dir);
  const { TableClient } = await import("@azure/data-tables");
  const access = location.access;
  if ("connectionString" in access) {
    const insecure =
      /(^|;)TableEndpoint=http:/i.test(access.connectionString) ||
      /UseDevelopmentStorage=true/i.test(access.connectionString);
    return new TableStateStore(
      TableClient.fromConnectionString(access.connectionString, location.table, { allowInsecureConnection: insecure }),
    );
  }
  const credential = await identity(access.managedIdentityClientId);
  return new TableStateStore(new TableClient(access.url, location.table, credential));
}

/** `tmpDir`: where a blob store's local copies go (SHMHUNT_TMP_DIR, swept at start). */
export async function createSampleStore(location: SampleLocation, tmpDir?: string): Promise<SampleStore> {
  if (location.kind === "local") return new LocalSampleStore(location.dir);
  const { BlobServiceClient } = await import("@azure/storage-blob");
  const access = location.access;
  const service =
    "connectionString" in access
      ? BlobServiceClient.fromConnectionString(access.connectionString)
      : new BlobServiceClient(access.url, await identity(access.managedIdentityClientId));
  return new BlobSampleStore(service.getContainerClient(location.container), tmpDir);
}

/** The app's managed identity in Azure (a user-assigned one when its client id is given), else the developer's. */
async function identity(managedIdentityClientId: string | undefined) {
  const { DefaultAzureCredential } = await import("@azure/identity");
  return new DefaultAzureCredential(managedIdentityClientId ? { managedIdentityClientId } : {});
}
