import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hashColumnsIn, kqlFilePlans } from "../../src/app/plans.js";
import { yaraRuleNames } from "../../src/yara/rule-names.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-plans-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("hunt plans", () => {
  it("reads YARA rule names, not words in comments or strings", () => {
    const source = `// rule commented_out { }
/* rule also_not */
private rule helper { condition: true }
global private rule g { strings: $a = "rule fake // x" condition: $a }
rule Real_One : tag { condition: helper }`;
    expect(yaraRuleNames(source)).toEqual(["helper", "g", "Real_One"]);
  });

  it("joins the rule files with their generated KQL, for the targets hunted, gate names resolved", async () => {
    const kql = path.join(dir, "kql");
    mkdirSync(path.join(kql, "shm-creation"), { recursive: true });
    writeFileSync(path.join(kql, "shm-creation", "defender.kql"), "DeviceFileEvents | take 1");
    writeFileSync(path.join(kql, "shm-creation", "asim.kql"), "_Im_FileEvent | take 1");
    const warnings: string[] = [];
    const logger = { info() {}, error() {}, warn: (_f: object, m: string) => warnings.push(m) };
    const plans = await kqlFilePlans(path.join(repoRoot, "rules"), kql, ["defender"], logger);
    expect(plans.map((p) => [p.rule.name, p.target, p.query])).toEqual([
      [expect.stringMatching(/shared.memory/i), "defender", "DeviceFileEvents | take 1"],
    ]);
    const [creation] = plans;
    expect(creation?.rule).toMatchObject({ intervalMs: 300_000, maxSignals: 100 });
    expect(creation?.rule.gate).toMatchObject({
      mode: "require",
      yaraRules: ["shm-creation.yar", "apt_nix_elf_Derusbi_Linux_SharedMemCreation"],
      pendingTimeoutMs: 24 * 3_600_000,
    });
    // shm-execution has no generated KQL in this directory: said, not silently dropped.
    expect(warnings.some((w) => w.includes("no generated KQL"))).toBe(true);
  });

  it("says a missing rules folder is a folder that hunts nothing, not a rule file (serve's schedule)", async () => {
    const warnings: string[] = [];
    const logger = { info() {}, error() {}, warn: (_f: object, m: string) => warnings.push(m) };
    const missing = path.join(dir, "no-rules-here");
    expect(await kqlFilePlans(missing, path.join(dir, "kql"), ["defender"], logger)).toEqual([]);
    expect(warnings).toEqual([
      `no rule hunted: ${missing}: error RULE200: cannot read the rules folder: no such file or directory`,
    ]);
  });

  it("maps the gate's hash fields to the target's columns, in the rule's order", () => {
    const mapping = {
      sources: [
        { fields: { "process.hash.sha256": { column: "SHA256" }, "file.hash.sha256": undefined } },
        {
          fields: {
            "file.hash.sha256": { column: "SHA256" },
            "process.hash.sha256": { column: "InitiatingProcessSHA256" },
          },
        },
        { fields: { "file.hash.sha256": {} } },
      ],
    };
    expect(hashColumnsIn(mapping, ["file.hash.sha256", "process.hash.sha256"])).toEqual([
      "SHA256",
      "InitiatingProcessSHA256",
    ]);
    expect(hashColumnsIn(mapping, ["process.hash.md5"])).toEqual([]);
    expect(hashColumnsIn(undefined, ["file.hash.sha256"])).toEqual([]);
  });
});
