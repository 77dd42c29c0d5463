/**
 * Lists of choices in `[shmhunt]` naming a choice twice. The standard: "a broken rule file fails validation, never a
 * half-deploy", with an error naming the file, line and column or the field. Until 8 December 2026 a target named
 * twice passed `validate`, then `deploy --plan` stopped with "two desired savedSearch resources are named
 * 'shmhunt-defender-<id>'" (src/sentinel/desired.ts), naming neither the file nor the key.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadRuleText } from "../../src/rules/index.js";

const repo = path.resolve(import.meta.dirname, "../..");
const minimal = () => readFile(path.join(repo, "test/rules/fixtures/minimal.toml"), "utf8");

describe("[shmhunt] targets naming a target twice", () => {
  // docs/rules.md: `targets` is a list of "defender", "asim", "auditd"; RULE203 "wrong type or value … settings
  // values".
  it('targets = ["defender", "defender"] is refused at the second entry', async () => {
    const source = `${await minimal()}\n[shmhunt]\ntargets = ["defender", "defender"]\n`;
    const { rule, diagnostics } = loadRuleText("twice.toml", source);
    expect(rule).toBeUndefined();
    expect(diagnostics.some((d) => d.severity === "error" && d.field === "shmhunt.targets[1]")).toBe(true);
  });
});

describe("[shmhunt] deploy naming a kind twice", () => {
  it('deploy = ["hunting_query", "hunting_query"] is refused at the second entry', async () => {
    const source = `${await minimal()}\n[shmhunt]\ndeploy = ["hunting_query", "hunting_query"]\n`;
    const { rule, diagnostics } = loadRuleText("twice.toml", source);
    expect(rule).toBeUndefined();
    expect(diagnostics.filter((d) => d.severity === "error").map((d) => [d.field, d.message])).toEqual([
      ["shmhunt.deploy[1]", 'repeats "hunting_query"'],
    ]);
  });
});
