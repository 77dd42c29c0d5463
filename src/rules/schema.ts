/**
 * A small schema language for TOML data, and its checker. Each finding is reported at the exact key path
 * (`rule.threat[0].tactic.id`) so the loader can turn it into a Diagnostic with file, line and column.
 */
import type { Code } from "../diagnostics/index.js";
import { Codes } from "../diagnostics/index.js";
import type { PathSegment, TomlPath } from "./toml-document.js";

export type Schema =
  | { readonly kind: "string"; readonly check?: StringCheck }
  | { readonly kind: "integer"; readonly min?: number; readonly max?: number }
  | { readonly kind: "number" }
  | { readonly kind: "boolean" }
  /** `unique`: no entry may repeat an earlier one (a list of choices, such as targets). */
  | { readonly kind: "array"; readonly items: Schema; readonly nonEmpty?: boolean; readonly unique?: boolean }
  /** A table with known keys; any other key is an error (RULE201). */
  | { readonly kind: "table"; readonly fields: Readonly<Record<string, Field>> }
  /** A table whose keys are free (a map), each value checked against `values`. */
  | { readonly kind: "map"; readonly values: Schema; readonly keyCheck?: StringCheck }
  /** Anything: a key whose structure shmhunt does not use (e.g. Elastic's `rule.meta`). */
  | { readonly kind: "any" }
  /** Any of several shapes (e.g. Elastic's `threshold.field`: a string or a list of strings). */
  | { readonly kind: "oneOf"; readonly options: readonly Schema[] };

export interface Field {
  readonly schema: Schema;
  readonly required?: boolean;
  /** Why the key exists, for docs and for "did you mean" hints. */
  readonly doc?: string;
}

/** Returns undefined when the value is fine, else a problem: a message and its code. */
export type StringCheck = (value: string) => { readonly message: string; readonly code?: Code } | undefined;

export interface SchemaIssue {
  readonly path: TomlPath;
  readonly code: Code;
  readonly message: string;
  readonly hint?: string;
}

export const str = (check?: StringCheck): Schema => (check ? { kind: "string", check } : { kind: "string" });
export const int = (min?: number, max?: number): Schema => ({
  kind: "integer",
  ...(min !== undefined ? { min } : {}),
  ...(max !== undefined ? { max } : {}),
});
export const bool: Schema = { kind: "boolean" };
export const any: Schema = { kind: "any" };
export const arrayOf = (items: Schema, nonEmpty = false, unique = false): Schema =>
  unique ? { kind: "array", items, nonEmpty, unique } : { kind: "array", items, nonEmpty };
export const table = (fields: Record<string, Field>): Schema => ({ kind: "table", fields });
export const mapOf = (values: Schema, keyCheck?: StringCheck): Schema =>
  keyCheck ? { kind: "map", values, keyCheck } : { kind: "map", values };
export const oneOf = (...options: Schema[]): Schema => ({ kind: "oneOf", options });
export const req = (schema: Schema, doc?: string): Field =>
  doc ? { schema, required: true, doc } : { schema, required: true };
export const opt = (schema: Schema, doc?: string): Field => (doc ? { schema, doc } : { schema });

/** A string check that accepts only the listed values. */
export function oneOfValues(values: readonly string[]): StringCheck {
  return (value) =>
    values.includes(value)
      ? undefined
      : { message: `must be one of ${values.map((v) => JSON.stringify(v)).join(", ")}, not ${JSON.stringify(value)}` };
}

/** A string check against a regular expression, with a readable description of the expected form. */
export function matching(pattern: RegExp, expected: string, code: Code = Codes.RuleBadValue): StringCheck {
  return (value) =>
    pattern.test(value) ? undefined : { message: `must be ${expected}, not ${JSON.stringify(value)}`, code };
}

export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a date";
  if (isTable(value)) return "a table";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a float";
  return `a ${typeof value}`;
}

