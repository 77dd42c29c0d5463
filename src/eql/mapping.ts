/**
 * Field mappings for the evaluator from an Elasticsearch index mapping (`{"properties": {...}}`): types that
 * change comparisons (date with its format, version, ip…), aliases (`event.category` → `event_type`) and
 * `null_value`.
 */
import type { FieldMapping, FieldMappings } from "./events.js";
import type { FieldType, Value } from "./values.js";

const KNOWN_TYPES: ReadonlySet<string> = new Set([
  "date",
  "version",
  "ip",
  "keyword",
  "text",
  "long",
  "double",
  "boolean",
]);

function typeOf(esType: string): FieldType {
  if (KNOWN_TYPES.has(esType)) return esType as FieldType;
  if (["integer", "short", "byte", "unsigned_long"].includes(esType)) return "long";
  if (["float", "half_float", "scaled_float"].includes(esType)) return "double";
  if (["constant_keyword", "wildcard", "match_only_text"].includes(esType)) return "keyword";
  if (esType === "date_nanos") return "date";
  return "other";
}

export function fieldsFromEsMapping(mapping: unknown): FieldMappings {
  const out: Record<string, FieldMapping> = {};
  const visit = (properties: unknown, prefix: string) => {
    if (!properties || typeof properties !== "object") return;
    for (const [name, spec] of Object.entries(properties as Record<string, unknown>)) {
      if (!spec || typeof spec !== "object") continue;
      const s = spec as Record<string, unknown>;
      const path = prefix ? `${prefix}.${name}` : name;
      if (s.properties) visit(s.properties, path);
      if (typeof s.type !== "string") continue;
      if (s.type === "alias" && typeof s.path === "string") {
        out[path] = { type: "alias", path: s.path };
        continue;
      }
      const nullValue = s.null_value as Value | undefined;
      const format = typeof s.format === "string" ? s.format : undefined;
      out[path] = {
        type: typeOf(s.type),
        ...(nullValue !== undefined ? { nullValue } : {}),
        ...(format ? { format } : {}),
      };
    }
  };
  visit((mapping as { properties?: unknown } | null)?.properties, "");
  return out;
}
