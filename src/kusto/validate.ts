/**
 * KQL validation and parsing with Microsoft's Kusto.Language against shmhunt's schemas.
 *
 * - `validateKql(text, options)` → the errors Kusto.Language finds (syntax, unknown tables/columns/functions, type
 *   errors), as shmhunt Diagnostics with code KQL310 and a span (1-based line/column) in `text`.
 * - `parseKql(text, globals)` → the bound `KustoCode` (syntax tree + semantic info) for the workspace engine.
 */
import { Codes, type Diagnostic, LineMap } from "../diagnostics/index.js";
import { buildGlobals, type GlobalsOptions } from "./globals.js";
import { kustoLanguage, listItems } from "./runtime.js";

export type ValidateOptions = GlobalsOptions & {
  /** Also report Kusto.Language warnings (as severity "warning"); default false. */
  readonly includeWarnings?: boolean;
};

/** Parses and binds `text` against `globals` (default: the schemas of `<repo>/schemas`). */
export function parseKql(text: string, globals: Kusto.Language.GlobalState = buildGlobals()): Kusto.Language.KustoCode {
  const code = kustoLanguage().KustoCode.ParseAndAnalyze(text, globals);
  if (!code) throw new Error("Kusto.Language returned no code");
  return code;
}

/** Kusto.Language's diagnostics of a bound query as shmhunt Diagnostics (code KQL310). */
export function kustoDiagnostics(code: Kusto.Language.KustoCode, text: string, includeWarnings = false): Diagnostic[] {
  const lines = new LineMap(text);
  const out: Diagnostic[] = [];
  for (const d of listItems(code.GetDiagnostics())) {
    const severity = String(d.Severity).toLowerCase() === "error" ? "error" : "warning";
    if (severity !== "error" && !includeWarnings) continue;
    const start = Math.max(0, Math.min(d.Start, text.length));
    const end = Math.max(start, Math.min(d.Start + d.Length, text.length));
    out.push({
      code: Codes.KqlInvalid,
      severity,
      message: `${d.Code}: ${d.Message}`,
      span: lines.span(start, end),
    });
  }
  return out;
}

/** Validates a KQL query; an empty array means Kusto.Language found no error. */
export function validateKql(text: string, options: ValidateOptions = {}): Diagnostic[] {
  const code = parseKql(text, buildGlobals(options));
  return kustoDiagnostics(code, text, options.includeWarnings === true);
}
