// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${…}` here is Bicep interpolation syntax, the test data.
/**
 * Reading the renderings of the content model back, each by its own format's rules and not by the renderer's:
 * Bicep through tree-sitter-bicep (CST → resource type, name, id and body as JSON, Bicep's own string rules), and
 * the requests the real Azure SDK clients send when the deploy adapter applies desired content (the SDK's
 * serializer does the wire conversion; a recording HTTP client stands in for Azure).
 */
import type { TokenCredential } from "@azure/core-auth";
import { createHttpHeaders, type HttpClient } from "@azure/core-rest-pipeline";
import { expect } from "vitest";
import { contentClients } from "../../src/sentinel/clients.js";
import { type ContentClients, SentinelContentClient } from "../../src/sentinel/content-client.js";
import { type WorkspaceRef, workspaceResourceId } from "../../src/sentinel/content-types.js";
import { type DesiredResource, type Json, planDeployment } from "../../src/sentinel/plan.js";
import { formatProblems, parseSource, type SyntaxNode, stringValue, syntaxProblems } from "../infra/bicep.js";

// ---------------------------------------------------------------------------------------------------------------
// Reading Bicep back: values as Bicep defines them (not as the emitter meant them)

/**
 * A string literal's value by Bicep's rules (test/infra/bicep.ts, `stringValue`), for generated content: an
 * interpolation or a line break inside a single-quoted string is an error here.
 */
export function decodeString(node: SyntaxNode): string {
  const line = node.startPosition.row + 1;
  if (!node.text.startsWith("'''") && /[\r\n]/.test(node.text))
    throw new Error(`line break in a single-quoted string at ${line}`);
  const value = stringValue(node);
  if (value === undefined) throw new Error(`interpolation at line ${line}`);
  return value;
}

function keyOf(property: SyntaxNode): string {
  const key = property.namedChild(0);
  if (!key) throw new Error("object property without a key");
  return key.type === "string" ? decodeString(key) : key.text;
}

export function entriesOf(object: SyntaxNode): [string, SyntaxNode][] {
  return object.namedChildren
    .filter((p) => p.type === "object_property")
    .map((p) => [keyOf(p), p.namedChild(1) as SyntaxNode]);
}

/** A Bicep expression as JSON: literals, arrays, objects, json('…'), and `<symbol>.id` through `ids`. */
export function evaluate(node: SyntaxNode, ids: ReadonlyMap<string, string>): Json {
  switch (node.type) {
    case "string":
      return decodeString(node);
    case "number":
      return Number(node.text);
    case "boolean":
      return node.text === "true";
    case "null":
      return null;
    case "array":
      return arrayItems(node).map((c) => (Array.isArray(c) ? jsonCall(c[1]) : evaluate(c, ids)));
    case "object":
      return Object.fromEntries(entriesOf(node).map(([k, v]) => [k, evaluate(v, ids)]));
    case "call_expression": {
      const fn = node.childForFieldName("function")?.text;
      const args = node.childForFieldName("arguments")?.namedChildren ?? [];
      if (fn === "json" && args.length === 1 && args[0]) return jsonCall(args[0]);
      break;
    }
    case "member_expression": {
      const object = node.childForFieldName("object");
      const property = node.childForFieldName("property")?.text;
      const id = object?.type === "identifier" && property === "id" ? ids.get(object.text) : undefined;
      if (id !== undefined) return id;
      break;
    }
  }
  throw new Error(`unsupported expression at line ${node.startPosition.row + 1}: ${node.text.slice(0, 60)}`);
}

/**
 * The items of an array. tree-sitter-bicep reads a first item `json('…')` as an identifier followed by a
 * parenthesized expression (Bicep, whose items are separated by line breaks, reads a call): such a pair on one
 * line is returned as `["json", argument]`.
 */
function arrayItems(node: SyntaxNode): (SyntaxNode | [string, SyntaxNode])[] {
  const items: (SyntaxNode | [string, SyntaxNode])[] = [];
  const children = node.namedChildren.filter((c) => c.type !== "comment");
  for (let i = 0; i < children.length; i++) {
    const c = children[i] as SyntaxNode;
    const next = children[i + 1];
    if (
      c.type === "identifier" &&
      c.text === "json" &&
      next?.type === "parenthesized_expression" &&
      next.startPosition.row === c.endPosition.row &&
      next.startIndex === c.endIndex
    ) {
      items.push(["json", next.namedChild(0) as SyntaxNode]);
      i++;
    } else items.push(c);
  }
  return items;
}

