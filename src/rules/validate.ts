/**
 * `shmhunt validate`: checks rule content and reports diagnostics grouped by file.
 *
 * Each kind of file has a checker (rule TOML: the loader; YARA: src/yara; KQL: Kusto.Language through
 * src/kusto). A checker takes all files of its kind at once, because some checks span files (duplicate rule ids,
 * YARA rule names defined twice). Loaded rules then go through the rule checks the caller gives: the extension point
 * where the layer above plugs in "every target's KQL of this rule is valid" (src/app/validate.ts, `RuleCheck`).
 */
import { Stats } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { Codes, type Diagnostic, fileSystemReason, hasErrors } from "../diagnostics/index.js";
import { defaultRulesDir } from "../yara/rules-location.js";
import { EXCLUSION_COLUMNS } from "./exclusions.js";
import { filesUnder, loadRules } from "./loader.js";
import type { LoadedRule } from "./types.js";

/** Checks every file of one kind. Diagnostics name their file; a diagnostic without one belongs to the set. */
interface FileChecker {
  readonly name: string;
  /** Lower-case extensions with the dot: `.toml`. */
  readonly extensions: readonly string[];
  check(files: readonly string[], context: CheckContext): Promise<readonly Diagnostic[]>;
}

/** A check of a loaded rule beyond its file (e.g. its translation to each target is valid KQL). */
export type RuleCheck = (rule: LoadedRule) => Promise<readonly Diagnostic[]> | readonly Diagnostic[];

interface CheckContext {
  /** Receives every rule that loaded without errors, for the rule checks. */
  readonly onRules: (rules: readonly LoadedRule[]) => void;
}

interface FileReport {
  readonly file: string;
  readonly checker: string;
  readonly diagnostics: readonly Diagnostic[];
  readonly valid: boolean;
}

export interface ValidationReport {
  /** Every file checked, in path order, each with its own diagnostics (possibly none). */
  readonly files: readonly FileReport[];
  /** Diagnostics that belong to no single file (a path that does not exist, a set-wide problem). */
  readonly general: readonly Diagnostic[];
  /** True when nothing anywhere is an error. */
  readonly valid: boolean;
}

const ruleFileChecker: FileChecker = {
  name: "rules",
  extensions: [".toml"],
  async check(files, context) {
    const { rules, diagnostics } = await loadRules(files);
    context.onRules(rules);
    return diagnostics;
  },
};

const yaraFileChecker: FileChecker = {
  name: "yara",
  extensions: [".yar", ".yara"],
  async check(files) {
    const { validateYaraFiles } = await import("../yara/compile.js");
    return validateYaraFiles(files);
  },
};

/** The columns of an exclusion watchlist as deploy writes it (one row per excluded value). */
const EXCLUSION_WATCHLIST_COLUMNS: readonly string[] = EXCLUSION_COLUMNS;

/**
 * Workspace functions kept as KQL files: `<dir>/functions/<Name>.kql` defines the function `<Name>` (the auditd
 * parser, `kql/functions/ShmhuntAuditd.kql`). Looked for beside each checked file and up to two folders above.
 */
async function workspaceFunctions(files: readonly string[]): Promise<{ name: string; body: string }[]> {
  const { readFile } = await import("node:fs/promises");
  const dirs = new Set<string>();
  for (const file of files) {
    let dir = path.dirname(path.resolve(file));
    for (let up = 0; up < 3; up++, dir = path.dirname(dir)) {
      dirs.add(path.basename(dir) === "functions" ? dir : path.join(dir, "functions"));
    }
  }
  const functions = new Map<string, string>();
  for (const dir of dirs) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.endsWith(".kql")).sort()) {
      const fn = name.slice(0, -".kql".length);
      if (!functions.has(fn)) functions.set(fn, await readFile(path.join(dir, name), "utf8"));
    }
  }
  return [...functions].map(([name, body]) => ({ name, body }));
}

/**
 * KQL files (`kql/<rule>/<target>.kql`, `kql/functions/<Name>.kql`), checked with Kusto.Language against
 * shmhunt's table schemas, the workspace functions kept beside them, the targets' source parsers with their
 * parameters (`_Im_ProcessEvent(eventtype=…)`: src/targets), and `_GetWatchlist` returning the exclusion
 * watchlist's columns. The translator may replace this checker (same name) with one that knows more.
 */
