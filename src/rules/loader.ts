/**
 * Loads rule files: Elastic detection-rules TOML plus shmhunt's `[shmhunt]` table. Every problem becomes a
 * Diagnostic naming the file, line, column and key; a rule is returned only when it has no errors.
 */
import { access, readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { AST } from "toml-eslint-parser";
import {
  Codes,
  type Diagnostic,
  type Severity as DiagnosticSeverity,
  fileSystemReason,
  hasErrors,
  type Span,
} from "../diagnostics/index.js";
import { ruleDisplayName } from "./display-name.js";
import { DEFAULT_FROM, DEFAULT_INTERVAL, DEFAULT_MAX_SIGNALS, parseDuration, parseFrom } from "./durations.js";
import { elasticFileFields } from "./elastic-schema.js";
import { checkThreat, threatMappings } from "./mitre.js";
import { parseRuleQuery } from "./query.js";
import { checkSchema, isTable, opt, table } from "./schema.js";
import { buildSettings, SETTINGS_TABLE, settingsFields } from "./settings.js";
import { decodeTomlFile, formatPath, parseTomlDocument, type TomlDocument, type TomlPath } from "./toml-document.js";
import type { LoadedRule, RuleLanguage, RuleType, Severity } from "./types.js";

const fileSchema = table({ ...elasticFileFields, [SETTINGS_TABLE]: opt(table(settingsFields)) });

export interface RuleFileResult {
  /** Present when the file has no errors (it may have warnings). */
  readonly rule?: LoadedRule;
  readonly diagnostics: readonly Diagnostic[];
}

interface RuleSetResult {
  readonly rules: readonly LoadedRule[];
  readonly diagnostics: readonly Diagnostic[];
}

interface Finding {
  readonly path: TomlPath;
  readonly code: string;
  readonly message: string;
  readonly severity?: DiagnosticSeverity;
  readonly hint?: string;
}

/** A finding at a key path → a Diagnostic at the key (unknown or missing keys) or at the value. */
function diagnose(document: TomlDocument, finding: Finding): Diagnostic {
  const where = document.locate(finding.path);
  const onKey = finding.code === Codes.RuleUnknownKey || finding.code === Codes.RuleMissingField;
  return {
    code: finding.code,
    severity: finding.severity ?? "error",
    message: finding.message,
    file: document.file,
    span: onKey ? where.key : where.value,
    field: formatPath(finding.path),
    ...(finding.hint ? { hint: finding.hint } : {}),
  };
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Which language a rule type's query is in, when the file does not say. */
function languageOf(type: RuleType, declared: string | undefined): RuleLanguage {
  if (declared) return declared as RuleLanguage;
  if (type === "machine_learning") return "none";
  if (type === "eql" || type === "esql") return type;
  return "kuery";
}

/** Parses and checks one rule file's text. Pure: no file system access (see loadRuleFile). */
export function loadRuleText(file: string, source: string): RuleFileResult {
  const { idSpan: _idSpan, ...result } = checkRuleText(file, source);
  return result;
}

/** loadRuleText, plus where the rule_id is (for the duplicate-id check across files). */
function checkRuleText(file: string, source: string): RuleFileResult & { readonly idSpan?: Span } {
  const parsed = parseTomlDocument(file, source);
  if (!parsed.document) return { diagnostics: parsed.diagnostics };
  const document = parsed.document;
  const diagnostics: Diagnostic[] = checkSchema(document.value, fileSchema).map((issue) => diagnose(document, issue));

  const rule = isTable(document.value.rule) ? document.value.rule : {};
  const type = (text(rule.type) ?? "query") as RuleType;
  const language = languageOf(type, text(rule.language));

  // What the schema cannot express: which keys each rule type needs, and the language that goes with it.
  if (type !== "machine_learning") {
    if (rule.query === undefined && type !== "threat_match") {
      diagnostics.push(
        diagnose(document, {
          path: ["rule", "query"],
          code: Codes.RuleMissingField,
          message: `missing required key 'query' (a ${type} rule has a query)`,
        }),
      );
    }
    if (rule.language === undefined) {
      diagnostics.push(
        diagnose(document, {
          path: ["rule", "language"],
          code: Codes.RuleMissingField,
          message: `missing required key 'language' (a ${type} rule names its query language)`,
        }),
      );
    }
  }
  if ((type === "eql" || type === "esql") && rule.language !== undefined && language !== type) {
    diagnostics.push(
      diagnose(document, {
        path: ["rule", "language"],
        code: Codes.RuleBadValue,
        message: `must be "${type}" for a rule of type "${type}", not "${language}"`,
      }),
    );
  }
  if (language === "eql" && type !== "eql") {
    diagnostics.push(
      diagnose(document, {
        path: ["rule", "type"],
        code: Codes.RuleBadValue,
        message: `must be "eql" for a query in EQL, not "${type}"`,
      }),
    );
  }

  const threat = threatMappings(rule.threat);
  for (const issue of checkThreat(threat)) diagnostics.push(diagnose(document, issue));

  const settingsResult = buildSettings(document.value[SETTINGS_TABLE], file);
  for (const issue of settingsResult.issues) diagnostics.push(diagnose(document, issue));

  // The query: parsed (EQL) and located in the file.
  let query: LoadedRule["query"] = null;
  const queryNode = document.locate(["rule", "query"]).node;
  if (typeof rule.query === "string" && queryNode?.type === "TOMLValue" && queryNode.kind === "string") {
    const parsedQuery = parseRuleQuery(document, queryNode as AST.TOMLStringValue, language, "rule.query");
    diagnostics.push(...parsedQuery.diagnostics);
    query = { text: rule.query, language, span: parsedQuery.span, ast: parsedQuery.ast };
  }

  const interval = parseDuration(text(rule.interval) ?? DEFAULT_INTERVAL);
  const lookback = parseFrom(text(rule.from) ?? DEFAULT_FROM);
  if (interval !== undefined && lookback !== undefined && lookback < interval) {
    diagnostics.push(
      diagnose(document, {
        path: ["rule", "from"],
        code: Codes.RuleBadValue,
        severity: "warning",
        message: `each run looks back ${lookback / 60_000} min but runs every ${interval / 60_000} min: events between runs are never searched`,
      }),
    );
  }

  const idSpan = document.locate(["rule", "rule_id"]).value;
  if (hasErrors(diagnostics)) return { diagnostics: sortDiagnostics(diagnostics), idSpan };

  const note = text(rule.note);
  const elasticRuleId = text(rule.rule_id) ?? "";
  const revision = settingsResult.settings.revision;
  const loaded: LoadedRule = {
    id: revision !== undefined ? `${elasticRuleId}-${revision}` : elasticRuleId,
    elasticRuleId,
    ...(typeof rule.version === "number" ? { version: rule.version } : {}),
    name: text(rule.name) ?? "",
    description: (text(rule.description) ?? "").trim(),
    type,
    language,
    severity: (text(rule.severity) ?? "low") as Severity,
    riskScore: typeof rule.risk_score === "number" ? rule.risk_score : 0,
    intervalMs: parseDuration(text(rule.interval) ?? DEFAULT_INTERVAL) ?? 0,
    lookbackMs: parseFrom(text(rule.from) ?? DEFAULT_FROM) ?? 0,
    maxSignals: typeof rule.max_signals === "number" ? rule.max_signals : DEFAULT_MAX_SIGNALS,
    threat,
    references: strings(rule.references),
    tags: strings(rule.tags),
    falsePositives: strings(rule.false_positives).map(dedent),
    index: strings(rule.index),
    buildingBlock: rule.building_block_type !== undefined,
    ...(note !== undefined ? { note } : {}),
    query,
    settings: settingsResult.settings,
    file,
  };
  return { rule: loaded, diagnostics: sortDiagnostics(diagnostics), idSpan };
}

/** Elastic writes false positives as indented multi-line strings: drop the common indent and outer blank lines. */
function dedent(value: string): string {
  const lines = value
    .replace(/^\s*\n/, "")
    .trimEnd()
    .split("\n");
  const indent = Math.min(...lines.filter((l) => l.trim() !== "").map((l) => /^[ \t]*/.exec(l)?.[0].length ?? 0));
  return lines.map((l) => l.slice(Number.isFinite(indent) ? indent : 0)).join("\n");
}

function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => (a.span?.start.offset ?? 0) - (b.span?.start.offset ?? 0));
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** Reads, parses and checks one rule file, including that the YARA files its sample gate names exist. */
export async function loadRuleFile(file: string): Promise<RuleFileResult> {
  return (await loadRuleFileWithId(file)).result;
}

async function loadRuleFileWithId(file: string): Promise<{ result: RuleFileResult; idSpan?: Span }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    return {
      result: {
        diagnostics: [
          {
            code: Codes.RuleToml,
            severity: "error",
            message: `cannot read the rule file: ${fileSystemReason(error)}`,
            file,
          },
        ],
      },
    };
  }
  const decoded = decodeTomlFile(file, bytes);
  if ("diagnostics" in decoded) return { result: { diagnostics: decoded.diagnostics } };
  const source = decoded.text;
  const { idSpan, ...result } = checkRuleText(file, source);
  if (!result.rule) return { result, ...(idSpan ? { idSpan } : {}) };
  const missing: Diagnostic[] = [];
  const yara = result.rule.settings.sampleGate.yara;
  for (const [i, ref] of yara.entries()) {
    if (!(await exists(ref.path))) {
      const parsed = parseTomlDocument(file, source);
      const span = parsed.document?.locate([SETTINGS_TABLE, "sample_gate", "yara", i]).value;
      missing.push({
        code: Codes.RuleBadValue,
        severity: "error",
        message: `YARA file '${ref.name}' not found (looked for ${ref.path})`,
        file,
        ...(span ? { span } : {}),
        field: `${SETTINGS_TABLE}.sample_gate.yara[${i}]`,
      });
    }
  }
  if (missing.length === 0) return { result, ...(idSpan ? { idSpan } : {}) };
  return { result: { diagnostics: [...result.diagnostics, ...missing] }, ...(idSpan ? { idSpan } : {}) };
}

