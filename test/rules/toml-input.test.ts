/**
 * Rule files as TOML input: what TOML 1.0 (toml.io/en/v1.0.0, and the toml-test suite's cases,
 * github.com/toml-lang/toml-test tests/files-toml-1.0.0) says is valid loads, what it says is invalid is refused
 * with a RULE200 at the offending line and column, and no key crashes the checks. The project's standard: "Bad input
 * gets a clear error naming the file, line and column or the field, and nothing is lost".
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../../src/diagnostics/index.js";
import { loadRuleText } from "../../src/rules/index.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const minimalPath = path.join(repo, "test/rules/fixtures/minimal.toml");

/** `line:column code field` of each diagnostic. */
const where = (diagnostics: readonly Diagnostic[]) =>
  diagnostics.map((d) => `${d.span?.start.line}:${d.span?.start.column} ${d.code} ${d.field ?? ""}`.trim());

async function minimal(): Promise<string> {
  return readFile(minimalPath, "utf8");
}

describe("keys that are names of Object.prototype's members", () => {
  // TOML 1.0 "Keys": any bare key of A-Za-z0-9_- is a key; `constructor` is an unknown key like any other.
  it.each(["constructor", "toString", "hasOwnProperty", "valueOf"])(
    "%s in [rule], [metadata] and [shmhunt] is an unknown key at its line, not a crash",
    async (key) => {
      const base = await minimal();
      const source = base
        .replace("risk_score = 21", `risk_score = 21\n${key} = 1`)
        .replace('maturity = "production"', `maturity = "production"\n${key} = 1`)
        .concat(`\n[shmhunt]\n${key} = 1\n`);
      const { rule, diagnostics } = loadRuleText("proto-keys.toml", source);
      expect(rule).toBeUndefined();
      expect(where(diagnostics)).toEqual([
        `4:1 RULE201 metadata.${key}`,
        `15:1 RULE201 rule.${key}`,
        `35:1 RULE201 shmhunt.${key}`,
      ]);
    },
  );
});
