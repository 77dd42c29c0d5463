/**
 * The requests of the HTTP API as JSON schemas: one owner for both transports. The fastify routes declare them
 * (compiled at route registration, so a bad schema fails at boot; also the OpenAPI document), and the Functions
 * handlers validate with the same schemas and the same Ajv options through `validateRequest`.
 */
import { Ajv, type ValidateFunction } from "ajv";
import { HIT_STATUSES } from "../hunt/types.js";
import { TARGETS } from "../targets/index.js";
import { InvalidRequestError } from "./errors.js";

/** Ajv options of both transports (the fastify host passes them as `ajv.customOptions`). */
export const AJV_OPTIONS = {
  removeAdditional: false,
  coerceTypes: "array",
  useDefaults: true,
  allErrors: false,
} as const;

export const sha256Param = {
  type: "string",
  pattern: "^[0-9a-fA-F]{64}$",
  description: "SHA-256 of the sample (hex)",
} as const;

export const translateBody = {
  type: "object",
  required: ["target"],
  additionalProperties: false,
  properties: {
    target: { type: "string", enum: [...TARGETS] },
    eql: { type: "string", maxLength: 100_000 },
    rule: { type: "string", maxLength: 1_000_000, description: "a rule file (TOML)" },
  },
  oneOf: [{ required: ["eql"] }, { required: ["rule"] }],
} as const;

export const DEPLOY_MODES = ["plan", "apply"] as const;
export type DeployMode = (typeof DEPLOY_MODES)[number];

export const deployBody = {
  type: "object",
  additionalProperties: false,
  properties: { prune: { type: "boolean", default: false } },
} as const;

/** The Functions route carries the mode in its query (`/api/deploy?mode=plan&prune=true`). */
export const deployQuery = {
  ...deployBody,
  properties: { ...deployBody.properties, mode: { type: "string", enum: [...DEPLOY_MODES], default: "plan" } },
} as const;

export const huntRunBody = {
  type: "object",
  additionalProperties: false,
  properties: { ruleId: { type: "string", maxLength: 100 }, force: { type: "boolean", default: true } },
} as const;

export const hitsQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    ruleId: { type: "string" },
    status: { type: "string", enum: [...HIT_STATUSES] },
  },
} as const;

export const incidentParams = {
  type: "object",
  properties: { id: { type: "string", maxLength: 64 } },
  required: ["id"],
} as const;

/**
 * An upload may say where the sample came from (`host` and `path`, together): the store indexes it so, and a hit
 * that names only a path (an audit record) finds it.
 */
export const sampleQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    sha256: sha256Param,
    host: { type: "string", minLength: 1, maxLength: 255, pattern: "^[^\\u0000-\\u001f\\s]+$" },
    path: { type: "string", minLength: 1, maxLength: 4096, pattern: "^[^\\u0000-\\u001f]+$" },
  },
  dependencies: { host: ["path"], path: ["host"] },
} as const;

export interface SampleQuery {
  readonly sha256?: string;
  readonly host?: string;
  readonly path?: string;
}

export const sampleParams = { type: "object", properties: { sha256: sha256Param }, required: ["sha256"] } as const;

let ajv: Ajv | undefined;
const compiled = new WeakMap<object, ValidateFunction>();

/**
 * The value checked against a schema of this module (defaults applied, scalars coerced as fastify does), or an
 * InvalidRequestError (400) naming the part and field as fastify's validation does: `body/target must be …`, every
 * error Ajv reports joined by commas.
 */
export function validateRequest<T>(schema: object, value: unknown, part: "body" | "querystring" | "params"): T {
  let validate = compiled.get(schema);
  if (!validate) {
    ajv ??= new Ajv({ ...AJV_OPTIONS });
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  const copy = structuredClone(value);
  if (!validate(copy)) {
    const errors = validate.errors ?? [];
    const text = errors.map((e) => `${part}${e.instancePath} ${e.message ?? "is invalid"}`).join(", ");
    throw new InvalidRequestError(text || `${part} is invalid`);
  }
  return copy as T;
}