/**
 * Every file under `dir` (recursively), sorted: regular files and symbolic links to files (a rule file linked into
 * the rules folder is a rule of the folder), with the links that lead nowhere apart, so that the caller reports them.
 */
export async function filesUnder(dir: string): Promise<{ files: string[]; dangling: string[] }> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const files: string[] = [];
  const dangling: string[] = [];
  for (const e of entries) {
    const full = path.join(e.parentPath, e.name);
    if (e.isFile()) files.push(full);
    else if (e.isSymbolicLink()) {
      const target = await stat(full).catch(() => undefined);
      if (!target) dangling.push(full);
      else if (target.isFile()) files.push(full);
    }
  }
  return { files: files.sort(), dangling: dangling.sort() };
}

/**
 * Every rule file under `dir` (recursively), sorted: each `*.toml` (any case of it, as `validate` checks them),
 * regular or a link to a file; a link that leads nowhere is kept (loading reports it). The one listing of a rules
 * folder: loading, deploying, hunting and translating a folder all take their files from here.
 */
export async function ruleFilesUnder(dir: string): Promise<string[]> {
  const { files, dangling } = await filesUnder(dir);
  return [...files, ...dangling].filter(isRuleFileName).sort();
}

/** Is this the name of a rule file (`*.toml`, in any case)? */
export function isRuleFileName(file: string): boolean {
  return path.extname(file).toLowerCase() === ".toml";
}

