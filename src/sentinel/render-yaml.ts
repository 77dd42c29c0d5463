/**
 * The content model rendered as hunting-query YAML in the Azure-Sentinel repository format
 * (`kql/<rule>/<target>.hunting.yaml`): one document per hunting query (saved search) of the model, its fields
 * read from the saved search, its metadata and the facts the model keeps for this rendering (`hunting`).
 *
 * The text is ASCII only, as the Azure-Sentinel repository requires of a hunting query (.script/tests
 * NonAsciiValidationsTests: no `[^\u0000-\u007F]` in the file): a value with other characters is written as a
 * double-quoted scalar, whose escapes (`\u2019`, `\U0001F642`) read back as the same text.
 */
import { Document, visit } from "yaml";
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

/** Every character outside ASCII. */
const NON_ASCII = /[\u0080-\u{10FFFF}]/gu;

/** `\uXXXX`, or `\UXXXXXXXX` past the BMP: YAML's double-quoted escapes of a character. */
function escapeCharacter(character: string): string {
  const code = character.codePointAt(0) ?? 0;
  return code > 0xffff ? `\\U${code.toString(16).padStart(8, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** The YAML text, after `header` (comment lines, each without its `# `). */
export function huntingQueryYaml(
  search: DesiredResource,
  metadata: DesiredResource | undefined,
  header: readonly string[],
): string {
  const comments = header.map((line) => `# ${line}\n`).join("");
  const document = new Document(huntingQueryDocument(search, metadata));
  // Values with characters outside ASCII are double-quoted, so that each such character of the text can be escaped.
  visit(document, {
    Scalar(_, node) {
      if (typeof node.value === "string" && node.value.match(NON_ASCII)) node.type = "QUOTE_DOUBLE";
    },
  });
  // In a comment the escape is only read, not decoded.
  return `${comments}${document.toString({ lineWidth: 0 })}`.replace(NON_ASCII, escapeCharacter);
}
