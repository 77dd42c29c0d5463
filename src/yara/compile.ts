/**
 * YARA rule files → one compiled rule set, with diagnostics that name file, line and column.
 *
 * `validateYaraFiles(paths)` is what `shmhunt validate` calls; `compileYaraRules(paths)` is what the scanner
 * uses; `YaraRuleCache` compiles once and recompiles only when a rule file changed (size/mtime, then content hash).
 * Nothing here knows the seed rule: every `*.yar`/`*.yara` file given (or found in a given directory) is compiled.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import {
  Codes,
  type Diagnostic,
  DiagnosticError,
  fileSystemReason,
  firstNotUtf8,
  hasErrors,
  LineMap,
  type Span,
} from "../diagnostics/index.js";
import { type BindingCompileIssue, type ExternalValue, loadYaraBinding } from "./binding.js";
import { cacheKey, readCachedRules, writeCachedRules } from "./compiled-cache.js";
import { derivePrefilter, type Prefilter } from "./prefilter.js";
import { ruleFilesOf } from "./rule-names.js";

const YARA_EXTENSIONS: readonly string[] = [".yar", ".yara"];

export interface YaraCompileOptions {
  /** External variables the rules may use (`var_one = 1`). */
  readonly externals?: Readonly<Record<string, ExternalValue>>;
  /**
   * Keep the compiled set in the user's private cache and take it from there next time (compiled-cache.ts): for
   * one-shot runs, which then skip loading YARA-X, validating and compiling. Default false.
   */
  readonly cacheCompiled?: boolean;
}

export interface RuleFileStamp {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly sha256: string;
}

export interface CompiledRuleSet {
  /** SHA-256 over the rule sources and externals: the identity of this rule set in verdicts. */
  readonly id: string;
  readonly files: readonly RuleFileStamp[];
  /** The rule files joined, as compiled. */
  readonly source: string;
  readonly externals: Readonly<Record<string, ExternalValue>>;
  /** Rule identifier → the file that declares it (its base name, rule-names.ts): what a match's `file` says. */
  readonly ruleFiles: Readonly<Record<string, string>>;
  /** The compiled rules in YARA-X's serialised form, when the binding can serialise (workers deserialise it). */
  readonly serialized?: Uint8Array;
  /**
   * What a sample must hold for any rule to match, when that is provably exact (prefilter.ts); a sample without it
   * gets YARA-X's verdict, no match, without a YARA-X scan.
   */
  readonly prefilter?: Prefilter;
  readonly warnings: readonly Diagnostic[];
}

/**
 * Expands files and directories (non-recursive, like `rules/*.yar`) into the sorted list of YARA files. A path that
 * cannot be read throws a DiagnosticError (YARA400) naming it as given and saying why.
 */
export function resolveYaraPaths(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const given of paths) {
    const resolved = path.resolve(given);
    try {
      if (statSync(resolved).isDirectory()) {
        for (const name of readdirSync(resolved).sort()) {
          if (YARA_EXTENSIONS.includes(path.extname(name).toLowerCase())) files.push(path.join(resolved, name));
        }
      } else {
        files.push(resolved);
      }
    } catch (error) {
      throw new DiagnosticError([fileError(given, `cannot read the rule path: ${fileSystemReason(error)}`)]);
    }
  }
  return [...new Set(files)];
}

interface LoadedFile {
  readonly path: string;
  readonly text: string;
  readonly stamp: RuleFileStamp;
}

/**
 * Checks YARA files: each alone, then all together (a rule name defined in two files is an error of the set).
 * Returns every error and warning; an unreadable path or an empty set is an error too. Never throws.
 */
export function validateYaraFiles(paths: readonly string[], options: YaraCompileOptions = {}): Diagnostic[] {
  return loadAndCheck(paths, options).diagnostics;
}

