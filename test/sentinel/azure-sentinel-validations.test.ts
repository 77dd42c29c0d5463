/**
 * The hunting-query YAML of kql/ (render-yaml.ts) against the rules Microsoft's Azure-Sentinel repository applies to
 * a contributed hunting query (github.com/Azure/Azure-Sentinel: the wiki's Query Style Guide and the validations under
 * .script/tests). Expected answers come from those sources, not from shmhunt's code.
 */
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { translateRule } from "../../src/kql/index.js";
import { type LoadedRule, loadRules } from "../../src/rules/index.js";
import { defaultFunctionsDir } from "../../src/sentinel/deploy.js";
import { contentOfRules, ruleOutputs } from "../../src/sentinel/rule-files.js";

const repo = path.resolve(import.meta.dirname, "../..");

/** Every hunting-query YAML file the rules render: kql/ path → text. */
function huntingYaml(rules: readonly LoadedRule[]): Map<string, string> {
  const content = contentOfRules(rules, (r, x) => translateRule(r, x), defaultFunctionsDir());
  const out = new Map<string, string>();
  for (const rule of rules) {
    for (const target of rule.settings.targets) {
      for (const [file, text] of ruleOutputs(rule, target, translateRule(rule, target), content)) {
        if (file.endsWith(".hunting.yaml")) out.set(file, text);
      }
    }
  }
  return out;
}

describe("hunting-query YAML against the Azure-Sentinel repository's rules", () => {
  let rules: readonly LoadedRule[];
  beforeAll(async () => {
    rules = (await loadRules(path.join(repo, "rules"))).rules;
  }, 60_000);

  // Query Style Guide (github.com/Azure/Azure-Sentinel/wiki/Query-Style-Guide), "id": "Required for Detections and
  // Hunting Queries. This is a standard GUID. [...] Must NOT collide with other GUIDs." Microsoft's own hunting
  // queries carry one (Solutions/Endpoint Threat Protection Essentials/Hunting Queries/Certutil-LOLBins.yaml:
  // `id: 0e429446-2798-49e4-924d-c37338f24e23`), and the repository's template id pattern is
  // `[0-9a-fA-F]{8}\-[0-9a-fA-F]{4}\-[0-9a-fA-F]{4}\-[0-9a-fA-F]{4}\-[0-9a-fA-F]{12}` (.script/idValidator.js).
  it("have a GUID id, a different one for each rule and target", () => {
    const files = huntingYaml(rules);
    expect(files.size).toBe(9);
    const ids = [...files].map(([file, text]) => {
      const id = String((parse(text) as { id: unknown }).id);
      expect(id, file).toMatch(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/);
      return id.toLowerCase();
    });
    expect(new Set(ids).size).toBe(ids.length);
  });

  // .script/tests/NonAsciiValidationsTests (NonAsciiValidationsTests.cs, Validate_Hunting_HaveOnlyAsciiChars): the
  // whole text of every hunting-query YAML file must match no `[^\u0000-\u007F]+`. Elastic's rules are not all
  // ASCII (typographic quotes and dashes in names and descriptions); YAML's double-quoted escapes (`\u2019`) keep
  // the text itself.
  it("are ASCII only, and a non-ASCII name or description reads back unchanged", () => {
    const seed = rules.find((r) => r.file.endsWith("shm-execution.toml")) as LoadedRule;
    const rule: LoadedRule = {
      ...seed,
      name: "Binary Executed from Shared Memory – “shm” 🙂",
      description: "Root’s binaries under /dev/shm/ — café\nsecond line é",
    };
    for (const [file, text] of huntingYaml([rule])) {
      expect(text.match(/[^\u0000-\u007F]+/u)?.[0], file).toBeUndefined();
      const doc = parse(text) as { name: string; description: string };
      expect(doc.name, file).toContain("Binary Executed from Shared Memory – “shm” 🙂");
      expect(doc.description.trimEnd(), file).toBe(rule.description);
    }
  });
});
