/**
 * The translation service every entry point calls (CLI `shmhunt translate`, the HTTP `translate` handler): a rule
 * file, rule text or an EQL query → one result per target.
 */
import { stat } from "node:fs/promises";
import { DiagnosticError } from "../diagnostics/index.js";
import { parseEql } from "../eql/parser.js";
import type { RuleFileResult } from "../rules/loader.js";
import { loadRuleFile, loadRuleText, ruleFilesUnder } from "../rules/loader.js";
import type { LoadedRule, Target } from "../rules/types.js";
import { isTarget, TARGETS } from "../targets/index.js";
import { TranslationRefusedError } from "./refusal.js";
import { type Translation, translateQuery, translateRule } from "./translate.js";

export interface TranslationResult {
  /** The rule file, or `<eql>` for a bare query. */
  readonly rule: string;
  readonly target: Target;
  readonly kql?: string;
  readonly approximations: readonly string[];
  /** Why the rule cannot be translated for this target, naming the field or construct. */
  readonly refused?: string;
  /** Kusto.Language errors in the emitted query (translator defects). */
  readonly invalid?: readonly string[];
}

export function targetsOf(choice: string): Target[] {
  if (choice === "all") return [...TARGETS];
  if (!isTarget(choice)) throw new Error(`unknown target '${choice}' (expected ${[...TARGETS, "all"].join(", ")})`);
  return [choice];
}

function resultOf(rule: string, t: Translation): TranslationResult {
  return {
    rule,
    target: t.target,
    ...(t.kql !== undefined ? { kql: t.kql } : {}),
    approximations: t.approximations,
    ...(t.refused ? { refused: t.refused.message } : {}),
    ...(t.diagnostics.length ? { invalid: t.diagnostics.map((d) => d.message) } : {}),
  };
}

function ruleOf(result: RuleFileResult): LoadedRule {
  if (!result.rule) throw new DiagnosticError(result.diagnostics.filter((d) => d.severity === "error"));
  return result.rule;
}

/** Translates a rule file for the chosen target(s). Load errors throw a DiagnosticError naming file, line, key. */
export async function translateRuleFile(file: string, target: string): Promise<TranslationResult[]> {
  const rule = ruleOf(await loadRuleFile(file));
  return targetsOf(target).map((t) => resultOf(file, translateRule(rule, t)));
}

/** One rule file of a batch: its results, or why it could not be loaded. */
export type RuleFileOutcome =
  | { readonly file: string; readonly results: readonly TranslationResult[]; readonly error?: undefined }
  | { readonly file: string; readonly error: unknown; readonly results?: undefined };

/**
 * The rule files named by `paths`: a file as given, a folder as every `*.toml` under it (sorted). A path that cannot
 * be looked at (not there, not allowed) is kept as a file: loading it says why, naming it, as for any rule file
 * that does not load (a batch goes on with the others).
 */
export async function ruleFilesIn(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    if ((await stat(p).catch(() => undefined))?.isDirectory()) out.push(...(await ruleFilesUnder(p)));
    else out.push(p);
  }
  return out;
}

/**
 * Translates many rule files in one process (Kusto.Language loads once, its globals are shared): one outcome per
 * file, in order. A file that cannot be loaded yields its error and the batch goes on. The target is checked first.
 */
export async function* translateRuleFiles(files: readonly string[], target: string): AsyncGenerator<RuleFileOutcome> {
  const targets = targetsOf(target);
  for (const file of files) {
    let rule: LoadedRule;
    try {
      rule = ruleOf(await loadRuleFile(file));
    } catch (error) {
      yield { file, error };
      continue;
    }
    yield { file, results: targets.map((t) => resultOf(file, translateRule(rule, t))) };
  }
}

/** Translates rule text (TOML) for the chosen target(s). */
function translateRuleText(text: string, target: string, name = "<rule>"): TranslationResult[] {
  const rule = ruleOf(loadRuleText(name, text));
  return targetsOf(target).map((t) => resultOf(name, translateRule(rule, t)));
}

/** Translates a bare EQL query (no exclusions, no entities). Syntax errors throw a DiagnosticError. */
export function translateEql(eql: string, target: string): TranslationResult[] {
  const query = parseEql(eql);
  return targetsOf(target).map((t) => resultOf("<eql>", translateQuery(query, t)));
}

/** The server's TranslateService (src/app/services.ts): `{ eql | rule, target }` → the first target's result. */
export function createTranslateService(): {
  translate(request: { readonly eql?: string; readonly rule?: string; readonly target: string }): Promise<{
    readonly target: string;
    readonly kql: string;
    readonly notes: readonly string[];
  }>;
} {
  return {
    async translate(request) {
      const results =
        request.eql !== undefined
          ? translateEql(request.eql, request.target)
          : translateRuleText(request.rule ?? "", request.target);
      const r = results[0];
      if (!r) throw new Error("no target");
      if (r.refused) throw new TranslationRefusedError(r.target, r.refused);
      if (r.invalid) throw new Error(`translator defect: invalid KQL for ${r.target}: ${r.invalid[0]}`);
      return { target: r.target, kql: r.kql ?? "", notes: r.approximations };
    },
  };
}