/** The rules folder (SHMHUNT_RULES_DIR, `--rules`) could not be read: RULE200 naming it as a folder, and why. */
export function unreadableRulesFolder(dir: string, error: unknown): Diagnostic {
  const message = `cannot read the rules folder: ${fileSystemReason(error)}`;
  return { code: Codes.RuleToml, severity: "error", message, file: dir };
}

/**
 * Loads a rule set: a directory (every `*.toml` under it) or a list of files and directories. Besides each
 * file's own diagnostics, a rule id used by more than one file is an error (RULE206) on every later file.
 */
export async function loadRules(dirOrFiles: string | readonly string[]): Promise<RuleSetResult> {
  const inputs = typeof dirOrFiles === "string" ? [dirOrFiles] : dirOrFiles;
  const files: string[] = [];
  for (const input of inputs) {
    const found = await stat(input).catch((error: unknown) => ({ error }));
    if ("error" in found && typeof dirOrFiles === "string") {
      // Given as the rules folder (SHMHUNT_RULES_DIR): what cannot be read is a folder, not a rule file.
      return { rules: [], diagnostics: [unreadableRulesFolder(input, found.error)] };
    }
    files.push(...("isDirectory" in found && found.isDirectory() ? await ruleFilesUnder(input) : [input]));
  }
  const rules: LoadedRule[] = [];
  const diagnostics: Diagnostic[] = [];
  const seen = new Map<string, string>();
  /** Analytics rule name → the file whose rule deploys it. */
  const analyticsNames = new Map<string, string>();
  const loaded = await Promise.all(files.map((file) => loadRuleFileWithId(file)));
  for (const [i, { result, idSpan }] of loaded.entries()) {
    const file = files[i] as string;
    diagnostics.push(...result.diagnostics);
    if (!result.rule) continue;
    const key = result.rule.id.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) {
      diagnostics.push({
        code: Codes.RuleDuplicateId,
        severity: "error",
        message: `rule_id ${result.rule.id} is already used by ${first}`,
        file,
        ...(idSpan ? { span: idSpan } : {}),
        field: "rule.rule_id",
        hint: "give this rule a fresh UUID",
      });
      continue;
    }
    seen.set(key, file);
    const clash = analyticsRuleNames(result.rule).find((name) => analyticsNames.has(name));
    if (clash !== undefined) {
      const span = parseTomlDocument(file, await readFile(file, "utf8")).document?.locate(["rule", "name"]).value;
      diagnostics.push({
        code: Codes.RuleServiceLimit,
        severity: "error",
        message: `the analytics rule "${clash}" is already deployed by ${analyticsNames.get(clash)}; Sentinel requires each analytics rule's name to be unique in the workspace`,
        file,
        ...(span ? { span } : {}),
        field: "rule.name",
        hint: "rename the rule, or give it a [shmhunt] revision label",
      });
      continue;
    }
    for (const name of analyticsRuleNames(result.rule)) analyticsNames.set(name, file);
    rules.push(result.rule);
  }
  return { rules, diagnostics };
}

/**
 * The names of the analytics rules a rule deploys, one per target. Sentinel requires them unique in a workspace
 * (learn.microsoft.com/azure/sentinel/scheduled-rules-overview, "Analytics rule name and details": "The name must be
 * unique to your workspace").
 */
function analyticsRuleNames(rule: LoadedRule): string[] {
  if (!rule.settings.deploy.includes("analytics_rule")) return [];
  return rule.settings.targets.map((target) => ruleDisplayName(rule, target));
}
