/**
 * OpenAPI 2.0 schema objects → JSON Schema (draft-07, what Ajv validates), file by file:
 * - every `$ref` becomes absolute (`file://…#/definitions/X`), resolved across files (files.ts);
 * - a definition with a `discriminator` (alert rule `kind`, entity `kind`, …) gets a `X__polymorphic` twin that
 *   checks the base and then the subtype whose `x-ms-discriminator-value` (or name) the body's discriminator names;
 *   every ref to the base except a subtype's own `allOf` points at the twin, as autorest reads the spec;
 * - `x-nullable: true` admits null (in responses every property does: the service writes null for unset ones);
 * - a bare `type: object` is any value (autorest's reading); draft-04 boolean `exclusiveMinimum/Maximum` become numbers;
 * - `readOnly` properties: in a *request* the service ignores them (see docs/emulator.md), so there they accept any
 *   value and are never required; in a *response* they are checked like the rest;
 * - `x-ms-enum.modelAsString` enums stay closed in requests (the service rejects an unknown value) and are open in
 *   responses (clients must accept values added later, which is what modelAsString means);
 * - other `x-ms-*` extensions, `discriminator`, `example`, `default`, `description` are dropped (no validation
 *   meaning).
 */
import { pathToFileURL } from "node:url";
import { readSpec, resolveFile } from "./files.js";

export type Mode = "request" | "response";
type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

export function fileUri(file: string): string {
  return pathToFileURL(file).href;
}

/** A `$ref` split into its absolute file and JSON pointer. */
export function splitRef(from: string, ref: string): { file: string; pointer: string } {
  const [relative = "", fragment = ""] = ref.split("#");
  return { file: relative === "" ? from : resolveFile(from, relative), pointer: fragment };
}

export function pointerGet(doc: unknown, pointer: string): unknown {
  let node = doc;
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    node = (node as Json)[key];
  }
  return node;
}

/** Every file reachable by `$ref` from the given ones. */
export function closure(files: readonly string[]): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    walk(readSpec(file), (ref) => {
      if (ref.includes("/examples/")) return;
      visit(splitRef(file, ref).file);
    });
  };
  for (const f of files) visit(f);
  return [...seen];
}

function walk(node: unknown, onRef: (ref: string) => void): void {
  if (Array.isArray(node)) for (const n of node) walk(n, onRef);
  else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") onRef(value);
      else if (key !== "x-ms-examples") walk(value, onRef);
    }
  }
}

/** Discriminated bases (`file#/definitions/X`) and their subtypes, over a set of files. */
export interface Polymorphism {
  readonly property: Map<string, string>;
  readonly subtypes: Map<string, { value: string; ref: string }[]>;
}

export function findPolymorphism(files: readonly string[]): Polymorphism {
  const property = new Map<string, string>();
  const subtypes = new Map<string, { value: string; ref: string }[]>();
  for (const file of files) {
    const definitions = (readSpec(file) as Json).definitions;
    if (!isObject(definitions)) continue;
    for (const [name, def] of Object.entries(definitions)) {
      if (isObject(def) && typeof def.discriminator === "string") {
        property.set(`${fileUri(file)}#/definitions/${name}`, def.discriminator);
      }
    }
  }
  for (const file of files) {
    const definitions = (readSpec(file) as Json).definitions;
    if (!isObject(definitions)) continue;
    for (const [name, def] of Object.entries(definitions)) {
      if (!isObject(def) || !Array.isArray(def.allOf)) continue;
      for (const part of def.allOf) {
        if (!isObject(part) || typeof part.$ref !== "string") continue;
        const target = splitRef(file, part.$ref);
        const base = `${fileUri(target.file)}${target.pointer ? `#${target.pointer}` : ""}`;
        if (!property.has(base)) continue;
        const value = typeof def["x-ms-discriminator-value"] === "string" ? def["x-ms-discriminator-value"] : name;
        const list = subtypes.get(base) ?? [];
        list.push({ value, ref: `${fileUri(file)}#/definitions/${name}` });
        subtypes.set(base, list);
      }
    }
  }
  return { property, subtypes };
}

export const POLYMORPHIC = "__polymorphic";

/** The JSON Schema document for one spec file (its definitions, converted), with `$id` = its file URI. */
export function convertFile(file: string, mode: Mode, poly: Polymorphism): Json {
  const doc = readSpec(file) as Json;
  const definitions: Json = {};
  const source = isObject(doc.definitions) ? doc.definitions : {};
  for (const [name, def] of Object.entries(source)) {
    definitions[name] = convertSchema(def, file, mode, poly, true);
    const self = `${fileUri(file)}#/definitions/${name}`;
    const discriminator = poly.property.get(self);
    if (discriminator !== undefined) {
      definitions[`${name}${POLYMORPHIC}`] = {
        allOf: [{ $ref: self }, switchOn(discriminator, poly.subtypes.get(self) ?? [])],
      };
    }
  }
  return { $id: fileUri(file), definitions };
}

