import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { translationCheck } from "../../src/kql/index.js";
import { loadRuleText } from "../../src/rules/index.js";

const repo = path.resolve(import.meta.dirname, "../..");
const source = readFileSync(path.join(repo, "rules/shm-execution-upstream.toml"), "utf8");

describe("translationCheck (shmhunt validate)", () => {
  it("passes the seed rule on every declared target, reporting approximations as info", () => {
    const { rule } = loadRuleText("rules/shm-execution-upstream.toml", source);
    if (!rule) throw new Error("no rule");
    const diagnostics = translationCheck(rule);
    expect(diagnostics.filter((d) => d.severity !== "info")).toEqual([]);
    expect(diagnostics.some((d) => d.code === "KQL302" && d.message.startsWith("defender: user.id"))).toBe(true);
  });

  it("fails a rule whose query cannot be translated for a declared target, naming the field", () => {
    const changed = source.replace(
      /query = '''[\s\S]*?'''/,
      `query = '''\nprocess where process.entry_leader.entry_meta.type == "container"\n'''`,
    );
    const { rule } = loadRuleText("rules/x.toml", changed);
    if (!rule) throw new Error("no rule");
    const errors = translationCheck(rule).filter((d) => d.severity === "error");
    // no declared target has a counterpart: one error per target (defender, asim, auditd), each naming the field
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatchObject({ code: "KQL300", file: "rules/x.toml" });
    expect(errors.map((e) => e.message.split(":")[0]).sort()).toEqual(
      ["asim", "auditd", "defender"].map((t) => `cannot translate for ${t}`),
    );
    for (const e of errors) expect(e.message).toContain("field 'process.entry_leader.entry_meta.type'");
    expect(errors[0]?.span?.start.line).toBeGreaterThan(1);
  });
});
