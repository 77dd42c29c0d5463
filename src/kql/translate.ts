/**
 * The translator's entry points: an EQL query or a loaded rule → KQL for one target, with its approximations, or
 * a refusal naming the field or construct; every query is checked with Kusto.Language (a failure is a defect,
 * reported as a KQL310 diagnostic, never a refusal).
 */
import { Codes, type Diagnostic } from "../diagnostics/index.js";
import type { Query } from "../eql/ast.js";
import { resolveSchemas } from "../kusto/globals.js";
import type { KqlType } from "../kusto/schemas.js";
import { validateKql } from "../kusto/validate.js";
import type { EntityMapping, Exclusions, LoadedRule } from "../rules/types.js";
import {
  functionDeclaration,
  functionWithBody,
  REGISTRY,
  sourceFunctions,
  TARGET_FUNCTIONS,
  type Target,
} from "../targets/index.js";
import { emitQuery } from "./emit-query.js";
import { Refusal, type RefusalKind } from "./refusal.js";

export interface TranslateOptions {
  readonly exclusions?: Exclusions | null;
  readonly entities?: readonly EntityMapping[];
  /** Check the query with Kusto.Language (default true). */
  readonly validate?: boolean;
}

interface RefusalInfo {
  readonly kind: RefusalKind;
  /** The field or construct at fault. */
  readonly subject: string;
  /** `field process.working_directory`: the grouping key of reports. */
  readonly reason: string;
  readonly message: string;
}

export interface Translation {
  readonly target: Target;
  /** The KQL query; absent when refused. */
  readonly kql?: string;
  readonly approximations: readonly string[];
  readonly refused?: RefusalInfo;
  /** Kusto.Language errors in the emitted query (KQL310): each one is a translator defect. */
  readonly diagnostics: readonly Diagnostic[];
  readonly entityColumns: readonly { readonly type: string; readonly identifier: string; readonly column: string }[];
}

const columnCache = new Map<string, ReadonlyMap<string, KqlType>>();

/** Column types of a table or function schema (a target's own functions' from their declared columns). */
function columnsOf(schema: string): ReadonlyMap<string, KqlType> {
  let cols = columnCache.get(schema);
  if (!cols) {
    const own = TARGET_FUNCTIONS.find((f) => f.name === schema);
    if (own) cols = new Map(own.columns.map((c) => [c.name, c.type]));
    else {
      const schemas = resolveSchemas();
      const list = schemas.tables[schema] ?? schemas.functions[schema]?.columns;
      if (!list) throw new Error(`no schema for ${schema}`);
      cols = new Map(list.map((c) => [c.name, c.type]));
    }
    columnCache.set(schema, cols);
  }
  return cols;
}

/** Translates one parsed EQL query for one target. */
export function translateQuery(query: Query, target: Target, options: TranslateOptions = {}): Translation {
  try {
    const emitted = emitQuery({
      query,
      mapping: REGISTRY[target],
      columnsOf,
      exclusions: options.exclusions ?? null,
      entities: options.entities ?? [],
    });
    const diagnostics = options.validate === false ? [] : validateQuery(emitted.kql);
    return {
      target,
      kql: emitted.kql,
      approximations: emitted.notes,
      diagnostics,
      entityColumns: emitted.entityColumns,
    };
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    return {
      target,
      approximations: [],
      refused: { kind: error.kind, subject: error.subject, reason: error.reason, message: error.message },
      diagnostics: [],
      entityColumns: [],
    };
  }
}

/**
 * Kusto.Language's errors for a query shmhunt emitted, against the schemas, the targets' functions (their own, and
 * the parsers their sources call with parameters) and watchlists.
 * The functions are declared by their output columns (binding the auditd body costs ~150 ms per query); the test
 * suite checks that those columns are exactly what each body returns. `withFunctionBody` binds the bodies instead.
 */
export function validateQuery(kql: string, withFunctionBody = false): Diagnostic[] {
  const functions = [
    ...TARGET_FUNCTIONS.map(withFunctionBody ? functionWithBody : functionDeclaration),
    ...sourceFunctions(),
  ];
  return validateKql(kql, { functions }).map((d) => ({ ...d, code: Codes.KqlInvalid }));
}

/** Translates a loaded rule (its query, exclusions and entities) for one target. */
export function translateRule(
  rule: LoadedRule,
  target: Target,
  options: Pick<TranslateOptions, "validate"> = {},
): Translation {
  const ast = rule.query?.ast;
  if (!ast || rule.language !== "eql") {
    return {
      target,
      approximations: [],
      refused: {
        kind: "construct",
        subject: `language ${rule.language}`,
        reason: `construct language ${rule.language}`,
        message: `only EQL rules are translated (this rule is ${rule.language}${rule.query && !rule.query.ast ? ", or its query did not parse" : ""})`,
      },
      diagnostics: [],
      entityColumns: [],
    };
  }
  return translateQuery(ast, target, {
    exclusions: rule.settings.exclusions,
    entities: rule.settings.entities,
    ...options,
  });
}
