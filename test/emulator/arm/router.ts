/**
 * The ARM side: parses `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/
 * workspaces/{ws}/...` (literal segments case-insensitive, as ARM), checks `api-version`, finds the workspace,
 * and hands the rest of the path to the saved-search or Security Insights routes.
 */
import { randomUUID } from "node:crypto";
import type { QueryEngine } from "../query-engine.js";
import { apiVersionsOf, type SpecVersion } from "../spec/files.js";
import { findOperation, specVersion, validateRequestBody, validateResponseBody } from "../spec/validator.js";
import type { EmulatorState } from "../state.js";
import type { ArmRequest } from "./context.js";
import { handleSavedSearches } from "./saved-searches.js";
import { handleSecurityInsights } from "./sentinel.js";
import { ArmFailure, type ArmReply, armError } from "./wire.js";

export interface ArmCall {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly body: unknown;
}

export interface ArmContext {
  readonly state: EmulatorState;
  readonly engine: QueryEngine;
  readonly pageSize: number;
  readonly now: () => Date;
}

export function handleArm(call: ArmCall, context: ArmContext): ArmReply {
  const segments = call.url.pathname
    .split("/")
    .filter((s) => s !== "")
    .map((s) => decodeURIComponent(s));
  const lower = segments.map((s) => s.toLowerCase());
  if (call.method.toUpperCase() === "GET") {
    const status = operationStatus(segments, lower);
    if (status) return status;
  }
  const shapeOk =
    lower[0] === "subscriptions" &&
    lower[2] === "resourcegroups" &&
    lower[4] === "providers" &&
    lower[5] === "microsoft.operationalinsights" &&
    lower[6] === "workspaces" &&
    segments.length > 8;
  if (!shapeOk) return armError(404, "NotFound", `No route for '${call.url.pathname}' in the shmhunt emulator.`);
  const [, subscriptionId = "", , resourceGroup = "", , , , workspaceName = "", ...rest] = segments;
  const restLower = rest.map((s) => s.toLowerCase());

  let provider: SpecVersion["provider"];
  let handler: (request: ArmRequest) => ArmReply;
  let type: string;
  if (restLower[0] === "savedsearches") {
    provider = "Microsoft.OperationalInsights/savedSearches";
    handler = handleSavedSearches;
    type = "workspaces/savedSearches";
  } else if (restLower[0] === "providers" && restLower[1] === "microsoft.securityinsights" && rest.length >= 3) {
    provider = "Microsoft.SecurityInsights";
    handler = handleSecurityInsights;
    type = rest[2] ?? "";
  } else {
    return armError(404, "NotFound", `No route for '${call.url.pathname}' in the shmhunt emulator.`);
  }

  const apiVersion = call.url.searchParams.get("api-version");
  if (!apiVersion) {
    return armError(
      400,
      "MissingApiVersionParameter",
      "The api-version query parameter (?api-version=) is required for all requests.",
    );
  }
  const versions = apiVersionsOf(provider);
  const spec = specVersion(provider, apiVersion);
  if (!spec) {
    return armError(
      400,
      "NoRegisteredProviderFound",
      `No registered resource provider found for location 'eastus' and API version '${apiVersion}' for type '${type}'. The supported api-versions are '${versions.join(", ")}'.`,
    );
  }

  const workspace = context.state.find({ subscriptionId, resourceGroup, name: workspaceName });
  if (!workspace) {
    return armError(
      404,
      "ResourceNotFound",
      `The Resource 'Microsoft.OperationalInsights/workspaces/${workspaceName}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    );
  }
  const judged = judgeBySpec(spec, call, type);
  if (judged) return judged;
  const request: ArmRequest = {
    method: call.method.toUpperCase(),
    workspace,
    rest,
    url: call.url,
    headers: call.headers,
    body: call.body,
    now: context.now(),
    engine: context.engine,
    pageSize: context.pageSize,
  };
  return selfChecked(spec, call, asynchronous(spec, call, subscriptionId, answer(handler, request)));
}

/**
 * Operations the spec makes long-running (`x-ms-long-running-operation`, e.g. Watchlists.json at 2025-12-01: a
 * DELETE answers 202 with `Azure-AsyncOperation` and `Location`, a creating PUT 201 with `Azure-AsyncOperation`):
 * their work is done at once here, and the operation they name reads `InProgress` once, then `Succeeded` (ARM's
 * asynchronous operation protocol), so a client that does not follow it is seen not to.
 */
const operations = new Map<string, { reads: number }>();

function asynchronous(spec: SpecVersion, call: ArmCall, subscriptionId: string, reply: ArmReply): ArmReply {
  const method = call.method.toUpperCase();
  const begins = (method === "DELETE" && reply.status === 200) || (method === "PUT" && reply.status === 201);
  if (!begins || !findOperation(spec, method, call.url.pathname)?.longRunning) return reply;
  const id = randomUUID();
  operations.set(id, { reads: 0 });
  const url = `${call.url.origin}/subscriptions/${subscriptionId}/providers/Microsoft.SecurityInsights/operationStatuses/${id}?api-version=${call.url.searchParams.get("api-version")}`;
  if (method === "DELETE")
    return { status: 202, headers: { "Azure-AsyncOperation": url, Location: url, "Retry-After": "0" } };
  return { ...reply, headers: { ...reply.headers, "Azure-AsyncOperation": url } };
}

/** `GET …/providers/Microsoft.SecurityInsights/operationStatuses/{id}`: an operation `asynchronous` began. */
function operationStatus(segments: readonly string[], lower: readonly string[]): ArmReply | undefined {
  const shape =
    segments.length === 6 &&
    lower[0] === "subscriptions" &&
    lower[2] === "providers" &&
    lower[3] === "microsoft.securityinsights" &&
    lower[4] === "operationstatuses";
  if (!shape) return undefined;
  const id = segments[5] ?? "";
  const operation = operations.get(id);
  if (!operation) return armError(404, "NotFound", `No operation '${id}'.`);
  operation.reads++;
  const status = operation.reads === 1 ? "InProgress" : "Succeeded";
  return { status: 200, headers: { "Retry-After": "0" }, body: { id, name: id, status } };
}

/** How many times each operation's status was read (tests: was it followed?). */
export function operationReads(): ReadonlyMap<string, number> {
  return new Map([...operations].map(([id, { reads }]) => [id, reads]));
}

/** The emulator's own answer must be one the spec allows (status and body shape), else it is an emulator bug: 500. */
function selfChecked(spec: SpecVersion, call: ArmCall, reply: ArmReply): ArmReply {
  const operation = findOperation(spec, call.method, call.url.pathname);
  if (!operation) return reply;
  const finding = validateResponseBody(operation, reply.status, reply.body);
  if (finding.ok) return reply;
  return armError(
    500,
    "EmulatorSpecViolation",
    `The shmhunt emulator's ${reply.status} answer to ${operation.operationId} does not match the spec: ${finding.errors.join("; ")}`,
  );
}

function answer(handler: (request: ArmRequest) => ArmReply, request: ArmRequest): ArmReply {
  try {
    return handler(request);
  } catch (error) {
    if (error instanceof ArmFailure) return error.reply;
    throw error;
  }
}

/**
 * The spec of the api-version the request names is the judge: an operation it does not define is 404
 * InvalidResourceType (405 when only the method is wrong), and a body that does not match the operation's body
 * schema is 400 BadRequest, the service's "Invalid data model. [...]" with the spec's findings.
 */
function judgeBySpec(spec: SpecVersion, call: ArmCall, type: string): ArmReply | undefined {
  const method = call.method.toUpperCase();
  const operation = findOperation(spec, method, call.url.pathname);
  if (!operation) {
    const otherMethod = ["GET", "PUT", "PATCH", "DELETE", "POST"].some((m) =>
      findOperation(spec, m, call.url.pathname),
    );
    if (otherMethod) {
      return armError(405, "MethodNotAllowed", `The requested resource does not support http method '${method}'.`);
    }
    return armError(
      404,
      "InvalidResourceType",
      `The resource type '${type}' could not be found for api version '${spec.apiVersion}'.`,
    );
  }
  if (method !== "PUT" && method !== "PATCH" && method !== "POST") return undefined;
  const finding = validateRequestBody(operation, call.body);
  if (finding.ok) return undefined;
  return armError(400, "BadRequest", `Invalid data model. [${finding.errors.join("; ")}]`);
}
