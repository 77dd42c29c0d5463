/**
 * KQL validation and parsing with Microsoft's Kusto.Language against shmhunt's schemas.
 *
 * - `validateKql(text, options)` → the errors Kusto.Language finds (syntax, unknown tables/columns/functions, type
 *   errors), as shmhunt Diagnostics with code KQL310 and a span (1-based line/column) in `text`.
 * - `parseKql(text, globals)` → the bound `KustoCode` (syntax tree + semantic info) for the workspace engine.
 */
import { Codes, type Diagnostic, LineMap } from "../diagnostics/index.js";
import { buildGlobals, type GlobalsOptions } from "./globals.js";
import { type KustoLanguage, kustoLanguage, listItems } from "./runtime.js";

export type ValidateOptions = GlobalsOptions & {
  /** Also report Kusto.Language warnings (as severity "warning"); default false. */
  readonly includeWarnings?: boolean;
};

/**
 * Parses and binds `text` against `globals` (default: the schemas of `<repo>/schemas`).
 *
 * This is `KustoCode.ParseAndAnalyze` without its one unused step: `KustoCode.Create` also builds the combinator
 * `QueryGrammar` (kept on the code for the editor's completion service, not used to parse: the default parser is
 * the hand-written `QueryParser`), which costs ~2 s in a fresh process. The steps below are Create's own, in its
 * order (tokens, `QueryParser.ParseQuery`, `Binder.TryBind`, result type); test/kusto checks that the diagnostics
 * and result are those of `ParseAndAnalyze`. Control commands (`.show ...`) go through ParseAndAnalyze.
 */
export function parseKql(text: string, globals: Kusto.Language.GlobalState = buildGlobals()): Kusto.Language.KustoCode {
  const L = kustoLanguage();
  if (L.KustoCode.GetKind(text) !== L.Editor.CodeKinds.Query) {
    const code = L.KustoCode.ParseAndAnalyze(text, globals);
    if (!code) throw new Error("Kusto.Language returned no code");
    return code;
  }
  return parseQuery(L, text, withEndTokens(globals));
}

/**
 * Create's steps for a query, against globals that already have `AlwaysProduceEndTokens`. It uses nothing but its
 * arguments: snapshot.ts runs its source text while building the startup snapshot, to warm the parser and binder.
 */
export function parseQuery(
  L: KustoLanguage,
  text: string,
  globals: Kusto.Language.GlobalState,
): Kusto.Language.KustoCode {
  const K = L.KustoCode as unknown as KustoCodeInternals;
  const options = globals.ParseOptions;
  const tokens = L.Parsing.TokenParser.ParseTokens(text, options);
  const starts = K.GetTokenStarts(tokens);
  const syntax = L.Parsing.QueryParser.ParseQuery(tokens, 0, options);
  const tree = new L.Syntax.SyntaxTree(syntax, null, 0);
  const localCache = new L.Binding.LocalBindingCache();
  const bound = L.Binding.Binder.TryBind(tree, globals, localCache, null, new L.Utils.CancellationToken());
  const state = bound ? K.AnalysisState.Performed : K.AnalysisState.NotSafe;
  const resultType = bound ? K.DetermineResultType(syntax) : null;
  return new K(text, L.Editor.CodeKinds.Query, globals, null, tree, state, resultType, tokens, starts, localCache);
}

/** The members of Bridge.NET's `KustoCode` that `Create` uses and the typings leave out. */
interface KustoCodeInternals {
  new (
    text: string,
    kind: string | null,
    globals: Kusto.Language.GlobalState,
    grammar: null,
    tree: Kusto.Language.Syntax.SyntaxTree,
    analysisState: unknown,
    resultType: unknown,
    tokens: unknown,
    tokenStarts: unknown,
    localCache: unknown,
  ): Kusto.Language.KustoCode;
  GetTokenStarts(tokens: unknown): unknown;
  DetermineResultType(root: unknown): unknown;
  readonly AnalysisState: { readonly Performed: unknown; readonly NotSafe: unknown };
}

const endTokens = new WeakMap<Kusto.Language.GlobalState, Kusto.Language.GlobalState>();

/** `globals` with `AlwaysProduceEndTokens`, as ParseAndAnalyze sets it; one per globals, so its caches are kept. */
function withEndTokens(globals: Kusto.Language.GlobalState): Kusto.Language.GlobalState {
  let g = endTokens.get(globals);
  if (!g) {
    g = globals.WithParseOptions(globals.ParseOptions?.WithAlwaysProduceEndTokens(true) ?? null) ?? globals;
    endTokens.set(globals, g);
  }
  return g;
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
