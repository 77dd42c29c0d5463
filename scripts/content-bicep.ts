/**
 * `npm run content:generate`: writes infra/content/content.bicep, the Sentinel content of the rules as Bicep
 * (src/sentinel/render-bicep.ts), from the one content model `shmhunt deploy` applies (`buildDesiredContent`).
 * `npm run content:check` (`--check`) writes nothing and fails when the checked-in file is stale.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { translateRule } from "../src/kql/translate.js";
import { placeholderWorkspace } from "../src/sentinel/content-types.js";
import { defaultFunctionsDir, loadValidRules } from "../src/sentinel/deploy.js";
import { buildDesiredContent } from "../src/sentinel/desired.js";
import type { DesiredResource } from "../src/sentinel/plan.js";
import { emitContentBicep } from "../src/sentinel/render-bicep.js";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const contentBicepFile = path.join(repoRoot, "infra", "content", "content.bicep");

// ---------------------------------------------------------------------------------------------------------------
// Command line

/**
 * The desired content of the rules in `rulesDir`, as `shmhunt deploy` computes it (src/sentinel/deploy.ts: every
 * rule validated, the translator for each rule and target, the parser functions of kql/functions), for the
 * placeholder workspace.
 */
export async function desiredFromRules(rulesDir = path.join(repoRoot, "rules")): Promise<DesiredResource[]> {
  const rules = await loadValidRules(rulesDir);
  return buildDesiredContent(rules, {
    workspace: placeholderWorkspace,
    translate: (rule, target) => translateRule(rule, target, { validate: false }),
    functionsDir: defaultFunctionsDir(),
  });
}

export async function generateContentBicep(rulesDir?: string): Promise<string> {
  return emitContentBicep(await desiredFromRules(rulesDir));
}

/**
 * What makes `current` stale against `expected`: the declarations (by their first line: `resource <symbol> …`,
 * `output …`, the header) that were added, removed or changed. Empty when the two are equal.
 */
export function staleDeclarations(current: string | undefined, expected: string): string[] {
  if (current === expected) return [];
  if (current === undefined) return ["(file missing)"];
  const blocks = (text: string) => new Map(text.split("\n\n").map((b) => [b.split("\n")[0] ?? "", b] as const));
  const before = blocks(current);
  const after = blocks(expected);
  const out: string[] = [];
  for (const [head, block] of after) {
    if (!before.has(head)) out.push(`added:   ${head}`);
    else if (before.get(head) !== block) out.push(`changed: ${head}`);
  }
  for (const head of before.keys()) if (!after.has(head)) out.push(`removed: ${head}`);
  return out.length ? out : ["(whitespace or order)"];
}

async function main(argv: readonly string[]): Promise<number> {
  const check = argv.includes("--check");
  const expected = await generateContentBicep();
  const relative = path.relative(repoRoot, contentBicepFile);
  const current = await readFile(contentBicepFile, "utf8").catch(() => undefined);
  const stale = staleDeclarations(current, expected);
  if (check) {
    if (stale.length) {
      console.error(`${relative} is stale: it does not match the rules (run npm run content:generate)`);
      for (const line of stale.slice(0, 20)) console.error(`  ${line}`);
      if (stale.length > 20) console.error(`  … and ${stale.length - 20} more`);
      return 1;
    }
    console.log(`${relative} is up to date`);
    return 0;
  }
  if (stale.length) await writeFile(contentBicepFile, expected);
  console.log(`${relative}: ${stale.length ? `written (${stale.length} declarations changed)` : "unchanged"}`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      // A DiagnosticError's message lists each problem with file, line and column.
      console.error(error instanceof Error ? error.message : String(error));
      process.exit(1);
    },
  );
}
