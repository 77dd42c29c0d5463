/**
 * The bodies of the workspace functions targets deploy: `<repo>/kql/functions/<Name>.kql`, each file's text the
 * function's KQL body (no parameters).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FunctionSchema } from "../kusto/schemas.js";
import type { TargetFunction } from "./target-types.js";

/** `<repo>/kql/functions` (from src/ under tsx and from dist/src/ after build). */
export function functionsDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const up = here.includes(`${path.sep}dist${path.sep}`) ? "../../.." : "../..";
  return path.resolve(here, up, "kql", "functions");
}

/** `<repo>/kql/functions/<name>.kql`. */
export const functionFile = (name: string): string => path.join(functionsDir(), `${name}.kql`);

const bodies = new Map<string, FunctionSchema>();

/** The function with its KQL body, as Kusto.Language and the workspace engine take it. */
export function functionWithBody(fn: TargetFunction): FunctionSchema {
  let schema = bodies.get(fn.name);
  if (!schema) {
    schema = { name: fn.name, body: readFileSync(functionFile(fn.name), "utf8") };
    bodies.set(fn.name, schema);
  }
  return schema;
}

/** The function declared by its output columns only (what a query needs to bind; fast). */
export const functionDeclaration = (fn: TargetFunction): FunctionSchema => ({ name: fn.name, columns: fn.columns });