/** Compiles YARA files into one rule set. Throws DiagnosticError (YARA400, naming file:line:column) on any error. */
export function compileYaraRules(paths: readonly string[], options: YaraCompileOptions = {}): CompiledRuleSet {
  const read = readRuleFiles(paths);
  const externals = options.externals ?? {};
  const idOf = (source: string) =>
    createHash("sha256")
      .update(source)
      .update("\0")
      .update(JSON.stringify(Object.entries(externals).sort()))
      .digest("hex");
  // The cache is keyed on the sources, the externals, the files' paths and lengths (warnings name a file and a line:
  // the same joined text cut between the files elsewhere is another layout) and the binding.
  const key =
    options.cacheCompiled && !hasErrors(read.diagnostics) && read.files.length > 0
      ? cacheKey(`${idOf(joinSources(read.files))}\0${JSON.stringify(read.files.map((f) => [f.path, f.text.length]))}`)
      : undefined;
  const hit = key ? readCachedRules(key) : undefined;
  const { files, diagnostics } = hit
    ? { files: read.files, diagnostics: [...read.diagnostics, ...hit.warnings] }
    : loadAndCheck(paths, options, read);
  if (hasErrors(diagnostics)) throw new DiagnosticError(diagnostics.filter((d) => d.severity === "error"));
  const source = joinSources(files);
  let serialized: Uint8Array | undefined = hit?.serialized;
  if (!hit) {
    const rules = loadYaraBinding().binding.compile(source, { defineVariables: externals });
    const bytes = rules.serialize?.();
    serialized = bytes ? new Uint8Array(bytes) : undefined;
    if (key && serialized) writeCachedRules(key, { serialized, warnings: diagnostics });
  }
  const prefilter = derivePrefilter(source);
  return {
    id: idOf(source),
    files: files.map((f) => f.stamp),
    source,
    externals,
    ruleFiles: ruleFilesOf(files),
    ...(serialized ? { serialized } : {}),
    ...(prefilter ? { prefilter } : {}),
    warnings: diagnostics,
  };
}

/** Compiles source text given in memory (tests, ad-hoc rules); `name` stands in for the file in diagnostics. */
export function compileYaraSource(text: string, name: string, options: YaraCompileOptions = {}): CompiledRuleSet {
  const stamp: RuleFileStamp = { path: name, size: Buffer.byteLength(text), mtimeMs: 0, sha256: sha256(text) };
  const file: LoadedFile = { path: name, text, stamp };
  const separator = lineSeparatorIn(text, name);
  if (separator) throw new DiagnosticError([separator]);
  const diagnostics = checkFile(file, options);
  if (hasErrors(diagnostics)) throw new DiagnosticError(diagnostics.filter((d) => d.severity === "error"));
  const externals = options.externals ?? {};
  const rules = loadYaraBinding().binding.compile(text, { defineVariables: externals });
  const serialized = rules.serialize?.();
  const prefilter = derivePrefilter(text);
  return {
    id: createHash("sha256")
      .update(text)
      .update("\0")
      .update(JSON.stringify(Object.entries(externals).sort()))
      .digest("hex"),
    files: [stamp],
    source: text,
    externals,
    ruleFiles: ruleFilesOf([file]),
    ...(serialized ? { serialized: new Uint8Array(serialized) } : {}),
    ...(prefilter ? { prefilter } : {}),
    warnings: diagnostics,
  };
}

/** How the cache compiles: in process by default; the scanner compiles off its thread (compile-thread.ts). */
type RuleCompiler = (paths: readonly string[], options: YaraCompileOptions) => Promise<CompiledRuleSet>;

/**
 * The compiled rule set for a fixed list of paths, recompiled when a file changes. `current()` stats the files
 * (cheap); only a changed size or mtime makes it read and hash them, and only a changed hash recompiles.
 *
 * A change that does not compile (a broken `.yar` dropped into the folder) keeps the last good rule set in use and
 * is reported by `problems()` (file:line:column), until the files change again; only the very first compile fails.
 */
