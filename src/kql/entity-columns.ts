/**
 * The result columns that carry a rule's entities (`[shmhunt.entities]`): `Entity_<Type>_<Identifier>`, computed
 * by the query (emit-query.ts) and read by Sentinel's entity mappings and by the hunt's incidents and bookmarks.
 */
const PREFIX = "Entity_";

export function entityColumn(type: string, identifier: string): string {
  return `${PREFIX}${type}_${identifier}`;
}

/** The entity type and identifier of an entity column; undefined for any other column. */
export function parseEntityColumn(column: string): { type: string; identifier: string } | undefined {
  const match = /^Entity_([A-Za-z]+)_([A-Za-z]+)$/.exec(column);
  return match ? { type: match[1] as string, identifier: match[2] as string } : undefined;
}