function jsonCall(argument: SyntaxNode): Json {
  if (argument.type !== "string")
    throw new Error(`json() of ${argument.type} at line ${argument.startPosition.row + 1}`);
  return JSON.parse(decodeString(argument)) as Json;
}

export interface ReadResource {
  readonly symbol: string;
  readonly type: string;
  readonly apiVersion: string;
  readonly name: string;
  /** The ARM id the resource gets, from its type, name and parent or scope. */
  readonly id: string;
  /** Everything but name, parent, scope and dependsOn: the request body. */
  readonly wire: { readonly [key: string]: Json };
  readonly dependsOn: readonly string[];
  /** Every resource it waits for in an ARM deployment: parent, `<symbol>.id` references and dependsOn. */
  readonly needs: readonly string[];
  readonly body: SyntaxNode;
}

/** The resources a content.bicep declares, deployed into `workspace`. */
export function readContentBicep(source: string, workspace: WorkspaceRef): ReadResource[] {
  const root = parseSource(source);
  const problems = syntaxProblems(root);
  if (problems.length) throw new Error(formatProblems("content.bicep", problems));
  const declarations = root.namedChildren.filter((n) => n.type === "resource_declaration");
  const ids = new Map<string, string>();
  const pending = new Map<string, { type: string; name: string; parent?: string; scope?: string }>();
  for (const decl of declarations) {
    const symbol = decl.namedChild(0)?.text ?? "";
    const body = decl.namedChildren.at(-1) as SyntaxNode;
    const get = (key: string) => entriesOf(body).find(([k]) => k === key)?.[1];
    if (decl.children.some((c) => c.type === "existing")) {
      expect(get("name")?.text).toBe("workspaceName");
      ids.set(symbol, workspaceResourceId(workspace));
      continue;
    }
    const typeWithVersion = decodeString(decl.namedChild(1) as SyntaxNode);
    const nameNode = get("name");
    if (!nameNode) throw new Error(`${symbol} has no name`);
    pending.set(symbol, {
      type: typeWithVersion.split("@")[0] as string,
      name: evaluate(nameNode, ids) as string,
      ...(get("parent") ? { parent: get("parent")?.text } : {}),
      ...(get("scope") ? { scope: get("scope")?.text } : {}),
    });
  }
  const idOf = (symbol: string): string => {
    const known = ids.get(symbol);
    if (known !== undefined) return known;
    const r = pending.get(symbol);
    if (!r) throw new Error(`unknown symbol ${symbol}`);
    const id = r.scope
      ? `${idOf(r.scope)}/providers/${r.type}/${r.name}`
      : `${idOf(r.parent ?? "")}/${r.type.split("/").at(-1)}/${r.name}`;
    ids.set(symbol, id);
    return id;
  };
  for (const symbol of pending.keys()) idOf(symbol);

  return declarations
    .filter((d) => !d.children.some((c) => c.type === "existing"))
    .map((decl) => {
      const symbol = decl.namedChild(0)?.text ?? "";
      const [type, apiVersion] = decodeString(decl.namedChild(1) as SyntaxNode).split("@") as [string, string];
      const body = decl.namedChildren.at(-1) as SyntaxNode;
      const wire: Record<string, Json> = {};
      let dependsOn: string[] = [];
      for (const [key, value] of entriesOf(body)) {
        if (key === "dependsOn") dependsOn = value.namedChildren.map((c) => c.text);
        else if (!["name", "parent", "scope"].includes(key)) wire[key] = evaluate(value, ids);
      }
      const id = ids.get(symbol) as string;
      const referenced = body
        .descendantsOfType("identifier")
        .map((n) => n.text)
        .filter((t) => t !== symbol && pending.has(t));
      const needs = [...new Set([...referenced, ...dependsOn])].sort();
      return { symbol, type, apiVersion, name: pending.get(symbol)?.name ?? "", id, wire, dependsOn, needs, body };
    });
}

// ---------------------------------------------------------------------------------------------------------------
// What `shmhunt deploy --apply` sends: the deploy adapter and the real SDK clients, recorded at the HTTP layer

