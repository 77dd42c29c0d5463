/**
 * A small evaluator of Bicep expressions over tree-sitter-bicep's tree, for the checks a template makes of its own
 * parameters (a `fail()` on a value the app would refuse): literals, string interpolation, arrays, parameters and
 * variables, `!`, `==`, `!=`, `&&`, `||`, `-` of integers, the ternary, lambdas, the template's own user-defined functions
 * (which see their arguments and nothing else of the file, as Microsoft Learn's "User-defined functions in Bicep" says),
 * and the few functions those checks use, each as Microsoft Learn's Bicep function reference describes it. Anything else is refused by name, so a template that
 * grows past what is evaluated here fails its test rather than being half-evaluated.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { type BicepFile, infraDir, property, type SyntaxNode, stringValue } from "./bicep.js";

export type Value = string | number | boolean | null | readonly Value[] | { readonly [key: string]: Value } | Lambda;

interface Lambda {
  readonly lambda: (...args: Value[]) => Value;
}

/** A `fail(message)` reached: the deployment fails with `message`. */
export class DeploymentFailure extends Error {}

/** The value of `node` in `file`, its parameters bound to `params` (else their defaults). */
export function evaluate(
  node: SyntaxNode,
  file: BicepFile,
  params: Readonly<Record<string, Value>>,
  locals: ReadonlyMap<string, Value> = new Map(),
): Value {
  const recur = (child: SyntaxNode | null | undefined, scope = locals): Value => {
    if (!child) throw new Error(`missing operand in ${node.text}`);
    return evaluate(child, file, params, scope);
  };
  switch (node.type) {
    case "string": {
      const text = stringValue(node, (expression) => String(recur(expression)));
      if (text === undefined) throw new Error(`a string part is not evaluated here: ${node.text.slice(0, 80)}`);
      return text;
    }
    case "number":
      return Number(node.text);
    case "boolean":
      return node.text === "true";
    case "null":
      return null;
    case "array":
      return node.namedChildren.filter((c) => c.type !== "comment").map((c) => recur(c));
    case "parenthesized_expression":
      return recur(node.namedChild(0));
    case "identifier": {
      const name = node.text;
      if (locals.has(name)) return locals.get(name) as Value;
      if (name in params) return params[name] as Value;
      const param = file.params.get(name);
      if (param?.defaultValue) return recur(param.defaultValue);
      const variable = file.variables.get(name);
      if (variable) return recur(variable.value, new Map());
      throw new Error(`${name} is neither a parameter given, a parameter with a default, nor a variable`);
    }
    case "unary_expression": {
      const operator = node.child(0)?.type;
      if (operator !== "!") throw new Error(`unary ${operator} is not evaluated here`);
      return !truth(recur(node.namedChild(0)));
    }
    case "binary_expression": {
      const operator = node.child(1)?.type;
      const left = () => recur(node.child(0));
      const right = () => recur(node.child(2));
      switch (operator) {
        case "==":
          return equal(left(), right());
        case "!=":
          return !equal(left(), right());
        case "&&":
          return truth(left()) && truth(right());
        case "||":
          return truth(left()) || truth(right());
        case "-":
          return asInteger(left()) - asInteger(right());
        default:
          throw new Error(`operator ${operator} is not evaluated here`);
      }
    }
    case "ternary_expression":
      return truth(recur(node.childForFieldName("condition")))
        ? recur(node.childForFieldName("consequence"))
        : recur(node.childForFieldName("alternative"));
    case "lambda_expression": {
      const names = node.namedChildren.slice(0, -1).map((c) => c.text);
      const body = node.namedChildren.at(-1);
      return {
        lambda: (...args: Value[]) => {
          const scope = new Map(locals);
          for (const [i, name] of names.entries()) scope.set(name, args[i] ?? null);
          return recur(body, scope);
        },
      };
    }
    case "call_expression": {
      const name = node.childForFieldName("function")?.text ?? "";
      const args = node.childForFieldName("arguments")?.namedChildren.filter((c) => c.type !== "comment") ?? [];
      const own = file.functions.get(name);
      if (own) {
        if (args.length !== own.parameters.length)
          throw new Error(`${name}() takes ${own.parameters.length} argument(s), given ${args.length}`);
        // Its body sees its arguments only: no parameter or variable of the file.
        const scope = new Map(own.parameters.map((parameter, i) => [parameter, recur(args[i])]));
        const alone: BicepFile = { ...file, params: new Map(), variables: new Map() };
        return evaluate(own.body, alone, {}, scope);
      }
      return call(
        name,
        args.map((arg) => () => recur(arg)),
      );
    }
    default:
      throw new Error(`${node.type} is not evaluated here: ${node.text.slice(0, 80)}`);
  }
}

