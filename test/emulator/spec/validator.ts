/**
 * The spec as the emulator's judge: for a request (api-version, method, path) finds the operation Microsoft's
 * OpenAPI file defines, and validates the request body against its body parameter's schema, or a response body
 * against the schema of its status, with Ajv (a maintained JSON Schema validator) over the converted spec schemas
 * (json-schema.ts). Nothing here is hand-written per resource: what the spec says is what is checked.
 */
import path from "node:path";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { readSpec, resolveFile, SPEC_ROOT, SPEC_VERSIONS, type SpecVersion } from "./files.js";
import {
  closure,
  convertFile,
  convertSchema,
  findPolymorphism,
  type Mode,
  type Polymorphism,
  pointerGet,
  splitRef,
} from "./json-schema.js";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** One operation of a spec: its path template, method, body parameter and responses, in the file defining it. */
export interface SpecOperation {
  readonly version: SpecVersion;
  readonly file: string;
  readonly template: string;
  readonly method: string;
  readonly operationId: string;
  /** The body parameter; `file` is where its schema's refs resolve from. */
  readonly bodyParameter?: { name: string; required: boolean; schema: unknown; file: string };
  readonly responses: Readonly<Record<string, unknown>>;
  /** `x-ms-long-running-operation`: the service answers 201/202 and names an operation to follow. */
  readonly longRunning: boolean;
  /** `x-ms-examples`: title → absolute example file. */
  readonly examples: Readonly<Record<string, string>>;
}

export interface SpecFinding {
  readonly ok: boolean;
  /** `path: message` lines, the first the most specific. */
  readonly errors: readonly string[];
}

interface Loaded {
  readonly operations: SpecOperation[];
  readonly ajv: Record<Mode, Ajv>;
  readonly poly: Polymorphism;
  readonly compiled: Map<string, ValidateFunction>;
}

const loaded = new Map<string, Loaded>();