export interface SentRequest {
  readonly method: string;
  readonly type: string;
  readonly apiVersion: string;
  readonly id: string;
  readonly body: { readonly [key: string]: Json };
}

/** `/…/providers/<ns>/<type>/<name>[/<child type>/<child name>]` → `<ns>/<type>[/<child type>]`. */
function typeOfPath(path: string): string {
  const segments = path.split("/");
  const last = segments.map((s) => s.toLowerCase()).lastIndexOf("providers");
  const [namespace, ...rest] = segments.slice(last + 1);
  return [namespace, ...rest.filter((_, i) => i % 2 === 0)].join("/");
}

/** A recording HTTP layer under the real SDK clients: lists answer empty, writes answer 200. */
export function recordingClients(workspace: WorkspaceRef): { clients: ContentClients; sent: SentRequest[] } {
  const sent: SentRequest[] = [];
  const httpClient: HttpClient = {
    async sendRequest(request) {
      const url = new URL(request.url);
      const path = decodeURIComponent(url.pathname);
      sent.push({
        method: request.method,
        type: typeOfPath(path),
        apiVersion: url.searchParams.get("api-version") ?? "",
        id: path,
        body: typeof request.body === "string" ? (JSON.parse(request.body) as { [key: string]: Json }) : {},
      });
      return {
        request,
        status: 200,
        headers: createHttpHeaders({ "content-type": "application/json" }),
        bodyAsText: request.method === "GET" ? '{"value":[]}' : "{}",
      };
    },
  };
  const credential: TokenCredential = {
    getToken: async () => ({ token: "recorded", expiresOnTimestamp: Date.now() + 3_600_000 }),
  };
  const options = { httpClient, retryOptions: { maxRetries: 0 } };
  return {
    sent,
    clients: contentClients(credential, workspace.subscriptionId, options),
  };
}

/** What the deploy adapter sends for any desired content (the path `shmhunt deploy --apply` takes). */
export async function deployRequests(
  desired: readonly DesiredResource[],
  workspace: WorkspaceRef,
): Promise<SentRequest[]> {
  const { clients, sent } = recordingClients(workspace);
  const client = new SentinelContentClient(clients, workspace);
  for (const step of planDeployment(desired, [], { prune: false }).steps) await client.apply(step);
  return sent;
}

/** Differences between the Bicep and the deploy requests: resources on one side only, versions, bodies. */
export function compare(bicep: readonly ReadResource[], sent: readonly SentRequest[]): string[] {
  const differences: string[] = [];
  const key = (type: string, id: string) => `${type.toLowerCase()} ${id.toLowerCase()}`;
  const sentByKey = new Map(sent.map((s) => [key(s.type, s.id), s]));
  const bicepKeys = new Set(bicep.map((b) => key(b.type, b.id)));
  for (const s of sent) {
    if (s.method !== "PUT") differences.push(`deploy sends ${s.method} ${s.id}`);
    if (!bicepKeys.has(key(s.type, s.id))) differences.push(`only in shmhunt deploy: ${s.type} ${s.id}`);
  }
  for (const b of bicep) {
    const s = sentByKey.get(key(b.type, b.id));
    if (!s) {
      differences.push(`only in the Bicep: ${b.type} ${b.id}`);
      continue;
    }
    if (s.apiVersion !== b.apiVersion)
      differences.push(`${b.symbol}: api ${b.apiVersion}, deploy sends ${s.apiVersion}`);
    for (const path of jsonDifferences(b.wire, s.body)) differences.push(`${b.symbol}: ${path} differs`);
  }
  return differences;
}