/** Arguments are thunks: `fail` is reached only on the branch taken. */
function call(name: string, args: readonly (() => Value)[]): Value {
  const arg = (i: number): Value => {
    const thunk = args[i];
    if (!thunk) throw new Error(`${name}() needs an argument ${i + 1}`);
    return thunk();
  };
  switch (name) {
    case "fail":
      throw new DeploymentFailure(String(arg(0)));
    case "length": {
      const value = arg(0);
      if (typeof value === "string" || Array.isArray(value)) return value.length;
      if (value !== null && typeof value === "object" && !("lambda" in value)) return Object.keys(value).length;
      throw new Error("length() of a value without a length");
    }
    case "empty": {
      const value = arg(0);
      if (value === null) return true;
      if (typeof value === "string" || Array.isArray(value)) return value.length === 0;
      if (typeof value === "object" && !("lambda" in value)) return Object.keys(value).length === 0;
      return false;
    }
    case "split": {
      // split(inputString, delimiter): the delimiter a string or an array of strings; empty parts are kept.
      const input = asString(arg(0));
      const delimiter = arg(1);
      const delimiters = (Array.isArray(delimiter) ? delimiter : [delimiter]).map(asString);
      const parts: string[] = [];
      let start = 0;
      for (let i = 0; i < input.length; ) {
        const found = delimiters.find((d) => d.length > 0 && input.startsWith(d, i));
        if (found === undefined) {
          i++;
          continue;
        }
        parts.push(input.slice(start, i));
        i += found.length;
        start = i;
      }
      parts.push(input.slice(start));
      return parts;
    }
    case "filter": {
      const array = arg(0);
      const predicate = arg(1);
      if (!Array.isArray(array) || predicate === null || typeof predicate !== "object" || !("lambda" in predicate)) {
        throw new Error("filter() needs an array and a lambda");
      }
      return array.filter((item, i) => truth((predicate as Lambda).lambda(item, i)));
    }
    case "take":
    case "skip": {
      // take/skip(originalValue, count): a count of 0 or less takes nothing / skips nothing; one over the length takes
      // all / skips all (Learn, "String functions for Bicep").
      const value = arg(0);
      const count = Math.max(0, asInteger(arg(1)));
      if (typeof value !== "string" && !Array.isArray(value)) throw new Error(`${name}() of a value without a length`);
      return name === "take" ? value.slice(0, count) : value.slice(count);
    }
    case "contains": {
      // contains(container, itemToFind): an array's element or a string's substring, case-sensitive (Learn, "Array
      // functions for Bicep"); an object's key (case-insensitive there) is not evaluated here.
      const container = arg(0);
      const item = arg(1);
      if (Array.isArray(container)) return container.some((element) => equal(element, item));
      if (typeof container === "string") return container.includes(asString(item));
      throw new Error("contains() of an object is not evaluated here");
    }
    case "startsWith":
      // startsWith(stringToSearch, stringToFind): "The comparison is case-insensitive." (Learn, "String functions").
      return asString(arg(0))
        .toLowerCase()
        .startsWith(asString(arg(1)).toLowerCase());
    case "string": {
      const value = arg(0);
      return typeof value === "string" ? value : JSON.stringify(value);
    }
    default:
      throw new Error(`${name}() is not evaluated here`);
  }
}

function asString(value: Value): string {
  if (typeof value !== "string") throw new Error(`expected a string, got ${JSON.stringify(value)}`);
  return value;
}

function asInteger(value: Value): number {
  if (typeof value !== "number" || !Number.isInteger(value))
    throw new Error(`expected an int, got ${JSON.stringify(value)}`);
  return value;
}

function truth(value: Value): boolean {
  if (typeof value !== "boolean") throw new Error(`expected a bool, got ${JSON.stringify(value)}`);
  return value;
}

function equal(a: Value, b: Value): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * How main.bicep deploys one string parameter into one app setting (`serviceSettings`): the setting's value for a
 * value of the parameter (a DeploymentFailure thrown when the template fails it), the failure's message (undefined
 * when it deploys), and the parameter's two values as shipped (its default, and main.parameters.json's).
 */
export function appSetting(file: BicepFile, parameter: string, setting: string) {
  const settingFor = (value: string): Value => {
    const node = property(file.variables.get("serviceSettings")?.value, setting);
    if (!node) throw new Error(`${file.relative} sets no ${setting} in serviceSettings`);
    return evaluate(node, file, { [parameter]: value });
  };
  const failureFor = (value: string): string | undefined => {
    try {
      settingFor(value);
      return undefined;
    } catch (error) {
      if (error instanceof DeploymentFailure) return error.message;
      throw error;
    }
  };
  const shipped = (): { readonly fallback: Value | undefined; readonly given: unknown } => {
    const defaultValue = file.params.get(parameter)?.defaultValue;
    const values = JSON.parse(readFileSync(path.join(infraDir, "main.parameters.json"), "utf8")) as {
      parameters: Record<string, { value?: unknown } | undefined>;
    };
    return {
      fallback: defaultValue ? evaluate(defaultValue, file, {}) : undefined,
      given: values.parameters[parameter]?.value,
    };
  };
  return { settingFor, failureFor, shipped };
}
