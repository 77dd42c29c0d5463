/**
 * Text from a rule in a KQL `//` comment (the generated `kql/<rule>/<target>.kql`, which the hunt runs as its
 * query; `shmhunt translate`'s approximation notes). Oracle: Kusto.Language, Microsoft's parser: it ends a comment
 * at CR and LF and also at U+2028 and U+2029, so a rule name holding U+2028 used to put statements of its own in
 * front of the hunt's query (a `let` shadowing the source table: the hunt found nothing, and the file validated).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { kqlComment } from "../../src/kql/index.js";
import { translateRule } from "../../src/kql/translate.js";
import { parseKql, validateKql } from "../../src/kusto/validate.js";
import { loadRuleText } from "../../src/rules/loader.js";
import { ruleOutputs } from "../../src/sentinel/rule-files.js";
import { elements } from "../../src/workspace/syntax.js";

const statements = (text: string): string[] =>
  elements((parseKql(text).Syntax as unknown as { Statements: unknown }).Statements).map((s) =>
    String((s as unknown as { Kind: unknown }).Kind),
  );

/** Does Kusto.Language end a `//` comment at this character? (The name after it is then read, and unknown.) */
const endsComment = (sep: string) =>
  validateKql(`// comment${sep}print x = zz`).some((d) => d.message.includes("'zz'"));

describe("a KQL comment holding text from outside", () => {
  const candidates = ["\r", "\n", "\r\n", "\u000b", "\u000c", "\u0085", "\u2028", "\u2029"];

  it("the parser ends a comment at CR, LF, U+2028 and U+2029 (the oracle)", () => {
    for (const sep of ["\r", "\n", "\u2028", "\u2029"]) expect(endsComment(sep), JSON.stringify(sep)).toBe(true);
  });

  it("keeps every character the parser would end it at inside the comment", () => {
    for (const sep of candidates) {
      const comment = kqlComment(`name${sep}print x = zz`);
      expect(validateKql(`${comment}\nprint y = 1`), JSON.stringify(sep)).toEqual([]);
    }
  });

  it("a rule name with U+2028 or U+2029 stays in the generated file's header: the file is the query alone", () => {
    const seed = readFileSync(path.join(import.meta.dirname, "../../rules/shm-execution.toml"), "utf8");
    for (const escaped of ["\\u2028", "\\u2029"]) {
      const text = seed.replace(
        'name = "Binary Executed from Shared Memory Directory"',
        `name = "Binary Executed from Shared Memory Directory${escaped}let DeviceProcessEvents = DeviceProcessEvents | where false; //"`,
      );
      const { rule, diagnostics } = loadRuleText("rules/shm-execution.toml", text);
      expect(rule, JSON.stringify(diagnostics)).toBeDefined();
      const t = translateRule(rule!, "defender");
      const file = ruleOutputs(rule!, "defender", t, []).get("shm-execution/defender.kql") as string;
      expect(statements(file)).toEqual(statements(t.kql as string));
    }
  });
});
