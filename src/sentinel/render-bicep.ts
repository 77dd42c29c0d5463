/**
 * The content model rendered as Bicep: infra/content/content.bicep (`npm run content:generate`), for teams that
 * deploy content only through Bicep. Each desired resource (desired.ts), whose properties follow the Azure SDK
 * models (flattened), becomes a Bicep `resource` in the ARM wire shape (render-sdk.ts `wireBody`).
 *
 * Shape of the output:
 * - `param workspaceName string`, the existing workspace (`existing`), `output resourceCount int` (the interface
 *   infra/main.bicep uses);
 * - saved searches (hunting queries, KQL functions) as children of the workspace (`parent: workspace`), the
 *   Microsoft.SecurityInsights kinds as extension resources (`scope: workspace`), watchlist items as children
 *   of their watchlist;
 * - ARM ids of the content (metadata `parentId`) as `<symbol>.id`, so Bicep orders metadata after its parent;
 * - `dependsOn` from a query to the functions and watchlists it reads (content-graph.ts);
 * - a fixed order (apply order of the planner, then parent, then name) so the file only changes with the rules.
 */
import { queryDependencies } from "./content-graph.js";
import {
  armTypes,
  assertNoWorkspaceTrace,
  placeholderWorkspace,
  templateReferences,
  type WorkspaceRef,
} from "./content-types.js";
import { applyOrder, type DesiredResource, type Json, type ResourceKind } from "./plan.js";
import { type WireBody, wireBody } from "./render-sdk.js";

/** The API version of the existing workspace declaration (only its name and id are used). */
const workspaceTypeWithVersion = "Microsoft.OperationalInsights/workspaces@2022-10-01";

type JsonObject = { readonly [key: string]: Json };

// ---------------------------------------------------------------------------------------------------------------
// Bicep literals

const identifierPattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
const reservedKeys = new Set(["true", "false", "null"]);

/**
 * A Bicep string literal holding exactly `text`. Multi-line text uses a `'''` string when that can hold it
 * verbatim (no `'''` inside, no trailing `'`, no carriage return or other control character, which editors and
 * git would not keep); the newline after the opening `'''` is not part of the value, so every multi-line string
 * starts with one. Everything else is a single-quoted string with `\\`, `\'`, `\n`, `\r`, `\t` and `\u{…}` escapes
 * (a `$` before `{` is escaped, so no `${` can start an interpolation); see `singleQuoted`.
 */
export function bicepString(text: string): string {
  assertWellFormed(text);
  if (text.includes("\n") && canBeVerbatim(text)) return `'''\n${text}'''`;
  return singleQuoted(text);
}

/**
 * A single-quoted Bicep string with escapes (no interpolation). Two characters are written as `\u{…}` escapes
 * although Bicep would take them as they are, because tree-sitter-bicep (the syntax check that runs here) misreads
 * them: a `$` before `{` (its `\$` escape confuses the grammar), and a `/` before `/` or `*` at the start of a
 * token (after the opening quote or an escape, spaces included), which it takes for a comment.
 */
function singleQuoted(text: string): string {
  assertWellFormed(text);
  let out = "'";
  let tokenStart = true;
  const chars = [...text];
  for (const [i, ch] of chars.entries()) {
    const code = ch.codePointAt(0) ?? 0;
    const next = chars[i + 1];
    const simple = simpleEscapes[ch];
    let escaped: string | undefined;
    if (simple) escaped = simple;
    else if (
      isControl(code) ||
      (ch === "$" && next === "{") ||
      (ch === "/" && tokenStart && (next === "/" || next === "*"))
    )
      escaped = `\\u{${code.toString(16).toUpperCase()}}`;
    if (escaped) {
      out += escaped;
      tokenStart = true;
    } else {
      out += ch;
      tokenStart = ch === "$" || (tokenStart && /\s/u.test(ch));
    }
  }
  return `${out}'`;
}

