/**
 * `shmhunt translate <folder>` reads "every `*.toml` under them" (docs/kql.md); the rules loader that `validate`,
 * `deploy` and `hunt` use counts a rule file linked into the folder as a rule of the folder, and reports a link that
 * leads nowhere (src/rules/loader.ts, filesUnder). The standard: nothing is lost; a rule file that cannot be read is
 * an error naming it.
 */
import { copyFileSync, symlinkSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli-in-process.js";
import { tempDirs } from "../support/temp-dirs.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const temp = tempDirs("translate-folder");
afterEach(() => {
  process.exitCode = undefined;
});

describe("translate <folder> with rule files linked into it", () => {
  it("translates a rule file that is a symbolic link in the folder, as validate and deploy load it", async () => {
    const dir = temp();
    copyFileSync(path.join(repoRoot, "rules/shm-creation.toml"), path.join(dir, "shm-creation.toml"));
    copyFileSync(path.join(repoRoot, "rules/shm-creation.yar"), path.join(dir, "shm-creation.yar"));
    symlinkSync(path.join(repoRoot, "rules/shm-execution.toml"), path.join(dir, "linked.toml"));

    const validated = await runCli(["validate", dir, "--json"]);
    expect(validated.code).toBe(0);
    // validate checked the linked rule (its translation notes name it)
    expect(validated.stdout).toContain("linked.toml");

    const r = await runCli(["translate", dir, "--target", "defender", "--json"]);
    const rules = r.stdout
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { rule: string }).rule);
    expect(rules).toContain(path.join(dir, "linked.toml"));
  }, 120_000);

  it("a link to a rule file that does not exist fails the batch naming it, as validate does", async () => {
    const dir = temp();
    copyFileSync(path.join(repoRoot, "rules/shm-creation.toml"), path.join(dir, "shm-creation.toml"));
    copyFileSync(path.join(repoRoot, "rules/shm-creation.yar"), path.join(dir, "shm-creation.yar"));
    symlinkSync(path.join(dir, "gone.toml"), path.join(dir, "dangling.toml"));

    const validated = await runCli(["validate", dir]);
    expect(validated.code).toBe(1);
    expect(validated.stderr).toContain("dangling.toml");

    const r = await runCli(["translate", dir, "--target", "defender", "--json"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("dangling.toml");
  }, 120_000);
});
