import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { kqlComment } from "../../kql/index.js";
import {
  ruleFilesIn,
  type TranslationResult,
  targetsOf,
  translateEql,
  translateRuleFile,
  translateRuleFiles,
} from "../../kql/service.js";
import { REGISTRY, TARGETS } from "../../targets/index.js";
import { CliError, createOutput, type Output, reasonOf } from "../output.js";
import { startProgress } from "../progress.js";

interface TranslateOptions {
  eql?: string;
  target: string;
  out?: string;
  json?: boolean;
}

export function registerTranslate(program: Command): void {
  program
    .command("translate")
    .description(
      `translate rule files (TOML), folders of them, or an EQL query to KQL for ${listed(TARGETS.map((t) => REGISTRY[t].title))}`,
    )
    .argument("[rules...]", "rule files (Elastic detection-rules TOML) or folders (every *.toml under them)")
    .option("--eql <query>", "translate this EQL query instead of rule files")
    .option("--target <target>", `${TARGETS.join(", ")} or all`, "all")
    .option("--out <dir>", "write <dir>/<rule file name>/<target>.kql (required for several rules, unless --json)")
    .option("--json", "one JSON line per rule and target: {rule, target, kql, approximations, refused?}")
    .action(async (rules: string[], options: TranslateOptions) => {
      if ((rules.length === 0) === (options.eql === undefined)) {
        throw new CliError("give either rule files or folders, or --eql '<query>'");
      }
      try {
        targetsOf(options.target);
      } catch (error) {
        throw new CliError(reasonOf(error));
      }
      const out = createOutput(options);
      if (options.eql !== undefined) {
        const eql = options.eql;
        return printOne(out, await recorded(out, "<eql>", async () => translateEql(eql, options.target)));
      }
      const files = await ruleFilesIn(rules);
      const single = rules.length === 1 && files.length === 1 && files[0] === rules[0];
      if (single && options.out === undefined) {
        const file = rules[0] ?? "";
        return printOne(out, await recorded(out, file, () => translateRuleFile(file, options.target)));
      }
      if (options.out === undefined && !options.json) {
        throw new CliError("several rules: give --out <dir> to write them, or --json to print them");
      }
      await translateMany(out, files, options);
    });
}

/**
 * The results of one rule or query; when it cannot be read (an EQL syntax error, a rule file that does not load),
 * with --json its `{rule, error}` line first, as a batch writes it (translateMany), then the error (stderr, exit 1).
 */
async function recorded(
  out: Output,
  rule: string,
  translate: () => Promise<readonly TranslationResult[]>,
): Promise<readonly TranslationResult[]> {
  try {
    return await translate();
  } catch (error) {
    if (out.json) out.record({ rule, error: reasonOf(error) });
    throw error;
  }
}

/** One rule or query on stdout, as before: the KQL (or JSON lines); a refusal or defect exits 1. */
function printOne(out: Output, results: readonly TranslationResult[]): void {
  const many = results.length > 1;
  for (const r of results) {
    const text = r.kql
      ? `${many ? `// ── target: ${r.target}\n` : ""}${kqlText(r)}`
      : `// ── target: ${r.target}: refused: ${r.refused}\n`;
    out.record(r, text);
  }
  const refused = results.filter((r) => r.refused);
  const invalid = results.filter((r) => r.invalid);
  if (invalid.length > 0) {
    throw new CliError(`translator defect: invalid KQL for ${invalid[0]?.target}: ${invalid[0]?.invalid?.[0]}`);
  }
  if (refused.length > 0) {
    throw new CliError(refused.map((r) => `refused for ${r.target}: ${r.refused}`).join("; "));
  }
}

/** The KQL of one result with its approximations as comments above it. */
function kqlText(r: TranslationResult): string {
  return `${r.approximations.map((a) => `${kqlComment(`approximation: ${a}`)}\n`).join("")}${r.kql ?? ""}\n`;
}

/**
 * Many rules in one process: `<out>/<rule file name>/<target>.kql` for each translated rule and target, a JSON line
 * per rule and target with --json. Refusals are results, not failures; a rule file that cannot be loaded, or a
 * query Kusto.Language rejects (a translator defect), makes the exit code 1 after the whole batch.
 */
async function translateMany(out: Output, files: readonly string[], options: TranslateOptions): Promise<void> {
  const names = outputNames(files);
  const progress = startProgress(options.json, {
    label: "translating",
    unit: "rules",
    total: files.length,
    detail: "{refused} refused, {failed} failed",
    payload: { refused: 0, failed: 0 },
  });
  const tally = { translated: 0, refused: 0, failed: 0, written: 0 };
  let firstFailure: string | undefined;
  const fail = (reason: string) => {
    // On a terminal showing the bar, over the bar's line (else the reason ran on after the bar, past the edge).
    if (progress) progress.log(reason);
    else out.info(reason);
    tally.failed++;
    firstFailure ??= reason;
  };
  try {
    for await (const outcome of translateRuleFiles(files, options.target)) {
      const name = names.get(outcome.file) ?? path.basename(outcome.file);
      if (outcome.results === undefined) {
        const reason = reasonOf(outcome.error);
        if (options.json) out.record({ rule: outcome.file, error: reason });
        fail(reason);
      } else {
        for (const r of outcome.results) {
          if (options.json) out.record(r);
          if (r.invalid) fail(`${r.rule}: translator defect: invalid KQL for ${r.target}: ${r.invalid[0]}`);
          else if (r.refused) tally.refused++;
          else tally.translated++;
          if (options.out !== undefined && r.kql !== undefined && !r.invalid) {
            const dir = path.join(options.out, name);
            await mkdir(dir, { recursive: true });
            await writeFile(path.join(dir, `${r.target}.kql`), kqlText(r));
            tally.written++;
          }
        }
      }
      progress?.tick(1, { refused: tally.refused, failed: tally.failed });
    }
  } finally {
    progress?.stop();
  }
  // What was written, truly: nothing when every rule failed or was refused (the folder may not even exist).
  const where =
    options.out === undefined
      ? ""
      : tally.written === 0
        ? `; wrote nothing to ${options.out}`
        : `; wrote ${tally.written} .kql file${tally.written === 1 ? "" : "s"} to ${options.out}`;
  out.info(
    `${files.length} rule files: ${tally.translated} translated, ${tally.refused} refused, ${tally.failed} failed (rule × target)${where}`,
  );
  if (firstFailure !== undefined) throw new CliError(`${tally.failed} failed; first: ${firstFailure}`);
}

/** Each file's output folder: its name without `.toml`; two files of one name are an error before any work. */
function outputNames(files: readonly string[]): Map<string, string> {
  const names = new Map<string, string>();
  const owner = new Map<string, string>();
  for (const file of files) {
    const name = path.basename(file).replace(/\.toml$/i, "");
    const other = owner.get(name);
    if (other !== undefined && path.resolve(other) !== path.resolve(file)) {
      throw new CliError(`two rule files would write to the same folder '${name}': ${other} and ${file}`);
    }
    owner.set(name, file);
    names.set(file, name);
  }
  return names;
}

/** `a, b or c`. */
function listed(items: readonly string[]): string {
  return items.length > 1 ? `${items.slice(0, -1).join(", ")} or ${items.at(-1)}` : (items[0] ?? "");
}
