import type { Command } from "commander";
import { translateEql, translateRuleFile } from "../../kql/service.js";
import { REGISTRY, TARGETS } from "../../targets/index.js";
import { CliError, createOutput } from "../output.js";

interface TranslateOptions {
  eql?: string;
  target: string;
  json?: boolean;
}

export function registerTranslate(program: Command): void {
  program
    .command("translate")
    .description(
      `translate a rule file (TOML) or an EQL query to KQL for ${listed(TARGETS.map((t) => REGISTRY[t].title))}`,
    )
    .argument("[rule]", "rule file (Elastic detection-rules TOML)")
    .option("--eql <query>", "translate this EQL query instead of a rule file")
    .option("--target <target>", `${TARGETS.join(", ")} or all`, "all")
    .option("--json", "one JSON line per target: {rule, target, kql, approximations, refused?}")
    .action(async (rule: string | undefined, options: TranslateOptions) => {
      if ((rule === undefined) === (options.eql === undefined)) {
        throw new CliError("give either a rule file or --eql '<query>'");
      }
      const out = createOutput(options);
      let results: Awaited<ReturnType<typeof translateRuleFile>>;
      try {
        results =
          rule !== undefined
            ? await translateRuleFile(rule, options.target)
            : translateEql(options.eql ?? "", options.target);
      } catch (error) {
        if (error instanceof Error && error.message.startsWith("unknown target")) throw new CliError(error.message);
        throw error;
      }
      const many = results.length > 1;
      for (const r of results) {
        const text = r.kql
          ? `${many ? `// ── target: ${r.target}\n` : ""}${r.approximations.map((a) => `// approximation: ${a}\n`).join("")}${r.kql}\n`
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
    });
}

/** `a, b or c`. */
function listed(items: readonly string[]): string {
  return items.length > 1 ? `${items.slice(0, -1).join(", ")} or ${items.at(-1)}` : (items[0] ?? "");
}
