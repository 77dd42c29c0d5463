/**
 * `shmhunt hunt --once` over a rules folder holding a broken rule file and a rule without generated KQL.
 * docs/service.md, Hunt semantics: "A rule without generated KQL is skipped with a warning"; the project's rule: bad
 * input "gets a clear error naming the file, line and column". The CLI gave the hunt a silent logger: both rules
 * were dropped without a word on stderr, and the run exited 0 as if every rule had been hunted.
 */
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { collect, shmhunt } from "../support/cli-process.js";
import { tempDirs } from "../support/temp-dirs.js";

const root = path.resolve(import.meta.dirname, "../..");
const temp = tempDirs("hunt-warnings");

describe("hunt --once over rules it cannot hunt", () => {
  it("says on stderr which rule file is broken (file:line:column) and which rule has no KQL", async () => {
    const dir = temp();
    const rules = path.join(dir, "rules");
    const kql = path.join(dir, "kql");
    const workspace = path.join(dir, "ws");
    for (const folder of [rules, path.join(kql, "shm-execution"), workspace]) mkdirSync(folder, { recursive: true });
    copyFileSync(path.join(root, "rules", "shm-execution.toml"), path.join(rules, "shm-execution.toml"));
    copyFileSync(path.join(root, "rules", "shm-creation.toml"), path.join(rules, "shm-creation.toml"));
    copyFileSync(path.join(root, "rules", "shm-creation.yar"), path.join(rules, "shm-creation.yar"));
    writeFileSync(path.join(rules, "broken.toml"), '[metadata]\ncreation_date = "2020/01/01"\n[rule\nname = "x"\n');
    writeFileSync(path.join(kql, "shm-execution", "defender.kql"), "DeviceProcessEvents | take 0");
    writeFileSync(path.join(workspace, "DeviceProcessEvents.ndjson"), "");
    const run = collect(
      shmhunt(["hunt", "--once", "--force", "--json"], {
        SHMHUNT_DATA_DIR: path.join(dir, "data"),
        SHMHUNT_RULES_DIR: rules,
        SHMHUNT_KQL_DIR: kql,
        SHMHUNT_WORKSPACE_DIR: workspace,
        SHMHUNT_HUNT_TARGETS: "defender",
      }),
    );
    expect(await run.exit).toBe(0);
    const lines = run.err().trim().split("\n");
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^shmhunt: warning: rule not hunted: .*broken\.toml:4:1: error RULE200: /),
        expect.stringMatching(/^shmhunt: warning: rule not hunted on this target: no generated KQL.*shm-creation/),
      ]),
    );
    expect(lines).toHaveLength(2);
    // The rule that could be hunted still was.
    expect(run.out()).toContain('"status":"completed"');
  }, 60_000);

  it("refuses to run with no rules folder: ./rules missing and SHMHUNT_RULES_DIR unset is an error naming it, exit 1", async () => {
    // It hunted nothing, warned that the folder was a "rule file" that could not be read, and exited 0: a CI job or
    // a cron line reading the exit code took it for a hunt done. An unset SHMHUNT_RULES_DIR's default, ./rules of the
    // working folder, is now required by the hunt as a set one is (SVC601).
    const dir = temp();
    // Empty is unset (loadConfig), whatever the environment running the tests says.
    const run = collect(
      shmhunt(["hunt", "--once", "--force"], { SHMHUNT_DATA_DIR: path.join(dir, "data"), SHMHUNT_RULES_DIR: "" }, dir),
    );
    expect(await run.exit).toBe(1);
    expect(run.out()).toBe("");
    expect(run.err().trim().split("\n")).toEqual([
      `shmhunt: error SVC601: must be a folder that exists, and ${JSON.stringify(path.join(dir, "rules"))} (unset, its default: ./rules of the working folder) does not exist (SHMHUNT_RULES_DIR)`,
    ]);
  }, 60_000);
});
