/**
 * Reading Bicep without a Bicep compiler: tree-sitter-bicep parses each file, and the helpers below pull out
 * the declarations (parameters with their decorators, variables, resources, modules, outputs) and evaluate the
 * few expressions the structure tests need (string lengths of resource names, literal values).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Parser from "tree-sitter";
import Bicep from "tree-sitter-bicep";

export type SyntaxNode = Parser.SyntaxNode;

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const infraDir = path.join(repoRoot, "infra");

const parser = new Parser();
parser.setLanguage(Bicep as Parser.Language);

export interface SyntaxProblem {
  readonly line: number;
  readonly column: number;
  readonly kind: "ERROR" | "MISSING";
  readonly text: string;
}

export interface Decorated {
  readonly name: string;
  readonly node: SyntaxNode;
  /** Decorator name → its argument nodes, e.g. maxLength → [number node]. */
  readonly decorators: ReadonlyMap<string, readonly SyntaxNode[]>;
}

export interface Param extends Decorated {
  readonly type: string;
  readonly defaultValue?: SyntaxNode;
}

export interface Variable extends Decorated {
  readonly value: SyntaxNode;
}

export interface Resource extends Decorated {
  /** e.g. Microsoft.Storage/storageAccounts@2023-05-01 */
  readonly typeWithVersion: string;
  readonly resourceType: string;
  readonly existing: boolean;
  /** The resource's body object (inside a condition or a loop when there is one). */
  readonly body: SyntaxNode;
}

export interface Module extends Decorated {
  /** As written, relative to the declaring file. */
  readonly path: string;
  readonly body: SyntaxNode;
}

export interface Output extends Decorated {
  readonly type: string;
  readonly value: SyntaxNode;
}

/** A user-defined function (`func name(a type, …) type => body`). */
export interface UserFunction {
  readonly name: string;
  readonly parameters: readonly string[];
  readonly body: SyntaxNode;
}

export interface BicepFile {
  readonly file: string;
  readonly relative: string;
  readonly source: string;
  readonly root: SyntaxNode;
  readonly params: ReadonlyMap<string, Param>;
  readonly variables: ReadonlyMap<string, Variable>;
  readonly resources: ReadonlyMap<string, Resource>;
  readonly modules: ReadonlyMap<string, Module>;
  readonly outputs: ReadonlyMap<string, Output>;
  readonly functions: ReadonlyMap<string, UserFunction>;
}

/** Every .bicep file under infra/, sorted. */
export function bicepFiles(dir = infraDir): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...bicepFiles(full));
    else if (entry.name.endsWith(".bicep")) found.push(full);
  }
  return found.sort();
}

export function parseSource(source: string): SyntaxNode {
  return parser.parse(source).rootNode;
}

/** ERROR and MISSING nodes, with 1-based line and column. */
export function syntaxProblems(root: SyntaxNode): SyntaxProblem[] {
  const problems: SyntaxProblem[] = [];
  const visit = (node: SyntaxNode): void => {
    if (node.type === "ERROR" || node.isMissing) {
      problems.push({
        line: node.startPosition.row + 1,
        column: node.startPosition.column + 1,
        kind: node.isMissing ? "MISSING" : "ERROR",
        text: node.isMissing ? node.type : node.text.slice(0, 60),
      });
      if (node.type === "ERROR") return;
    }
    for (const child of node.children) visit(child);
  };
  visit(root);
  return problems;
}

export function formatProblems(relative: string, problems: readonly SyntaxProblem[]): string {
  return problems.map((p) => `${relative}:${p.line}:${p.column}: ${p.kind} ${JSON.stringify(p.text)}`).join("\n");
}

/**
 * A string literal's value by Bicep's rules: the text between its quotes with its escapes decoded (`\\`, `\'`, `\n`,
 * `\r`, `\t`, `\$`, `\u{…}`; any other is an error, as it is to Bicep's compiler), each interpolation's expression
 * given to `interpolate` (without it, a string that has one is undefined). The literal text is read from the source
 * between the interpolations, not from tree-sitter-bicep's parts: it leaves some text (a lone space) without a node,
 * and `\$` inside a string_content. A `'''` string is verbatim, less the line break after its opening (Bicep's
 * multi-line strings have no escapes or interpolations).
 */
