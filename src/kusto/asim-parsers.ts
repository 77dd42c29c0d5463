/**
 * Microsoft's ASIM parsers (Azure-Sentinel `Parsers/ASim*` YAML files) as workspace functions with their real
 * bodies, so the local engine runs the parsers' own KQL over the source tables instead of hand-written ASIM rows.
 *
 * A parser file gives `ParserName`, `ParserParams` (name, type, default) and `ParserQuery` (the body). A unifying
 * parser (`_Im_ProcessEvent`) is modelled as Sentinel builds it (imProcessEvent.yaml: `union isfuzzy=true
 * vimProcessEmpty, <source parsers>(…)`): an empty table of the ASIM schema's columns, then the source parsers given,
 * each called with the unifying parser's parameters of the same name.
 */
import { parse } from "yaml";
import { emptyTableExpression } from "./globals.js";
import type { ColumnSchema, FunctionSchema } from "./schemas.js";

interface ParserParam {
  readonly Name: string;
  readonly Type: string;
  readonly Default: string | number | boolean;
}

/** One source parser read from its YAML file. */
export interface AsimParser extends FunctionSchema {
  readonly name: string;
  readonly parameters: string;
  readonly body: string;
  /** The parameter names, in order. */
  readonly parameterNames: readonly string[];
}

function defaultText(p: ParserParam): string {
  if (typeof p.Default === "string" && p.Type === "string" && !/^['"]/.test(p.Default)) return `'${p.Default}'`;
  return String(p.Default);
}

/** Reads a parser YAML file's text; `file` names it in errors. */
export function readAsimParser(text: string, file: string): AsimParser {
  const doc = parse(text) as { ParserName?: unknown; ParserParams?: unknown; ParserQuery?: unknown };
  if (typeof doc.ParserName !== "string") throw new Error(`${file}: no ParserName`);
  if (typeof doc.ParserQuery !== "string") throw new Error(`${file}: no ParserQuery`);
  const params = (Array.isArray(doc.ParserParams) ? doc.ParserParams : []) as ParserParam[];
  for (const [i, p] of params.entries()) {
    if (typeof p.Name !== "string" || typeof p.Type !== "string") {
      throw new Error(`${file}: ParserParams[${i}] needs a Name and a Type`);
    }
  }
  return {
    name: doc.ParserName,
    parameters: `(${params.map((p) => `${p.Name}:${p.Type}=${defaultText(p)}`).join(", ")})`,
    parameterNames: params.map((p) => p.Name),
    body: doc.ParserQuery.trim(),
  };
}

/**
 * A unifying parser over the given source parsers: `parameters` is its own list (e.g. the one `schemas.ts` gives
 * `_Im_ProcessEvent`); each source parser receives the parameters it shares by name.
 */
export function unifyingParser(
  name: string,
  parameters: string,
  columns: readonly ColumnSchema[],
  sources: readonly AsimParser[],
): FunctionSchema {
  const own = new Set([...parameters.matchAll(/(\w+)\s*:/g)].map((m) => m[1]));
  const calls = sources.map(
    (s) =>
      `${s.name}(${s.parameterNames
        .filter((p) => own.has(p))
        .map((p) => `${p}=${p}`)
        .join(", ")})`,
  );
  return {
    name,
    parameters,
    columns,
    body: `union isfuzzy=true ${[`(${emptyTableExpression(columns)})`, ...calls].join(", ")}`,
  };
}