export function jsonDifferences(a: Json | undefined, b: Json | undefined, path = ""): string[] {
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") {
    return a === b ? [] : [path || "(body)"];
  }
  if (Array.isArray(a) !== Array.isArray(b)) return [path];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) =>
    jsonDifferences(
      (a as { [key: string]: Json })[k],
      (b as { [key: string]: Json })[k],
      Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${k}` : k,
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Reading an ARM template back: the template functions it uses, evaluated as the ARM template reference defines
// them (resourceId, extensionResourceId, concat, format, parameters), and `[[` as a literal `[`.

/** The value of one ARM template string (an expression when it is `[…]`). */
export function armString(text: string, parameters: Readonly<Record<string, string>>, workspace: WorkspaceRef): string {
  // Only `[…]` is an expression; `[[…]` is the literal `[…]`.
  if (!text.startsWith("[") || !text.endsWith("]")) return text;
  if (text.startsWith("[[")) return text.slice(1);
  let i = 1;
  const source = text.slice(0, -1);
  const skipSpace = () => {
    while (source[i] === " ") i++;
  };
  const expression = (): string => {
    skipSpace();
    if (source[i] === "'") {
      let out = "";
      for (i++; i < source.length; i++) {
        if (source[i] === "'" && source[i + 1] === "'") {
          out += "'";
          i++;
        } else if (source[i] === "'") break;
        else out += source[i];
      }
      i++;
      return out;
    }
    const name = /^[A-Za-z]+/.exec(source.slice(i))?.[0] ?? "";
    i += name.length;
    if (source[i] !== "(") throw new Error(`not an ARM function call at ${i}: ${text}`);
    i++;
    const args: string[] = [];
    skipSpace();
    while (source[i] !== ")") {
      args.push(expression());
      skipSpace();
      if (source[i] === ",") i++;
      skipSpace();
    }
    i++;
    return call(name, args);
  };
  const rg = `/subscriptions/${workspace.subscriptionId}/resourceGroups/${workspace.resourceGroup}`;
  /** `<type>` and names → `providers/<namespace>/<type 1>/<name 1>/<type 2>/<name 2>…`. */
  const typed = (type: string, names: readonly string[]) => {
    const [namespace, ...types] = type.split("/");
    return `providers/${namespace}/${types.map((t, k) => `${t}/${names[k]}`).join("/")}`;
  };
  const call = (name: string, args: readonly string[]): string => {
    switch (name) {
      case "parameters":
        return parameters[args[0] ?? ""] ?? "";
      case "concat":
        return args.join("");
      case "format":
        return (args[0] ?? "").replace(/\{(\d+)\}/g, (_, n: string) => args[Number(n) + 1] ?? "");
      case "resourceId":
        return `${rg}/${typed(args[0] ?? "", args.slice(1))}`;
      case "extensionResourceId":
        return `${args[0]}/${typed(args[1] ?? "", args.slice(2))}`;
      default:
        throw new Error(`ARM function ${name} is not read here: ${text}`);
    }
  };
  const value = expression();
  skipSpace();
  if (i !== source.length) throw new Error(`trailing text in ${text}`);
  return value;
}

function armJson(value: Json, read: (text: string) => string): Json {
  if (typeof value === "string") return read(value);
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return (value as readonly Json[]).map((v) => armJson(v, read));
  return Object.fromEntries(
    Object.entries(value as { readonly [key: string]: Json }).map(([k, v]) => [k, armJson(v, read)]),
  );
}

/** A resource of an ARM template as deployed into `workspace`: its id and request body, and what it waits for. */
export interface ArmResource {
  readonly type: string;
  readonly apiVersion: string;
  readonly id: string;
  readonly body: { readonly [key: string]: Json };
  readonly dependsOn: readonly string[];
}

export function readArmTemplate(template: { readonly [key: string]: Json }, workspace: WorkspaceRef): ArmResource[] {
  const read = (text: string) => armString(text, { workspace: workspace.workspaceName }, workspace);
  const rg = `/subscriptions/${workspace.subscriptionId}/resourceGroups/${workspace.resourceGroup}`;
  return (template.resources as readonly { readonly [key: string]: Json }[]).map((r) => {
    const { type, apiVersion, name, scope, dependsOn, ...body } = r as {
      type: string;
      apiVersion: string;
      name: string;
      scope?: string;
      dependsOn?: string[];
    } & { [key: string]: Json };
    const names = read(name).split("/");
    const [namespace, ...types] = type.split("/");
    const path = `providers/${namespace}/${types.map((t, k) => `${t}/${names[k]}`).join("/")}`;
    // A scope is a resource id, or relative to the resource group (`Microsoft.X/type/name`) as Bicep writes it.
    const scoped = scope === undefined ? undefined : read(scope);
    const scopeId = scoped === undefined ? rg : scoped.startsWith("/") ? scoped : `${rg}/providers/${scoped}`;
    return {
      type,
      apiVersion,
      id: `${scopeId}/${path}`,
      body: armJson(body as Json, read) as { [key: string]: Json },
      dependsOn: (dependsOn ?? []).map(read),
    };
  });
}
