/**
 * The paired differential suite (issue 10, section 4): for every Elastic Linux EQL rule of the corpus and every
 * target, the evaluator over the ECS documents Elastic's pipelines made and the translated KQL over the raw records
 * (see differential.ts) must match the same events. The agreement per target is printed and kept as a floor in
 * paired-known.json (it may only go up); every disagreement is listed there with its reason, and a new one fails.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRuleFile } from "../../src/rules/index.js";
import { ruleFilesUnder } from "../../src/rules/loader.js";
import type { LoadedRule } from "../../src/rules/types.js";
import { pairedPresent } from "./corpus.js";
import { compare, type Outcome, openSides, type Side } from "./differential.js";

const repo = path.resolve(import.meta.dirname, "../..");
const corpus = path.resolve(repo, "../shared/corpus/elastic-rules-linux");
const known = JSON.parse(readFileSync(path.join(import.meta.dirname, "paired-known.json"), "utf8")) as {
  floor: Record<string, number>;
  disagreements: Record<string, Record<string, string>>;
};

describe.skipIf(!pairedPresent || !existsSync(corpus))(
  "paired corpus: evaluator (ECS) and KQL (raw rows) agree",
  () => {
    const work = mkdtempSync(path.join(tmpdir(), "shmhunt-paired-"));
    afterAll(() => rmSync(work, { recursive: true, force: true }));
    let sides: Side[];
    const rules: { name: string; rule: LoadedRule }[] = [];

    beforeAll(async () => {
      sides = await openSides(work);
      const files = [
        ...(await ruleFilesUnder(path.join(corpus, "rules_linux"))),
        ...(await ruleFilesUnder(path.join(corpus, "rules_building_block_linux"))),
        ...["shm-execution", "shm-execution-upstream", "shm-creation"].map((s) =>
          path.join(repo, "rules", `${s}.toml`),
        ),
      ];
      for (const file of files) {
        const { rule } = await loadRuleFile(file);
        if (rule?.language === "eql" && rule.query?.ast) rules.push({ name: path.basename(file, ".toml"), rule });
      }
    }, 120_000);

    it("matches the same events on every target", async () => {
      expect(rules.length).toBeGreaterThan(250);
      const report: string[] = [];
      const found: Record<string, Record<string, string>> = {};
      for (const side of sides) {
        let agree = 0;
        let compared = 0;
        let refused = 0;
        let matchedSomething = 0;
        const mine: Record<string, string> = {};
        for (const { name, rule } of rules) {
          const o: Outcome = await compare(rule, side);
          if (o.kind === "refused") {
            refused++;
            continue;
          }
          compared++;
          if (o.kind === "failed") {
            mine[name] = `engine: ${o.reason}`;
            continue;
          }
          if (o.ecs.length || o.kql.length) matchedSomething++;
          if (o.ecs.join() === o.kql.join()) agree++;
          else mine[name] = `evaluator [${o.ecs.join(", ")}] kql [${o.kql.join(", ")}]`;
        }
        found[side.target] = mine;
        report.push(
          `paired agreement ${side.target}: ${agree}/${compared} rules agree (${refused} refused, ${matchedSomething} match an event)`,
          ...Object.entries(mine).map(
            ([n, why]) =>
              `  ${n}: ${why}${known.disagreements[side.target]?.[n] ? ` (known: ${known.disagreements[side.target]?.[n]})` : ""}`,
          ),
        );
        expect.soft(agree, `${side.target} agreement floor`).toBeGreaterThanOrEqual(known.floor[side.target] ?? 0);
      }
      console.log(report.join("\n"));
      for (const side of sides) {
        const unexplained = Object.keys(found[side.target] ?? {}).filter((n) => !known.disagreements[side.target]?.[n]);
        expect.soft(unexplained, `${side.target}: disagreements not in paired-known.json`).toEqual([]);
      }
    }, 600_000);
  },
);