export function stringValue(
  node: SyntaxNode | undefined | null,
  interpolate?: (expression: SyntaxNode) => string,
): string | undefined {
  if (node?.type !== "string") return undefined;
  const source = node.text;
  if (source.startsWith("'''")) return source.slice(3, -3).replace(/^\r?\n/, "");
  const line = node.startPosition.row + 1;
  let text = "";
  let at = 1;
  for (const part of node.namedChildren) {
    if (part.type !== "interpolation") continue;
    if (!interpolate) return undefined;
    const expression = part.namedChild(0);
    if (!expression) throw new Error(`an empty interpolation in ${source}`);
    text += unescapeBicep(source.slice(at, part.startIndex - node.startIndex), line) + interpolate(expression);
    at = part.endIndex - node.startIndex;
  }
  return text + unescapeBicep(source.slice(at, source.length - 1), line);
}

/** The value of a string literal without interpolations, or undefined when it has any. */
export function literalString(node: SyntaxNode | undefined | null): string | undefined {
  return stringValue(node);
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { "\\": "\\", "'": "'", n: "\n", r: "\r", t: "\t", $: "$" };

/** The literal text of a single-quoted string with its escapes decoded (Microsoft Learn, Bicep "Strings"). */
function unescapeBicep(raw: string, line: number): string {
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i] as string;
    if (ch !== "\\") {
      out += ch;
      continue;
    }
    const next = raw[++i];
    if (next !== undefined && Object.hasOwn(SIMPLE_ESCAPES, next)) out += SIMPLE_ESCAPES[next];
    else if (next === "u" && raw[i + 1] === "{") {
      const end = raw.indexOf("}", i);
      out += String.fromCodePoint(Number.parseInt(raw.slice(i + 2, end), 16));
      i = end;
    } else throw new Error(`unknown escape \\${next ?? ""} at line ${line}`);
  }
  return out;
}

export function loadBicep(file: string): BicepFile {
  const source = readFileSync(file, "utf8");
  const root = parseSource(source);
  const params = new Map<string, Param>();
  const variables = new Map<string, Variable>();
  const resources = new Map<string, Resource>();
  const modules = new Map<string, Module>();
  const outputs = new Map<string, Output>();
  const functions = new Map<string, UserFunction>();
  let pending = new Map<string, SyntaxNode[]>();
  for (const node of root.namedChildren) {
    if (node.type === "comment") continue;
    if (node.type === "decorators") {
      pending = decoratorsOf(node);
      continue;
    }
    const decorators = pending;
    pending = new Map();
    const name = node.namedChild(0)?.text ?? "";
    switch (node.type) {
      case "parameter_declaration": {
        const type = node.namedChild(1)?.text ?? "";
        const defaultValue = node.namedChild(2) ?? undefined;
        params.set(name, { name, node, decorators, type, ...(defaultValue ? { defaultValue } : {}) });
        break;
      }
      case "variable_declaration":
        variables.set(name, { name, node, decorators, value: required(node.namedChild(1), file, node) });
        break;
      case "resource_declaration": {
        const typeWithVersion = literalString(node.namedChild(1)) ?? "";
        const body = declarationBody(node);
        resources.set(name, {
          name,
          node,
          decorators,
          typeWithVersion,
          resourceType: typeWithVersion.split("@")[0] ?? "",
          existing: node.children.some((c) => c.type === "existing"),
          body,
        });
        break;
      }
      case "module_declaration":
        modules.set(name, {
          name,
          node,
          decorators,
          path: literalString(node.namedChild(1)) ?? "",
          body: declarationBody(node),
        });
        break;
      case "output_declaration":
        outputs.set(name, {
          name,
          node,
          decorators,
          type: node.namedChild(1)?.text ?? "",
          value: required(node.namedChild(2), file, node),
        });
        break;
      case "user_defined_function": {
        const parameters = node.namedChildren.find((c) => c.type === "parameters");
        functions.set(name, {
          name,
          parameters: parameters?.namedChildren.map((c) => c.namedChild(0)?.text ?? "") ?? [],
          body: required(node.namedChildren.at(-1) ?? null, file, node),
        });
        break;
      }
      default:
        break;
    }
  }
  return {
    file,
    relative: path.relative(repoRoot, file),
    source,
    root,
    params,
    variables,
    resources,
    modules,
    outputs,
    functions,
  };
}

function required(node: SyntaxNode | null, file: string, at: SyntaxNode): SyntaxNode {
  if (!node) throw new Error(`${file}:${at.startPosition.row + 1}: declaration without a value`);
  return node;
}

function decoratorsOf(node: SyntaxNode): Map<string, SyntaxNode[]> {
  const map = new Map<string, SyntaxNode[]>();
  for (const decorator of node.namedChildren) {
    const call = decorator.namedChild(0);
    if (!call) continue;
    if (call.type === "call_expression") {
      const fn = call.childForFieldName("function")?.text ?? "";
      const args = call.childForFieldName("arguments")?.namedChildren ?? [];
      map.set(fn, args);
    } else {
      map.set(call.text, []);
    }
  }
  return map;
}