function switchOn(property: string, subtypes: readonly { value: string; ref: string }[]): Json {
  let schema: Json = {};
  for (const sub of [...subtypes].reverse()) {
    schema = {
      if: { required: [property], properties: { [property]: { const: sub.value } } },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, not a thenable
      then: { $ref: sub.ref },
      ...(Object.keys(schema).length > 0 ? { else: schema } : {}),
    };
  }
  return schema;
}

/** A schema object (or a body parameter's schema) converted; `$ref`s resolved from `file`. */
export function convertSchema(node: unknown, file: string, mode: Mode, poly: Polymorphism, inDefinition = false): Json {
  if (!isObject(node)) return {};
  if (typeof node.$ref === "string") return { $ref: absoluteRef(file, node.$ref, poly, true) };
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith("x-") || DROPPED.has(key)) continue;
    switch (key) {
      case "properties": {
        const properties: Json = {};
        for (const [name, schema] of Object.entries(isObject(value) ? value : {})) {
          properties[name] =
            mode === "request" && isReadOnly(schema, file) ? {} : convertSchema(schema, file, mode, poly);
        }
        out.properties = properties;
        break;
      }
      case "required": {
        const props = isObject(node.properties) ? node.properties : {};
        const required = (Array.isArray(value) ? value : []).filter(
          (name) => !(mode === "request" && isReadOnly(props[String(name)], file)),
        );
        if (required.length > 0) out.required = required;
        break;
      }
      case "allOf":
        out.allOf = (Array.isArray(value) ? value : []).map((part) =>
          isObject(part) && typeof part.$ref === "string"
            ? { $ref: absoluteRef(file, part.$ref, poly, !inDefinition) }
            : convertSchema(part, file, mode, poly),
        );
        break;
      case "items":
        out.items = convertSchema(value, file, mode, poly);
        break;
      case "additionalProperties":
        if (isObject(value) && Object.keys(value).length === 0 && !("properties" in node)) break;
        out.additionalProperties = typeof value === "boolean" ? value : convertSchema(value, file, mode, poly);
        break;
      case "enum": {
        const ext = node["x-ms-enum"];
        const open = mode === "response" && isObject(ext) && ext.modelAsString === true;
        if (!open) out.enum = value;
        break;
      }
      case "type": {
        if (value === "file") break;
        // autorest: a bare `type: object` (no properties, no additionalProperties, no allOf) is "any value"
        // (also `additionalProperties: {}` alone, TypeSpec's `Record<unknown>`, which the Log Analytics spec uses for
        // row cells that its own examples and the service give as strings, numbers and booleans)
        const anyValues = isObject(node.additionalProperties) && Object.keys(node.additionalProperties).length === 0;
        const bare =
          value === "object" &&
          !("properties" in node) &&
          (!("additionalProperties" in node) || anyValues) &&
          !node.allOf;
        if (bare) {
          delete out.additionalProperties;
          break;
        }
        if (bare) break;
        // null is admitted where the spec says x-nullable, and in responses, where the service writes null for
        // an unset property and the generated clients read it as absent
        out.type = node["x-nullable"] === true || mode === "response" ? [value, "null"] : value;
        break;
      }
      case "exclusiveMinimum":
      case "exclusiveMaximum":
        if (value === true) {
          const bound = key === "exclusiveMinimum" ? "minimum" : "maximum";
          out[key] = node[bound];
        } else if (typeof value === "number") out[key] = value;
        break;
      case "minimum":
      case "maximum":
        if (node[key === "minimum" ? "exclusiveMinimum" : "exclusiveMaximum"] !== true) out[key] = value;
        break;
      default:
        out[key] = value;
    }
  }
  return out;
}

const DROPPED = new Set(["discriminator", "example", "default", "description", "readOnly", "externalDocs", "title"]);

function absoluteRef(from: string, ref: string, poly: Polymorphism, polymorphic: boolean): string {
  const { file, pointer } = splitRef(from, ref);
  const target = `${fileUri(file)}#${pointer}`;
  return polymorphic && poly.property.has(target) ? `${target}${POLYMORPHIC}` : target;
}

/** readOnly on the property itself or on the definition its `$ref` names. */
function isReadOnly(schema: unknown, file: string): boolean {
  if (!isObject(schema)) return false;
  if (schema.readOnly === true) return true;
  if (typeof schema.$ref !== "string") return false;
  const { file: target, pointer } = splitRef(file, schema.$ref);
  const resolved = pointerGet(readSpec(target), pointer);
  return isObject(resolved) && resolved.readOnly === true;
}
