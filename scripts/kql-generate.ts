/**
 * `npm run kql:generate`: writes kql/<rule>/<target>.{kql,hunting.yaml,arm.json} for every EQL rule in rules/ and
 * each of its targets. `npm run kql:check` (`--check`) writes nothing and fails listing the files that are stale,
 * missing or no longer generated. A refused target is reported (and has no files); an invalid query fails both.
 */
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { formatDiagnostic } from "../src/diagnostics/index.js";
import { type Translation, translateRule } from "../src/kql/translate.js";
import { loadRules } from "../src/rules/loader.js";
import type { LoadedRule, Target } from "../src/rules/types.js";
import { defaultFunctionsDir } from "../src/sentinel/deploy.js";
import { contentOfRules, GENERATED_MARK, ruleOutputs } from "../src/sentinel/rule-files.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const kqlDir = path.join(root, "kql");
const check = process.argv.includes("--check");

const { rules, diagnostics } = await loadRules(path.join(root, "rules"));
const errors = diagnostics.filter((d) => d.severity === "error");
for (const d of errors) console.error(formatDiagnostic(d));
if (errors.length) process.exit(1);

const eqlRules = rules.filter((rule) => rule.language === "eql");
const translations = new Map<string, Translation>();
const translationOf = (rule: LoadedRule, target: Target): Translation => {
  const key = `${rule.id}\u0000${target}`;
  let t = translations.get(key);
  if (!t) {
    t = translateRule(rule, target);
    translations.set(key, t);
  }
  return t;
};

let failed = false;
for (const rule of eqlRules) {
  for (const target of rule.settings.targets) {
    const t = translationOf(rule, target);
    if (t.refused) console.log(`${path.basename(rule.file)} ${target}: refused: ${t.refused.message}`);
    if (t.diagnostics.length) {
      failed = true;
      for (const d of t.diagnostics)
        console.error(`${path.basename(rule.file)} ${target}: invalid KQL: ${formatDiagnostic(d)}`);
    }
  }
}
if (failed) process.exit(1);

// One content model for all rules (a watchlist shared by rules holds the rows of each), rendered per rule and target.
const content = contentOfRules(eqlRules, translationOf, defaultFunctionsDir());
const expected = new Map<string, string>();
for (const rule of eqlRules) {
  for (const target of rule.settings.targets) {
    for (const [file, text] of ruleOutputs(rule, target, translationOf(rule, target), content))
      expected.set(file, text);
  }
}

/** Generated files on disk: every file under kql/<dir>/ (not kql/functions/) that carries the generated mark. */
async function generatedOnDisk(): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(kqlDir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (!entry.isFile()) continue;
    const rel = path.relative(kqlDir, path.join(entry.parentPath, entry.name)).split(path.sep).join("/");
    if (rel.startsWith("functions/")) continue;
    const text = await readFile(path.join(kqlDir, rel), "utf8");
    if (text.includes(GENERATED_MARK)) out.push(rel);
  }
  return out;
}

const onDisk = await generatedOnDisk();
const stale: string[] = [];
for (const [file, text] of expected) {
  const current = await readFile(path.join(kqlDir, file), "utf8").catch(() => undefined);
  if (current !== text) stale.push(current === undefined ? `${file} (missing)` : file);
}
for (const file of onDisk) if (!expected.has(file)) stale.push(`${file} (no longer generated)`);

if (check) {
  if (stale.length) {
    console.error(
      `KQL320 generated KQL is stale (run npm run kql:generate):\n${stale.map((s) => `  kql/${s}`).join("\n")}`,
    );
    process.exit(1);
  }
  console.log(`kql: ${expected.size} generated files up to date`);
} else {
  for (const [file, text] of expected) {
    await mkdir(path.dirname(path.join(kqlDir, file)), { recursive: true });
    await writeFile(path.join(kqlDir, file), text);
  }
  for (const file of onDisk) if (!expected.has(file)) await rm(path.join(kqlDir, file));
  console.log(`kql: wrote ${expected.size} files${stale.length ? ` (${stale.length} changed)` : ""}`);
}