export class YaraRuleCache {
  private cached: CompiledRuleSet | undefined;
  private checkedAt = 0;
  private checking: Promise<boolean> | undefined;
  private compiling: Promise<CompiledRuleSet> | undefined;
  private failed: { readonly signature: string; readonly diagnostics: readonly Diagnostic[] } | undefined;

  /** `checkIntervalMs`: how often, at most, the rule files are stat()ed for changes (0: on every call). */
  constructor(
    private readonly paths: readonly string[],
    private readonly options: YaraCompileOptions = {},
    private readonly checkIntervalMs = 0,
    private readonly compile: RuleCompiler = async (p, o) => compileYaraRules(p, o),
  ) {}

  /** Why the rule files on disk are not the rule set in use (empty when they are). */
  problems(): readonly Diagnostic[] {
    return this.failed?.diagnostics ?? [];
  }

  async current(): Promise<CompiledRuleSet> {
    const cached = this.cached;
    if (!cached) return this.recompile(undefined);
    if (performance.now() - this.checkedAt < this.checkIntervalMs) return cached;
    // Concurrent callers share one check.
    this.checking ??= unchanged(cached, this.paths).finally(() => {
      this.checking = undefined;
    });
    const same = await this.checking;
    if (this.cached !== cached && this.cached) return this.cached; // another caller recompiled meanwhile
    if (same) {
      this.checkedAt = performance.now();
      this.failed = undefined; // the files are the good set again
      return cached;
    }
    // A broken change already reported is not compiled again until the files change once more.
    const now = await signature(this.paths);
    if (this.failed?.signature === now) {
      this.checkedAt = performance.now();
      return cached;
    }
    try {
      return await this.recompile(cached);
    } catch (error) {
      this.failed = { signature: now, diagnostics: diagnosticsOf(error) };
      this.checkedAt = performance.now();
      return this.cached ?? cached;
    }
  }

  private async recompile(previous: CompiledRuleSet | undefined): Promise<CompiledRuleSet> {
    this.compiling ??= this.compile(this.paths, this.options).finally(() => {
      this.compiling = undefined;
    });
    const next = await this.compiling;
    this.checkedAt = performance.now();
    this.failed = undefined;
    const current = this.cached ?? previous;
    // Same content (a touch): keep the old identity so workers are not sent the same rules again.
    this.cached =
      current && current.id === next.id && sameFiles(current, next) ? { ...current, files: next.files } : next;
    return this.cached;
  }
}

/** The files' names, sizes and modification times: what tells one state of the rule folder from another. */
async function signature(paths: readonly string[]): Promise<string> {
  let files: string[];
  try {
    files = resolveYaraPaths(paths);
  } catch (error) {
    return `unreadable: ${messageOf(error)}`;
  }
  const stamps = await Promise.all(
    files.map(async (file) => {
      const info = await stat(file).catch(() => undefined);
      return [file, info?.size, info?.mtimeMs];
    }),
  );
  return JSON.stringify(stamps);
}

function diagnosticsOf(error: unknown): Diagnostic[] {
  if (error instanceof DiagnosticError) return [...error.diagnostics];
  return [fileError(undefined, `the rules could not be compiled: ${messageOf(error)}`)];
}

async function unchanged(set: CompiledRuleSet, paths: readonly string[]): Promise<boolean> {
  let files: string[];
  try {
    files = resolveYaraPaths(paths);
  } catch {
    return false;
  }
  if (files.length !== set.files.length) return false;
  for (const [i, file] of files.entries()) {
    const stamp = set.files[i];
    if (!stamp || stamp.path !== file) return false;
    const now = await stat(file).catch(() => undefined);
    if (!now || now.size !== stamp.size || now.mtimeMs !== stamp.mtimeMs) return false;
  }
  return true;
}

/**
 * The same files, each with the same content: the same joined text (the same id) cut between the files elsewhere (a
 * rule moved from the end of one file to the start of the next) is another set, whose rules and warnings name other
 * files and lines.
 */
