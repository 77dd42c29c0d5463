/**
 * The requests of the HTTP API as JSON schemas: one owner for both transports. The fastify routes declare them
 * (compiled at route registration, so a bad schema fails at boot; also the OpenAPI document), and the Functions
 * handlers validate with the same schemas and the same Ajv options through `validateRequest`.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
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
  minLength: 64,
  maxLength: 64,
  pattern: "^[0-9a-fA-F]{64}$",
  description: "SHA-256 of the sample (hex)",
} as const;

/**
 * The request limits of the API: one owner, used by the schemas below (an over-long field is a 400 naming the
 * limit: `body/eql must NOT have more than 16384 characters`) and by the depth check of a translation.
 */
export const REQUEST_LIMITS = {
  /** An EQL query in /translate: Elastic's prebuilt rules' queries are well under 8 KiB. */
  eqlChars: 16_384,
  /** A rule file (TOML) in /translate: the largest of Elastic's prebuilt rules (notes included) is under 64 KiB. */
  ruleChars: 131_072,
  /** Brackets nested in a query (the translator refuses deeper queries, EQL121, at the same depth). */
  nestingDepth: 256,
  /** A rule id (Elastic's `rule_id` is a UUID; 100 leaves room for others). */
  ruleIdChars: 100,
  /** Samples one rescan request scans at most (each is a scan: a request must end in reasonable time). */
  rescanLimit: 1000,
  /** Any path parameter (fastify's `maxParamLength`; longer ones are answered 414): ids are at most 100. */
  pathParamChars: 100,
  /** Items one page of a list (`GET /hits`, `GET /incidents`) holds at most; `next` names where the next starts. */
  pageItems: 1000,
} as const;

/** A rule id: letters, digits and `._:-` (a UUID fits), so it reaches no store or log unencoded or unbounded. */
const ruleIdParam = {
  type: "string",
  minLength: 1,
  maxLength: REQUEST_LIMITS.ruleIdChars,
  pattern: "^[A-Za-z0-9][A-Za-z0-9._:-]*$",
} as const;

export const translateBody = {
  type: "object",
  required: ["target"],
  additionalProperties: false,
  properties: {
    target: { type: "string", enum: [...TARGETS] },
    eql: { type: "string", maxLength: REQUEST_LIMITS.eqlChars },
    rule: { type: "string", maxLength: REQUEST_LIMITS.ruleChars, description: "a rule file (TOML)" },
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
  properties: { ruleId: ruleIdParam, force: { type: "boolean", default: true } },
} as const;

/** POST /hunt/rescan: how many stored samples to scan again at most in this call. */
export const rescanBody = {
  type: "object",
  additionalProperties: false,
  properties: { limit: { type: "integer", minimum: 1, maximum: REQUEST_LIMITS.rescanLimit } },
} as const;

/**
 * One page of a list: `limit` items at most (default and most REQUEST_LIMITS.pageItems), after the item named by
 * `after` (the `next` of the page before: a hit's key, an incident's id).
 */
const pageParams = {
  limit: { type: "integer", minimum: 1, maximum: REQUEST_LIMITS.pageItems, default: REQUEST_LIMITS.pageItems },
  after: { type: "string", minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9-]+$" },
} as const;

/**
 * The query of a route that takes no parameter in it (every route but those with a query schema of their own):
 * none accepted, as "Limits and timeouts" in docs/service.md says (400, `querystring must NOT have additional
 * properties`).
 */
export const noQuery = {
  type: "object",
  additionalProperties: false,
  properties: {},
} as const;

export interface PageQuery {
  readonly limit?: number;
  readonly after?: string;
}

export const hitsQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    ruleId: ruleIdParam,
    status: { type: "string", enum: [...HIT_STATUSES] },
    ...pageParams,
  },
} as const;

export const incidentsQuery = {
  type: "object",
  additionalProperties: false,
  properties: { ...pageParams },
} as const;

export const incidentParams = {
  type: "object",
  additionalProperties: false,
  // Incident ids are UUIDs (src/sentinel/ids.ts); 64 characters of `[A-Za-z0-9-]` leave room for others.
  properties: { id: { type: "string", minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9-]+$" } },
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
    // No control character (C0, DEL, C1) in either; no space in a host name.
    host: { type: "string", minLength: 1, maxLength: 255, pattern: "^[^\\u0000-\\u001f\\u007f-\\u009f\\s]+$" },
    path: { type: "string", minLength: 1, maxLength: 4096, pattern: "^[^\\u0000-\\u001f\\u007f-\\u009f]+$" },
  },
  dependencies: { host: ["path"], path: ["host"] },
} as const;

export interface SampleQuery {
  readonly sha256?: string;
  readonly host?: string;
  readonly path?: string;
}

export const sampleParams = {
  type: "object",
  additionalProperties: false,
  properties: { sha256: sha256Param },
  required: ["sha256"],
} as const;

/**
 * The deepest bracket nesting of a query or rule text (`(`, `[`, `{`), counted in one pass and without parsing, so
 * that a request too deep to translate is refused before a recursive parser sees it.
 */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 40 || c === 91 || c === 123) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if ((c === 41 || c === 93 || c === 125) && depth > 0) {
      depth--;
    }
  }
  return deepest;
}

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
  let copy: unknown;
  try {
    copy = structuredClone(value);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    // Nested deeper than a copy's stack allows (~5,000 levels, in a body well under its size limit): checked as it
    // is (it is refused, no copy needed), so that the answer is the one fastify gives the same body; or, if even the
    // check runs out of stack, refused as nested too deeply. No schema here takes anything that deep.
    let valid = false;
    try {
      valid = validate(value) as boolean;
    } catch (inner) {
      if (!(inner instanceof RangeError)) throw inner;
    }
    if (!valid && validate.errors) throw invalidRequest(validate.errors, part);
    throw invalidRequest([{ instancePath: "", message: "is nested too deeply" }], part);
  }
  if (!validate(copy)) throw invalidRequest(validate.errors ?? [], part);
  return copy as T;
}

/**
 * The InvalidRequestError (400, `SHM_INVALID_REQUEST`) of a request Ajv refused, for both transports (the fastify
 * host's `schemaErrorFormatter`): every error as `<part><path> <message>`, joined by commas, an enum's allowed
 * values named (`body/target must be equal to one of the allowed values: defender, asim, auditd`).
 */
export function invalidRequest(
  errors: readonly Partial<ErrorObject>[],
  part: string,
): InstanceType<typeof InvalidRequestError> {
  const text = errors
    .map((e) => {
      const allowed = (e.params as { allowedValues?: unknown } | undefined)?.allowedValues;
      const values = Array.isArray(allowed) ? `: ${allowed.map(String).join(", ")}` : "";
      return `${part}${e.instancePath ?? ""} ${e.message ?? "is invalid"}${values}`;
    })
    .join(", ");
  return new InvalidRequestError(text || `${part} is invalid`);
}
