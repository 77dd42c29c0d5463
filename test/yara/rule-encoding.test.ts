/**
 * A rule file that is not UTF-8 (a Latin-1 `.yar`, as some old public rule sets are). Oracle: the Debian `yara` CLI
 * (libyara 4.x), which compiles the file's bytes as they are and matches a sample holding `caf\xE9 derusbi`. Read as
 * UTF-8, the byte E9 became U+FFFD, and the rule compiled looked for other bytes: it never matched, and nothing said
 * so. The file is refused now, naming its line and column.
 */
import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../src/diagnostics/index.js";
import { compileYaraRules, validateYaraFiles } from "../../src/yara/index.js";
import { tempDir } from "./tmp.js";

describe("a rule file that is not UTF-8", () => {
  let dir: string;
  let remove: () => Promise<void>;
  let rule: string;
  let sample: string;

  beforeAll(async () => {
    ({ dir, remove } = await tempDir("rule-encoding"));
    rule = path.join(dir, "latin1.yar");
    sample = path.join(dir, "sample.bin");
    await writeFile(
      rule,
      Buffer.from('// Latin-1\nrule latin1 {\n  strings: $a = "caf\xe9 derusbi"\n  condition: $a\n}\n', "latin1"),
    );
    await writeFile(sample, Buffer.from("xx caf\xe9 derusbi yy", "latin1"));
  });
  afterAll(() => remove());

  it("is matched by yara on the file's bytes (the oracle)", () => {
    expect(execFileSync("yara", [rule, sample], { encoding: "utf8" })).toMatch(/^latin1 /);
  });

  it("is refused, naming the file, the line and the column of the first byte that is not UTF-8", () => {
    const errors = validateYaraFiles([rule]).filter((d) => d.severity === "error");
    expect(errors.map(formatDiagnostic)).toEqual([
      `${rule}:3:21: error YARA400: the rule file is not UTF-8 (write a byte outside UTF-8 in a string as \\xHH)`,
    ]);
    expect(() => compileYaraRules([rule])).toThrow(/not UTF-8/);
  });

  it("a rule file holding U+FFFD itself (valid UTF-8) is not refused", async () => {
    const valid = path.join(dir, "replacement.yar");
    await writeFile(valid, 'rule replacement { strings: $a = "x\uFFFDy" condition: $a }\n', "utf8");
    expect(validateYaraFiles([valid]).filter((d) => d.severity === "error")).toEqual([]);
  });
});