const simpleEscapes: Readonly<Record<string, string>> = {
  "\\": "\\\\",
  "'": "\\'",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

/** C0 and C1 controls, DEL and the Unicode line separators: kept out of the file as escapes. */
function isControl(code: number): boolean {
  return code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0) || code === 0x2028 || code === 0x2029;
}

function canBeVerbatim(text: string): boolean {
  if (text.includes("'''") || text.endsWith("'")) return false;
  for (const ch of text) {
    if (ch !== "\n" && ch !== "\t" && isControl(ch.codePointAt(0) ?? 0)) return false;
  }
  return true;
}

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function assertWellFormed(text: string): void {
  if (loneSurrogate.test(text))
    throw new Error(`string with a lone surrogate cannot be written as Bicep: ${JSON.stringify(text)}`);
}

/** An object key: a bare identifier when it is one, otherwise a string literal. */
export function bicepKey(key: string): string {
  if (identifierPattern.test(key) && !reservedKeys.has(key)) return key;
  return singleQuoted(key);
}

/** A Bicep number: an integer literal when it is a safe integer, otherwise `json('…')` of its JSON text. */
function bicepNumber(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`number ${value} cannot be written as Bicep`);
  if (Number.isSafeInteger(value)) return String(value);
  return `json(${bicepString(JSON.stringify(value))})`;
}

/** Replaces a string value by a Bicep expression (a symbolic reference) when it returns one. */
type Reference = (text: string) => string | undefined;

/** A JSON value as a Bicep expression, indented for a position `indent` spaces deep. */
export function bicepValue(value: Json, indent: number, reference: Reference = () => undefined): string {
  if (value === null) return "null";
  if (typeof value === "string") return reference(value) ?? bicepString(value);
  if (typeof value === "number") return bicepNumber(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  const pad = " ".repeat(indent + 2);
  const close = " ".repeat(indent);
  if (Array.isArray(value)) {
    const items = value as readonly Json[];
    if (items.length === 0) return "[]";
    return `[\n${items.map((v) => `${pad}${bicepValue(v, indent + 2, reference)}\n`).join("")}${close}]`;
  }
  const entries = Object.entries(value as JsonObject).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([k, v]) => `${pad}${bicepKey(k)}: ${bicepValue(v, indent + 2, reference)}\n`).join("")}${close}}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Resources

interface Declaration {
  readonly desired: DesiredResource;
  readonly symbol: string;
  readonly wire: WireBody;
}

const kindRank = (kind: ResourceKind) => applyOrder.indexOf(kind);
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Apply order of the planner, then parent, then name: independent of the order the rules were loaded in. */
function sortDesired(desired: readonly DesiredResource[]): DesiredResource[] {
  return [...desired].sort(
    (a, b) =>
      kindRank(a.kind) - kindRank(b.kind) || byCodeUnits(a.parent ?? "", b.parent ?? "") || byCodeUnits(a.name, b.name),
  );
}

function symbolsFor(sorted: readonly DesiredResource[]): string[] {
  const used = new Set<string>(["workspace", "workspaceName"]);
  return sorted.map((d) => {
    const base = `${d.kind}_${d.parent ? `${d.parent}_` : ""}${d.name}`.replace(/[^A-Za-z0-9_]/g, "_");
    let symbol = base;
    for (let n = 2; used.has(symbol.toLowerCase()); n++) symbol = `${base}_${n}`;
    used.add(symbol.toLowerCase());
    return symbol;
  });
}

const keyOf = (kind: ResourceKind, name: string, parent?: string) => `${kind}\u0000${parent ?? ""}\u0000${name}`;

interface EmitOptions {
  /** The workspace the desired content was built for; its ids become `workspace.id` and `<symbol>.id`. */
  readonly workspace?: WorkspaceRef;
}