const kqlFileChecker: FileChecker = {
  name: "kql",
  extensions: [".kql"],
  async check(files) {
    const { readFile } = await import("node:fs/promises");
    const [{ validateKql }, { sourceFunctions }] = await Promise.all([
      import("../kusto/validate.js"),
      import("../targets/index.js"),
    ]);
    // The files' own functions first; the targets' parsers called with parameters (the ASIM unifying parsers, as
    // Microsoft declares them) where no file of the same name replaces them.
    const own = await workspaceFunctions(files);
    const names = new Set(own.map((f) => f.name));
    const functions = [...own, ...sourceFunctions().filter((f) => !names.has(f.name))];
    const out: Diagnostic[] = [];
    for (const file of files) {
      const text = await readFile(file, "utf8");
      for (const d of validateKql(text, { functions, watchlistColumns: EXCLUSION_WATCHLIST_COLUMNS })) {
        out.push({ ...d, file });
      }
    }
    return out;
  },
};

const defaultCheckers: readonly FileChecker[] = [ruleFileChecker, yaraFileChecker, kqlFileChecker];

interface ValidateOptions {
  readonly checkers?: readonly FileChecker[];
  /** Checks run on every loaded rule (none by default: the translation check lives above, in src/app/validate.ts). */
  readonly ruleChecks?: readonly RuleCheck[];
}

/** What `shmhunt validate` checks when given no paths: ./rules, else the rules shipped with shmhunt. */
export function defaultValidatePaths(cwd: string = process.cwd()): string[] {
  return [defaultRulesDir(cwd)];
}

/**
 * Validates files and directories. A directory contributes every file (recursively) that a checker handles;
 * a file given by name must have a checker, and a path that does not exist is an error.
 */
export async function validateAll(paths: readonly string[], options: ValidateOptions = {}): Promise<ValidationReport> {
  const checkers = options.checkers ?? defaultCheckers;
  const ruleChecks = options.ruleChecks ?? [];
  // Files are named relative to the working directory when inside it, else by absolute path.
  const cwd = process.cwd();
  const display = (file: string): string => {
    const relative = path.relative(cwd, path.resolve(cwd, file));
    return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : path.resolve(file);
  };
  const checkerFor = (file: string) => checkers.find((c) => c.extensions.includes(path.extname(file).toLowerCase()));

  const general: Diagnostic[] = [];
  const byChecker = new Map<FileChecker, string[]>();
  const add = (checker: FileChecker, file: string) => {
    const list = byChecker.get(checker) ?? [];
    if (!list.includes(file)) list.push(file);
    byChecker.set(checker, list);
  };
  for (const given of paths) {
    const info = await stat(given).catch((error: unknown) => error);
    if (!(info instanceof Stats)) {
      general.push({
        code: Codes.RuleToml,
        severity: "error",
        message: `${fileSystemReason(info)}: ${given}`,
        file: given,
      });
    } else if (info.isDirectory()) {
      // Regular files and links to files: a rule linked into the folder is checked as deploy loads it.
      const { files, dangling } = await filesUnder(given);
      for (const file of dangling.filter((f) => checkerFor(f))) {
        general.push({
          code: Codes.RuleToml,
          severity: "error",
          message: `cannot read ${display(file)}: a symbolic link to a file that does not exist`,
          file: display(file),
        });
      }
      for (const file of files) {
        const checker = checkerFor(file);
        if (checker) add(checker, display(file));
      }
    } else {
      const checker = checkerFor(given);
      if (checker) add(checker, display(given));
      else
        general.push({
          code: Codes.RuleToml,
          severity: "error",
          message: `cannot validate ${given}: expected ${checkers.flatMap((c) => c.extensions).join(", ")}`,
          file: given,
        });
    }
  }

  const reports = new Map<string, { checker: string; diagnostics: Diagnostic[] }>();
  const loadedRules: LoadedRule[] = [];
  for (const [checker, files] of byChecker) {
    for (const file of files) reports.set(file, { checker: checker.name, diagnostics: [] });
    const diagnostics = await checker.check(files, { onRules: (rules) => loadedRules.push(...rules) });
    for (const d of diagnostics) {
      const file = d.file === undefined ? undefined : display(d.file);
      const report = file === undefined ? undefined : reports.get(file);
      if (report) report.diagnostics.push({ ...d, file: file as string });
      else general.push(file === undefined ? d : { ...d, file });
    }
  }
  for (const rule of loadedRules) {
    for (const check of ruleChecks) {
      for (const d of await check(rule)) {
        const file = display(d.file ?? rule.file);
        const report = reports.get(file);
        if (report) report.diagnostics.push({ ...d, file });
        else general.push({ ...d, file });
      }
    }
  }

  const files = [...reports.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([file, r]) => ({ file, checker: r.checker, diagnostics: r.diagnostics, valid: !hasErrors(r.diagnostics) }));
  return { files, general, valid: !hasErrors(general) && files.every((f) => f.valid) };
}