const expected: Record<Schema["kind"], string> = {
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "a boolean",
  array: "an array",
  table: "a table",
  map: "a table",
  any: "a value",
  oneOf: "a value",
};

/** The closest known key, for a "did you mean" hint on a misspelt key. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Checks `value` against `schema`; returns every issue found (it does not stop at the first). */
export function checkSchema(value: unknown, schema: Schema, path: readonly PathSegment[] = []): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const visit = (v: unknown, s: Schema, p: readonly PathSegment[]): void => {
    const wrongType = () =>
      issues.push({ path: p, code: Codes.RuleBadValue, message: `must be ${expected[s.kind]}, not ${describe(v)}` });
    switch (s.kind) {
      case "any":
        return;
      case "string":
        if (typeof v !== "string") return void wrongType();
        if (s.check) {
          const problem = s.check(v);
          if (problem) issues.push({ path: p, code: problem.code ?? Codes.RuleBadValue, message: problem.message });
        }
        return;
      case "integer":
        if (typeof v !== "number" || !Number.isInteger(v)) return void wrongType();
        if ((s.min !== undefined && v < s.min) || (s.max !== undefined && v > s.max)) {
          const range = s.max === undefined ? `at least ${s.min}` : `between ${s.min ?? "-∞"} and ${s.max}`;
          issues.push({ path: p, code: Codes.RuleBadValue, message: `must be ${range}, not ${v}` });
        }
        return;
      case "number":
        if (typeof v !== "number") wrongType();
        return;
      case "boolean":
        if (typeof v !== "boolean") wrongType();
        return;
      case "array":
        if (!Array.isArray(v)) return void wrongType();
        if (s.nonEmpty && v.length === 0)
          issues.push({ path: p, code: Codes.RuleBadValue, message: "must not be empty" });
        v.forEach((item, i) => {
          if (s.unique && v.indexOf(item) < i)
            issues.push({ path: [...p, i], code: Codes.RuleBadValue, message: `repeats ${JSON.stringify(item)}` });
          else visit(item, s.items, [...p, i]);
        });
        return;
      case "map":
        if (!isTable(v)) return void wrongType();
        for (const [key, item] of Object.entries(v)) {
          const problem = s.keyCheck?.(key);
          if (problem)
            issues.push({ path: [...p, key], code: problem.code ?? Codes.RuleUnknownKey, message: problem.message });
          else visit(item, s.values, [...p, key]);
        }
        return;
      case "table": {
        if (!isTable(v)) return void wrongType();
        const known = Object.keys(s.fields);
        for (const [key, item] of Object.entries(v)) {
          // Own keys only: `constructor`, `toString`… are unknown keys, not Object.prototype's members.
          const field = Object.hasOwn(s.fields, key) ? s.fields[key] : undefined;
          if (!field) {
            const suggestion = closest(key, known);
            issues.push({
              path: [...p, key],
              code: Codes.RuleUnknownKey,
              message: `unknown key '${key}'`,
              ...(suggestion ? { hint: `did you mean '${suggestion}'?` } : {}),
            });
          } else visit(item, field.schema, [...p, key]);
        }
        for (const [key, field] of Object.entries(s.fields)) {
          if (field.required && !Object.hasOwn(v, key)) {
            issues.push({ path: [...p, key], code: Codes.RuleMissingField, message: `missing required key '${key}'` });
          }
        }
        return;
      }
      case "oneOf": {
        const attempts = s.options.map((option) => checkSchema(v, option, p));
        if (attempts.some((a) => a.length === 0)) return;
        const kinds = s.options.map((o) =>
          o.kind === "array" ? `${expected.array} of ${o.items.kind}s` : expected[o.kind],
        );
        issues.push({ path: p, code: Codes.RuleBadValue, message: `must be ${kinds.join(" or ")}` });
        return;
      }
    }
  };
  visit(value, schema, path);
  return issues;
}