/** The whole content.bicep for a set of desired resources. */
export function emitContentBicep(desired: readonly DesiredResource[], options: EmitOptions = {}): string {
  const workspace = options.workspace ?? placeholderWorkspace;
  const sorted = sortDesired(desired);
  const symbols = symbolsFor(sorted);
  const declarations: Declaration[] = sorted.map((d, i) => ({
    desired: d,
    symbol: symbols[i] as string,
    wire: wireBody(d),
  }));

  const bySeen = new Map<string, Declaration>();
  for (const decl of declarations) {
    const { kind, name, parent } = decl.desired;
    const key = keyOf(kind === "workspaceFunction" ? "savedSearch" : kind, name.toLowerCase(), parent?.toLowerCase());
    if (bySeen.has(key)) throw new Error(`two desired resources of type ${armTypes[kind].armType} are named '${name}'`);
    bySeen.set(key, decl);
  }

  // ARM ids of the content and of the workspace → symbolic references.
  const reference: Reference = templateReferences(workspace, sorted, "workspace.id", (_, i) => `${symbols[i]}.id`);

  const symbolOf = (kind: ResourceKind, name: string) =>
    declarations.find((d) => d.desired.kind === kind && d.desired.name === name)?.symbol;
  const blocks = declarations.map((decl) => {
    const { kind, name, parent } = decl.desired;
    const type = armTypes[kind];
    const lines: string[] = [`resource ${decl.symbol} '${type.armType}@${type.apiVersion}' = {`];
    if (kind === "watchlistItem") {
      const parentSymbol = parent ? symbolOf("watchlist", parent) : undefined;
      if (!parentSymbol) throw new Error(`watchlist item '${name}' names no desired watchlist ('${parent ?? ""}')`);
      lines.push(`  parent: ${parentSymbol}`);
    } else if (type.extensionOfWorkspace) {
      lines.push("  scope: workspace");
    } else {
      lines.push("  parent: workspace");
    }
    lines.push(`  name: ${bicepString(name)}`);
    for (const [key, value] of Object.entries(decl.wire.top)) {
      lines.push(`  ${bicepKey(key)}: ${bicepValue(value, 2, reference)}`);
    }
    lines.push(`  properties: ${bicepValue(decl.wire.properties, 2, reference)}`);
    const dependsOn = queryDependencies(decl.desired, sorted).map(
      (d) => declarations.find((x) => x.desired === d)?.symbol as string,
    );
    if (dependsOn.length) lines.push(`  dependsOn: [\n${dependsOn.map((s) => `    ${s}\n`).join("")}  ]`);
    lines.push("}");
    return lines.join("\n");
  });

  const counts = applyOrder
    .map((kind) => [kind, declarations.filter((d) => d.desired.kind === kind).length] as const)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(", ");
  const text = [
    header(counts),
    "@description('Name of the existing Log Analytics workspace with Microsoft Sentinel.')",
    "param workspaceName string",
    "",
    `resource workspace '${workspaceTypeWithVersion}' existing = {`,
    "  name: workspaceName",
    "}",
    "",
    ...blocks.flatMap((b) => [b, ""]),
    "@description('Number of content resources declared by this module.')",
    `output resourceCount int = ${declarations.length}`,
    "",
    "@description('Resource id of the workspace the content belongs to.')",
    "output workspaceId string = workspace.id",
    "",
  ].join("\n");
  assertNoWorkspaceTrace(text, workspace, "Bicep");
  return text;
}

export const GENERATED_MARK = "GENERATED by scripts/content-bicep.ts";

function header(counts: string): string {
  return [
    `// ${GENERATED_MARK} from rules/ (npm run content:generate). Do not edit:`,
    "// `npm run content:check` fails when this file no longer matches the rules.",
    "//",
    "// The Sentinel content of shmhunt's rules, the same resources `shmhunt deploy` manages (see docs/content-bicep.md).",
    "// Deploy into the workspace's resource group:",
    "//   az deployment group create -g <workspace resource group> -f infra/content/content.bicep -p workspaceName=<workspace>",
    `// Resources: ${counts || "none"}.`,
    "",
  ].join("\n");
}