function sameFiles(a: CompiledRuleSet, b: CompiledRuleSet): boolean {
  return (
    a.files.length === b.files.length &&
    a.files.every((f, i) => f.path === b.files[i]?.path && f.sha256 === b.files[i]?.sha256)
  );
}

function loadAndCheck(
  paths: readonly string[],
  options: YaraCompileOptions,
  read: { files: LoadedFile[]; diagnostics: Diagnostic[] } = readRuleFiles(paths),
): { files: LoadedFile[]; diagnostics: Diagnostic[] } {
  const { files } = read;
  const diagnostics = [...read.diagnostics];
  for (const file of files) diagnostics.push(...checkFile(file, options));
  if (!hasErrors(diagnostics) && files.length > 1) {
    // Each file compiles alone; now the set (duplicate rule names across files, cross-file references).
    const combined = joinSources(files);
    const result = loadYaraBinding().binding.validate(combined, { defineVariables: options.externals ?? {} });
    const starts = lineStarts(files);
    for (const issue of result.errors) diagnostics.push(toDiagnostic(issue, "error", undefined, starts));
  }
  return { files, diagnostics };
}

/** The rule files' text and stamps (no YARA-X involved); unreadable paths become diagnostics. */
function readRuleFiles(paths: readonly string[]): { files: LoadedFile[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const files: LoadedFile[] = [];
  let resolved: string[] = [];
  try {
    resolved = resolveYaraPaths(paths);
  } catch (error) {
    diagnostics.push(...diagnosticsOf(error));
  }
  if (resolved.length === 0 && diagnostics.length === 0) {
    diagnostics.push(fileError(paths.join(", "), "no YARA rule files (*.yar, *.yara) found"));
  }
  for (const file of resolved) {
    try {
      // The stamp taken before the bytes: a save landing between the two then leaves a stamp older than the file,
      // and the next check compiles again; taken after, it would describe the new file while the old text is the one
      // compiled, and no later check would see a change.
      const info = statSync(file);
      const bytes = readFileSync(file);
      // UTF-8 or refused: a byte that is not would be read as U+FFFD, and a string holding it would be compiled
      // into another string than the file's (yara matches the file's bytes), silently never matching.
      const invalid = firstNotUtf8(bytes);
      if (invalid) {
        diagnostics.push({
          ...fileError(file, "the rule file is not UTF-8 (write a byte outside UTF-8 in a string as \\xHH)"),
          span: invalid.span,
        });
        continue;
      }
      const text = bytes.toString("utf8");
      const separator = lineSeparatorIn(text, file);
      if (separator) {
        diagnostics.push(separator);
        continue;
      }
      files.push({
        path: file,
        text,
        stamp: { path: file, size: info.size, mtimeMs: info.mtimeMs, sha256: sha256(bytes) },
      });
    } catch (error) {
      diagnostics.push(fileError(file, `cannot read the rule file: ${fileSystemReason(error)}`));
    }
  }
  return { files, diagnostics };
}

function checkFile(file: LoadedFile, options: YaraCompileOptions): Diagnostic[] {
  const result = loadYaraBinding().binding.validate(file.text, { defineVariables: options.externals ?? {} });
  const lines = new LineMap(file.text);
  return [
    ...result.errors.map((issue) => toDiagnostic(issue, "error", { path: file.path, lines })),
    ...result.warnings.map((issue) => toDiagnostic(issue, "warning", { path: file.path, lines })),
  ];
}

function joinSources(files: readonly LoadedFile[]): string {
  return files.map((f) => (f.text.endsWith("\n") ? f.text : `${f.text}\n`)).join("");
}

interface FileStart {
  readonly path: string;
  readonly firstLine: number;
  readonly lines: LineMap;
}

function lineStarts(files: readonly LoadedFile[]): FileStart[] {
  let line = 1;
  return files.map((f) => {
    const text = f.text.endsWith("\n") ? f.text : `${f.text}\n`;
    const start = { path: f.path, firstLine: line, lines: new LineMap(f.text) };
    line += text.split("\n").length - 1;
    return start;
  });
}

/**
 * YARA-X reports `error[E009]: unknown identifier `foo`` followed by ` --> line:2:13` and a source excerpt whose
 * carets mark the span and carry a label. This keeps the code, the title, the label, and the position.
 */
function toDiagnostic(
  issue: BindingCompileIssue,
  severity: "error" | "warning",
  file: { path: string; lines: LineMap } | undefined,
  starts?: readonly FileStart[],
): Diagnostic {
  const text = issue.message;
  const title = (text.split("\n")[0] ?? text).replace(/^(error|warning)\[[^\]]*\]:\s*/, "");
  const where = /-->\s*\S*?:(\d+):(\d+)/.exec(text);
  const caret = /\n\s*\|\s*([\^-]+)\s*(.*)/.exec(text);
  const label = caret?.[2]?.trim();
  const message = `${issue.code} ${title}${label ? `: ${label}` : ""}`;
  const code = severity === "error" ? Codes.YaraCompile : Codes.YaraCompileWarning;
  if (!where) return { code, severity, message, ...(file ? { file: file.path } : {}) };
  let line = Number(where[1]);
  const column = Number(where[2]);
  let target = file;
  if (!target && starts) {
    const owner = [...starts].reverse().find((s) => s.firstLine <= line);
    if (owner) {
      target = { path: owner.path, lines: owner.lines };
      line = line - owner.firstLine + 1;
    }
  }
  const length = caret?.[1]?.length ?? 1;
  return {
    code,
    severity,
    message,
    ...(target ? { file: target.path, span: spanAt(target.lines, line, column, length) } : {}),
  };
}

