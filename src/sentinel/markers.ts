/** How shmhunt marks the content it manages, and recognises it again. */
import type { SavedSearch } from "@azure/arm-operationalinsights";
import type { MetadataModel } from "@azure/arm-securityinsight";

export const managedBy = { name: "managedBy", value: "shmhunt" } as const;

/** The metadata `source` of every content item shmhunt deploys (Sentinel's "source repository" kind). */
export const metadataSource = { kind: "SourceRepository", name: "shmhunt", sourceId: "shmhunt" } as const;

export function isManagedSavedSearch(search: Pick<SavedSearch, "tags">): boolean {
  return (search.tags ?? []).some((t) => t.name === managedBy.name && t.value === managedBy.value);
}

export function isManagedMetadata(metadata: Pick<MetadataModel, "source">): boolean {
  return metadata.source?.name === metadataSource.name && metadata.source?.sourceId === metadataSource.sourceId;
}