/** The object a resource or module declares, looking through `if (…)` and `[for …: …]`. */
function declarationBody(node: SyntaxNode): SyntaxNode {
  const last = node.namedChildren[node.namedChildren.length - 1];
  if (!last) throw new Error(`declaration without a body at line ${node.startPosition.row + 1}`);
  return unwrapBody(last);
}

function unwrapBody(node: SyntaxNode): SyntaxNode {
  if (node.type === "object") return node;
  if (node.type === "if_statement" || node.type === "for_statement" || node.type === "array") {
    const last = node.namedChildren[node.namedChildren.length - 1];
    if (last) return unwrapBody(last);
  }
  return node;
}

/** The value of `key` in an object node. */
export function property(object: SyntaxNode | undefined, key: string): SyntaxNode | undefined {
  if (object?.type !== "object") return undefined;
  for (const prop of object.namedChildren) {
    if (prop.type !== "object_property") continue;
    const keyNode = prop.namedChild(0);
    const keyText = keyNode?.type === "string" ? literalString(keyNode) : keyNode?.text;
    if (keyText === key) return prop.namedChild(1) ?? undefined;
  }
  return undefined;
}

/** The value at a dotted path of nested objects, e.g. properties.functionAppConfig.runtime.name. */
export function propertyPath(object: SyntaxNode | undefined, dotted: string): SyntaxNode | undefined {
  let node = object;
  for (const key of dotted.split(".")) node = property(node, key);
  return node;
}

/** Keys of an object node, in order. */
export function objectKeys(object: SyntaxNode | undefined): string[] {
  if (object?.type !== "object") return [];
  return object.namedChildren
    .filter((p) => p.type === "object_property")
    .map((p) => {
      const keyNode = p.namedChild(0);
      return (keyNode?.type === "string" ? literalString(keyNode) : keyNode?.text) ?? "";
    });
}

/**
 * Identifiers used as references (not declared names, object keys or property names after a dot). Loop
 * variables are included where they are used, which is harmless for "is this parameter used" checks.
 */
export function referencedIdentifiers(root: SyntaxNode): Set<string> {
  const used = new Set<string>();
  const declarationTypes = new Set([
    "parameter_declaration",
    "variable_declaration",
    "resource_declaration",
    "module_declaration",
    "output_declaration",
    "user_defined_function",
  ]);
  const visit = (node: SyntaxNode): void => {
    // A user-defined function's body sees its parameters only, not the file's names: checked on its own.
    if (node.type === "user_defined_function" && node.id !== root.id) return;
    if (node.type === "identifier") {
      const parent = node.parent;
      // A user-defined function's parameter (`func f(text string) …`) declares its name.
      if (parent?.type === "parameter") return;
      const isDeclaredName = parent && declarationTypes.has(parent.type) && parent.namedChild(0)?.id === node.id;
      const isKey = parent?.type === "object_property" && parent.namedChild(0)?.id === node.id;
      const isDecoratorOrFunction =
        parent?.type === "call_expression" && parent.childForFieldName("function")?.id === node.id;
      if (!isDeclaredName && !isKey && !isDecoratorOrFunction) used.add(node.text);
    }
    for (const child of node.namedChildren) visit(child);
  };
  visit(root);
  return used;
}

export interface Bounds {
  readonly min: number;
  readonly max: number;
}

const UNBOUNDED: Bounds = { min: 0, max: Number.POSITIVE_INFINITY };

/**
 * Bounds of the length of a string expression: literals, interpolation, parameters (their @minLength and
 * @maxLength), variables, members of object variables, and the functions used for names: uniqueString (always 13
 * characters), take, toLower, toUpper, replace. Anything else is unbounded, so a name built from it fails a limit
 * check instead of passing silently.
 */