function spanAt(lines: LineMap, line: number, column: number, length: number): Span {
  const text = lines.text;
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf("\n", offset);
    if (next < 0) break;
    offset = next + 1;
  }
  // YARA-X counts a column in characters (code points): a character beyond the BMP before it (an emoji) is one
  // column there and two UTF-16 units here.
  let start = offset;
  for (let c = 1; c < column && start < text.length && text[start] !== "\n"; c++) {
    const unit = text.charCodeAt(start);
    start += unit >= 0xd800 && unit <= 0xdbff && start + 1 < text.length ? 2 : 1;
  }
  start = Math.min(start, text.length);
  return lines.span(start, Math.min(start + length, text.length));
}

/**
 * The first U+0085, U+2028 or U+2029 in a rule file, refused before YARA-X reads it: YARA-X (1.20, through
 * annotate-snippets 0.12) panics and aborts the whole process when it reports an error or a warning on a line that
 * holds one of them (`rule a { condition: true <U+2028> }` makes `shmhunt validate` exit 134). A rule that needs
 * those bytes writes them as `\xHH` escapes in a string (U+2028 is `\xE2\x80\xA8`).
 */
function lineSeparatorIn(text: string, file: string): Diagnostic | undefined {
  const at = text.search(/[\u0085\u2028\u2029]/);
  if (at < 0) return undefined;
  const code = (text.codePointAt(at) ?? 0).toString(16).toUpperCase().padStart(4, "0");
  const bytes = [...Buffer.from(text[at] ?? "", "utf8")].map((b) => `\\x${b.toString(16).toUpperCase()}`).join("");
  return {
    ...fileError(
      file,
      `U+${code} (a Unicode line separator) in a rule file: YARA-X cannot report a problem on its line; write it as ${bytes} in a string`,
    ),
    span: new LineMap(text).span(at, at + 1),
  };
}

function fileError(file: string | undefined, message: string): Diagnostic {
  return { code: Codes.YaraCompile, severity: "error", message, ...(file ? { file } : {}) };
}

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