function load(version: SpecVersion): Loaded {
  const key = `${version.provider}@${version.apiVersion}`;
  const hit = loaded.get(key);
  if (hit) return hit;
  const swaggers = version.swaggers.map((s) => path.join(SPEC_ROOT, s));
  const files = closure(swaggers);
  const poly = findPolymorphism(files);
  const ajv = { request: newAjv(), response: newAjv() };
  for (const mode of ["request", "response"] as const) {
    for (const file of files) ajv[mode].addSchema(convertFile(file, mode, poly));
  }
  const operations = swaggers.flatMap((file) => operationsOf(version, file));
  const result: Loaded = { operations, ajv, poly, compiled: new Map() };
  loaded.set(key, result);
  return result;
}

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: false, validateFormats: true });
  addFormats(ajv);
  // OpenAPI 2.0 / autorest formats that JSON Schema does not define
  ajv.addFormat("int32", { type: "number", validate: (n) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat("int64", { type: "number", validate: (n) => Number.isInteger(n) });
  ajv.addFormat("float", { type: "number", validate: () => true });
  ajv.addFormat("double", { type: "number", validate: () => true });
  // ISO 8601 duration (xsd:duration), what `format: duration` means in autorest
  ajv.addFormat("duration", /^-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/);
  for (const name of ["password", "byte", "binary", "arm-id", "url", "unixtime", "date-time-rfc1123", "base64url"]) {
    ajv.addFormat(name, true);
  }
  return ajv;
}

function operationsOf(version: SpecVersion, file: string): SpecOperation[] {
  const doc = readSpec(file) as Json;
  const paths = isObject(doc.paths) ? doc.paths : {};
  const out: SpecOperation[] = [];
  for (const [template, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    for (const [method, op] of Object.entries(item)) {
      if (!isObject(op) || !["get", "put", "post", "patch", "delete"].includes(method)) continue;
      const parameters = [
        ...(Array.isArray(item.parameters) ? item.parameters : []),
        ...(Array.isArray(op.parameters) ? op.parameters : []),
      ].map((p) => resolveParameter(file, p));
      const body = parameters.find((p) => p.in === "body");
      const examples: Record<string, string> = {};
      for (const [title, ref] of Object.entries(isObject(op["x-ms-examples"]) ? op["x-ms-examples"] : {})) {
        if (isObject(ref) && typeof ref.$ref === "string") {
          const example = exampleFile(file, ref.$ref);
          if (example) examples[title] = example;
        }
      }
      out.push({
        version,
        file,
        template: `${basePath(doc, version)}${template}`,
        method: method.toUpperCase(),
        operationId: String(op.operationId ?? ""),
        ...(body
          ? {
              bodyParameter: {
                name: String(body.name),
                required: body.required === true,
                schema: body.schema,
                file: body.file,
              },
            }
          : {}),
        responses: isObject(op.responses) ? op.responses : {},
        longRunning: op["x-ms-long-running-operation"] === true,
        examples,
      });
    }
  }
  return out;
}

/** `basePath`, or the api-version segment of a data-plane `x-ms-parameterized-host` (`{endpoint}/{apiVersion}`). */
function basePath(doc: Json, version: SpecVersion): string {
  if (typeof doc.basePath === "string") return doc.basePath.replace(/\/$/, "");
  const host = doc["x-ms-parameterized-host"];
  if (isObject(host) && String(host.hostTemplate).endsWith("/{apiVersion}")) return `/${version.apiVersion}`;
  return "";
}

/** The example file (either folder layout), or undefined when the archive does not hold it. */
function exampleFile(from: string, relative: string): string | undefined {
  try {
    return resolveFile(from, relative);
  } catch {
    return undefined;
  }
}

/** A parameter object, following `$ref` (body parameters keep the file their schema's refs resolve from). */
function resolveParameter(file: string, parameter: unknown): Json & { file: string } {
  if (isObject(parameter) && typeof parameter.$ref === "string") {
    const { file: target, pointer } = splitRef(file, parameter.$ref);
    return resolveParameter(target, pointerGet(readSpec(target), pointer));
  }
  return { ...(isObject(parameter) ? parameter : {}), file } as Json & { file: string };
}

/** The spec version for a provider and api-version, if the emulator has its spec. */
export function specVersion(provider: SpecVersion["provider"], apiVersion: string): SpecVersion | undefined {
  return SPEC_VERSIONS.find((v) => v.provider === provider && v.apiVersion === apiVersion);
}

/** The operation whose path template matches `pathname` (literal segments case-insensitive, as ARM). */
export function findOperation(version: SpecVersion, method: string, pathname: string): SpecOperation | undefined {
  const segments = pathname.split("/").filter((s) => s !== "");
  let best: { op: SpecOperation; literals: number } | undefined;
  for (const op of load(version).operations) {
    if (op.method !== method.toUpperCase()) continue;
    const parts = op.template.split("/").filter((s) => s !== "");
    if (parts.length !== segments.length) continue;
    let literals = 0;
    const fits = parts.every((part, i) => {
      if (/^\{[^}]+\}$/.test(part)) return true;
      literals++;
      return part.toLowerCase() === decodeURIComponent(segments[i] ?? "").toLowerCase();
    });
    if (fits && (!best || literals > best.literals)) best = { op, literals };
  }
  return best?.op;
}

/** Every operation of a spec version (the example runner walks their `x-ms-examples`). */
export function operationsOfVersion(version: SpecVersion): readonly SpecOperation[] {
  return load(version).operations;
}

/** Checks a request body against the operation's body parameter (readOnly properties ignored, as the service). */
export function validateRequestBody(op: SpecOperation, body: unknown): SpecFinding {
  if (!op.bodyParameter) return { ok: true, errors: [] };
  if (body === undefined || body === null || body === "") {
    return op.bodyParameter.required
      ? { ok: false, errors: [`The request body '${op.bodyParameter.name}' is required.`] }
      : { ok: true, errors: [] };
  }
  return run(op, "request", `body:${op.operationId}`, op.bodyParameter.schema, op.bodyParameter.file, body);
}

/** Checks a response body against the schema the operation gives for `status` (an error: or `default`). */
export function validateResponseBody(op: SpecOperation, status: number, body: unknown): SpecFinding {
  const response = op.responses[String(status)] ?? (status >= 400 ? op.responses.default : undefined);
  if (response === undefined) {
    return { ok: false, errors: [`The spec defines no ${status} response for ${op.operationId}.`] };
  }
  const schema = isObject(response) ? response.schema : undefined;
  if (schema === undefined) return { ok: true, errors: [] };
  return run(op, "response", `response:${op.operationId}:${status}`, schema, op.file, body);
}

function run(op: SpecOperation, mode: Mode, key: string, schema: unknown, file: string, data: unknown): SpecFinding {
  const state = load(op.version);
  const cacheKey = `${mode}:${op.file}:${key}`;
  let validate = state.compiled.get(cacheKey);
  if (!validate) {
    validate = state.ajv[mode].compile(convertSchema(schema, file, mode, state.poly));
    state.compiled.set(cacheKey, validate);
  }
  if (validate(data)) return { ok: true, errors: [] };
  return { ok: false, errors: describe(validate.errors ?? []) };
}

/**
 * Ajv's errors in the wording the emulator has always used for the service's JSON.NET model errors ("Required
 * property 'x' not found in JSON.", "Error converting value 'v' for 'name'."), with the JSON path; the wrappers of
 * `if/then` and `allOf` are left out.
 */
function describe(errors: readonly ErrorObject[]): string[] {
  const specific = errors.filter((e) => e.keyword !== "if" && e.keyword !== "allOf");
  const chosen = (specific.length > 0 ? specific : errors).map((e) => {
    const where = e.instancePath === "" ? "(body)" : e.instancePath.slice(1).replace(/\//g, ".");
    const name =
      e.instancePath
        .split("/")
        .filter((s) => !/^\d+$/.test(s))
        .pop() ?? "";
    switch (e.keyword) {
      case "required":
        return `Required property '${(e.params as { missingProperty: string }).missingProperty}' not found in JSON. Path '${where}'.`;
      case "enum":
        return `Error converting value '${String(e.data)}' for '${name}'. Path '${where}'. Allowed values: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(", ")}.`;
      case "additionalProperties":
        return `${where}: ${e.message} ('${String((e.params as { additionalProperty: unknown }).additionalProperty)}')`;
      default:
        return `${where}: ${e.message ?? e.keyword}`;
    }
  });
  return [...new Set(chosen)];
}