export function lengthBounds(node: SyntaxNode, file: BicepFile, depth = 0): Bounds {
  if (depth > 50) return UNBOUNDED;
  const recurse = (n: SyntaxNode): Bounds => lengthBounds(n, file, depth + 1);
  switch (node.type) {
    case "string": {
      let min = 0;
      let max = 0;
      for (const child of node.namedChildren) {
        if (child.type === "string_content") {
          min += child.text.length;
          max += child.text.length;
        } else if (child.type === "escape_sequence") {
          min += 1;
          max += 1;
        } else if (child.type === "interpolation") {
          const inner = child.namedChild(0);
          const bounds = inner ? recurse(inner) : UNBOUNDED;
          min += bounds.min;
          max += bounds.max;
        } else {
          return UNBOUNDED;
        }
      }
      return { min, max };
    }
    case "identifier": {
      const param = file.params.get(node.text);
      if (param) {
        const maxArg = param.decorators.get("maxLength")?.[0];
        const minArg = param.decorators.get("minLength")?.[0];
        return {
          min: minArg ? Number(minArg.text) : 0,
          max: maxArg ? Number(maxArg.text) : Number.POSITIVE_INFINITY,
        };
      }
      const variable = file.variables.get(node.text);
      return variable ? recurse(variable.value) : UNBOUNDED;
    }
    case "member_expression": {
      const object = node.childForFieldName("object");
      const prop = node.childForFieldName("property")?.text;
      if (object?.type === "identifier" && prop) {
        const variable = file.variables.get(object.text);
        const value = property(variable?.value, prop);
        if (value) return recurse(value);
      }
      return UNBOUNDED;
    }
    case "parenthesized_expression": {
      const inner = node.namedChild(0);
      return inner ? recurse(inner) : UNBOUNDED;
    }
    case "call_expression": {
      const fn = node.childForFieldName("function")?.text.toLowerCase();
      const args = node.childForFieldName("arguments")?.namedChildren ?? [];
      const first = args[0];
      switch (fn) {
        case "uniquestring":
          return { min: 13, max: 13 };
        case "tolower":
        case "toupper":
          return first ? recurse(first) : UNBOUNDED;
        case "take": {
          const count = args[1]?.type === "number" ? Number(args[1].text) : Number.POSITIVE_INFINITY;
          const inner = first ? recurse(first) : UNBOUNDED;
          return { min: Math.min(inner.min, count), max: Math.min(inner.max, count) };
        }
        case "replace": {
          const find = literalString(args[1]);
          const replacement = literalString(args[2]);
          const inner = first ? recurse(first) : UNBOUNDED;
          if (find === undefined || replacement === undefined || find.length === 0) return UNBOUNDED;
          if (replacement.length > find.length) return UNBOUNDED;
          return { min: first ? minAfterRemoving(first, find, file, depth + 1) : 0, max: inner.max };
        }
        default:
          return UNBOUNDED;
      }
    }
    default:
      return UNBOUNDED;
  }
}

/**
 * A lower bound of the length left after every `find` is removed: literal text loses its occurrences, an
 * expression that may contain `find` may lose everything, uniqueString (letters and digits) loses nothing when
 * `find` holds other characters.
 */
function minAfterRemoving(node: SyntaxNode, find: string, file: BicepFile, depth: number): number {
  if (depth > 50) return 0;
  const alphanumeric = /^[a-z0-9]+$/i.test(find);
  switch (node.type) {
    case "string": {
      let min = 0;
      for (const child of node.namedChildren) {
        if (child.type === "string_content") min += child.text.split(find).join("").length;
        else if (child.type === "escape_sequence")
          min += unescapeBicep(child.text, node.startPosition.row + 1) === find ? 0 : 1;
        else if (child.type === "interpolation") {
          const inner = child.namedChild(0);
          min += inner ? minAfterRemoving(inner, find, file, depth + 1) : 0;
        }
      }
      return min;
    }
    case "identifier": {
      const variable = file.variables.get(node.text);
      return variable ? minAfterRemoving(variable.value, find, file, depth + 1) : 0;
    }
    case "call_expression": {
      const fn = node.childForFieldName("function")?.text.toLowerCase();
      return fn === "uniquestring" && !alphanumeric ? 13 : 0;
    }
    default:
      return 0;
  }
}

/** A literal value when the expression is one (string, number, boolean), following variables. */
export function literalValue(node: SyntaxNode | undefined, file: BicepFile): string | number | boolean | undefined {
  if (!node) return undefined;
  switch (node.type) {
    case "string":
      return literalString(node);
    case "number":
      return Number(node.text);
    case "boolean":
      return node.text === "true";
    case "identifier": {
      const variable = file.variables.get(node.text);
      return variable ? literalValue(variable.value, file) : undefined;
    }
    default:
      if (node.text === "true" || node.text === "false") return node.text === "true";
      return undefined;
  }
}

/** Every call of a function (case-insensitive name) in the tree. */
export function calls(root: SyntaxNode, fn: string): SyntaxNode[] {
  return root
    .descendantsOfType("call_expression")
    .filter((c) => c.childForFieldName("function")?.text.toLowerCase() === fn.toLowerCase());
}
