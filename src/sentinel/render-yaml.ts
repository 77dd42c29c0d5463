/**
 * The content model rendered as hunting-query YAML in the Azure-Sentinel repository format
 * (`kql/<rule>/<target>.hunting.yaml`): one document per hunting query (saved search) of the model, its fields
 * read from the saved search, its metadata and the facts the model keeps for this rendering (`hunting`).
 */
import { stringify } from "yaml";
import type { DesiredResource, Json } from "./plan.js";

const tag = (resource: DesiredResource, name: string): string => {
  const tags = (resource.properties.tags ?? []) as readonly { readonly name: string; readonly value: string }[];
  return tags.find((t) => t.name === name)?.value ?? "";
};
const list = (text: string) => (text ? text.split(",") : []);

/** The YAML document of a hunting query (a `savedSearch` of the model; `metadata` its metadata, when deployed). */
function huntingQueryDocument(search: DesiredResource, metadata?: DesiredResource): { [key: string]: Json } {
  if (search.kind !== "savedSearch" || !search.hunting) throw new Error(`${search.name} is not a hunting query`);
  return {
    id: search.hunting.id,
    name: search.properties.displayName as string,
    description: `${tag(search, "description")}\n`,
    requiredDataConnectors: search.hunting.requiredDataConnectors,
    tactics: list(tag(search, "tactics")),
    relevantTechniques: list(tag(search, "techniques")),
    query: `${search.properties.query as string}\n`,
    entityMappings: search.hunting.entityMappings,
    version: (metadata?.properties.version as string | undefined) ?? "1.0.0",
  };
}

/** The YAML text, after `header` (comment lines, each without its `# `). */
export function huntingQueryYaml(
  search: DesiredResource,
  metadata: DesiredResource | undefined,
  header: readonly string[],
): string {
  const comments = header.map((line) => `# ${line}\n`).join("");
  return `${comments}${stringify(huntingQueryDocument(search, metadata), { lineWidth: 0 })}`;
}
