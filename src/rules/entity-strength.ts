/**
 * Which entity identifiers make an entity unique in Microsoft Sentinel, and which ECS field would complete a weak
 * mapping. From Microsoft's entity reference (learn.microsoft.com/azure/sentinel/entities-reference, "Entity types
 * and identifiers": "Strong identifiers alone are sufficient to uniquely identify an entity, whereas weak
 * identifiers can do so only in combination with other identifiers"; up to three identifiers per mapping).
 *
 * Only the identifiers an entity mapping can name are listed: a strong set that needs an internal entity
 * (Account `Sid + Host`, every Process set, which needs `Host`) cannot be mapped, so it is left out.
 */
import type { EntityType } from "./types.js";

/** Microsoft's strong identifier sets per entity type, as mapping identifiers. */
const STRONG_IDENTIFIERS: Readonly<Record<EntityType, readonly (readonly string[])[]>> = {
  // "Name+UPNSuffix, AADUserId, Sid, Sid+Host, Name+Host+NTDomain, Name+NTDomain, Name+DnsDomain, PUID, ObjectGuid"
  // (Sid and Name+NTDomain strong for domain accounts; the mapping identifier is spelled AadUserId).
  Account: [
    ["Name", "UPNSuffix"],
    ["AadUserId"],
    ["Sid"],
    ["Name", "NTDomain"],
    ["Name", "DnsDomain"],
    ["PUID"],
    ["ObjectGuid"],
  ],
  // "HostName+NTDomain, HostName+DnsDomain, NetBiosName+NTDomain, NetBiosName+DnsDomain, AzureID, OMSAgentID".
  Host: [
    ["HostName", "NTDomain"],
    ["HostName", "DnsDomain"],
    ["NetBiosName", "NTDomain"],
    ["NetBiosName", "DnsDomain"],
    ["AzureID"],
    ["OMSAgentID"],
  ],
  // "Address" (global addresses), "Address+AddressScope".
  IP: [["Address"]],
  // "Directory+Name".
  File: [["Directory", "Name"]],
  // "Algorithm+Value".
  FileHash: [["Algorithm", "Value"]],
  // Every strong set names the internal Host entity, which a mapping cannot.
  Process: [],
};

/**
 * The identifiers an entity mapping must hold, per type: one of these sets in full. Not the strong sets above: these
 * are what Sentinel takes at all, from Microsoft's analytics-rule validation in the Azure-Sentinel repository
 * (.script/tests/detectionTemplateSchemaValidation/Models/EntityMappingIdentifiers.cs, `RequiredIdentifiers`, which
 * ValidEntityMappingsAttribute.cs enforces: "Missing required identifiers in 'entityMappings' for type ...").
 */
export const REQUIRED_IDENTIFIERS: Readonly<Record<EntityType, readonly (readonly string[])[]>> = {
  Account: [["FullName"], ["Sid"], ["Name"], ["AadUserId"], ["PUID"], ["ObjectGuid"]],
  Host: [["FullName"], ["HostName"], ["NetBiosName"], ["AzureID"], ["OMSAgentID"]],
  IP: [["Address"]],
  File: [["Name"]],
  FileHash: [["Algorithm", "Value"]],
  Process: [["CommandLine"], ["ProcessId"]],
};

/** Whether these mapped identifiers hold one of the sets Sentinel requires of the entity type. */
export function hasRequiredIdentifiers(type: EntityType, identifiers: Iterable<string>): boolean {
  const have = new Set(identifiers);
  return REQUIRED_IDENTIFIERS[type].some((set) => set.every((identifier) => have.has(identifier)));
}

/** Whether these mapped identifiers hold one of Microsoft's strong sets for the entity type. */
export function isStrongIdentifierSet(type: EntityType, identifiers: Iterable<string>): boolean {
  const have = new Set(identifiers);
  return STRONG_IDENTIFIERS[type].some((set) => set.every((identifier) => have.has(identifier)));
}

/**
 * The ECS fields that would make a weak mapping strong, from the field of its weak identifier: the domain beside a
 * host or user name (ECS `host.domain`, `user.domain`: "Name of the domain of which the host is a member", "Name of
 * the directory the user is a member of"), the directory beside a file name (`file.directory`). Empty when ECS has
 * no such field; the caller keeps only the fields the target maps.
 */
export function strongCompletions(
  type: EntityType,
  mapped: readonly { identifier: string; field: string }[],
): { identifier: string; field: string }[] {
  const fieldOf = (identifier: string) => mapped.find((m) => m.identifier === identifier)?.field;
  const sibling = (field: string | undefined, name: string) =>
    field?.includes(".") ? `${field.slice(0, field.lastIndexOf("."))}.${name}` : undefined;
  const out: { identifier: string; field: string }[] = [];
  const add = (identifier: string, field: string | undefined) => {
    if (field && !fieldOf(identifier)) out.push({ identifier, field });
  };
  if (type === "Host") add("DnsDomain", sibling(fieldOf("HostName") ?? fieldOf("NetBiosName"), "domain"));
  if (type === "Account") add("NTDomain", sibling(fieldOf("Name"), "domain"));
  if (type === "File" && fieldOf("Name")?.endsWith(".name")) add("Directory", sibling(fieldOf("Name"), "directory"));
  return out;
}
