import { readFileSync } from "node:fs";
import { utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DiagnosticError, formatDiagnostic } from "../../src/diagnostics/index.js";
import { compileYaraRules, resolveYaraPaths, validateYaraFiles, YaraRuleCache } from "../../src/yara/index.js";
import { seedCreationYara } from "../support/seed-text.js";
import { seedRules, tempDir } from "./tmp.js";

describe("YARA rule compilation", () => {
  let dir: string;
  let remove: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, remove } = await tempDir("yara-compile"));
  });
  afterAll(() => remove());

  it("compiles the seed rules with no diagnostics", () => {
    expect(validateYaraFiles([seedRules])).toEqual([]);
    const set = compileYaraRules([seedRules]);
    expect(set.files.map((f) => path.basename(f.path))).toContain("shm-creation.yar");
    expect(set.id).toMatch(/^[0-9a-f]{64}$/);
    expect(set.source).toContain("0x464C457F");
  });

  it('keeps the seed rule byte for byte as the seed gives it (meta Author = "@seifreed")', () => {
    const text = readFileSync(path.join(seedRules, "shm-creation.yar"), "utf8");
    expect(text).toContain('Author = "@seifreed"');
    expect(text).toBe(seedCreationYara);
  });

  it("names file, line and column of a rule that does not compile (YARA400)", async () => {
    const bad = path.join(dir, "bad.yar");
    await writeFile(
      bad,
      'rule ok { condition: true }\n\nrule broken {\n  strings:\n    $a = "x"\n  condition:\n    $a and nope\n}\n',
    );
    const diagnostics = validateYaraFiles([bad]);
    const errors = diagnostics.filter((d) => d.severity === "error");
    expect(errors).toHaveLength(1);
    const [error] = errors;
    expect(error?.code).toBe("YARA400");
    expect(error?.file).toBe(bad);
    expect(error?.span?.start).toMatchObject({ line: 7, column: 12 });
    expect(error?.span?.end.column).toBe(16);
    expect(error?.message).toMatch(/E009 unknown identifier `nope`/);
    expect(formatDiagnostic(error!)).toMatch(/bad\.yar:7:12: error YARA400: E009 unknown identifier/);
    expect(() => compileYaraRules([bad])).toThrow(DiagnosticError);
  });

  it("reports a syntax error with its position", async () => {
    const bad = path.join(dir, "syntax.yar");
    await writeFile(bad, "rule s {\n  condition:\n    true and\n}\n");
    const [error] = validateYaraFiles([bad]);
    expect(error).toMatchObject({ code: "YARA400", severity: "error", file: bad });
    expect(error?.span?.start.line).toBe(4);
    expect(error?.message).toMatch(/^E001 syntax error/);
  });

  it("finds a rule name defined in two files and names the second file", async () => {
    const set = path.join(dir, "dupes");
    await import("node:fs/promises").then((fs) => fs.mkdir(set, { recursive: true }));
    await writeFile(path.join(set, "a.yar"), "rule same { condition: true }\n");
    await writeFile(path.join(set, "b.yar"), "// second file\nrule same { condition: false }\n");
    const errors = validateYaraFiles([set]).filter((d) => d.severity === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]?.file).toBe(path.join(set, "b.yar"));
    expect(errors[0]?.span?.start.line).toBe(2);
    expect(errors[0]?.message).toMatch(/duplicate rule/);
  });

  it("reports warnings without failing, and an empty or missing rule path as an error", async () => {
    const warn = path.join(dir, "warn.yar");
    await writeFile(warn, 'rule w {\n  strings:\n    $a = "abcd"\n  condition:\n    0 of them\n}\n');
    const diagnostics = validateYaraFiles([warn]);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: "YARA401", severity: "warning", file: warn });
    expect(diagnostics[0]?.span?.start).toMatchObject({ line: 5, column: 5 });
    expect(() => compileYaraRules([warn])).not.toThrow();
    const empty = path.join(dir, "empty-dir");
    await import("node:fs/promises").then((fs) => fs.mkdir(empty, { recursive: true }));
    expect(validateYaraFiles([empty])[0]?.message).toMatch(/no YARA rule files/);
    expect(validateYaraFiles([path.join(dir, "missing.yar")])[0]).toMatchObject({ code: "YARA400", severity: "error" });
  });

  it("lists *.yar and *.yara files of a directory, sorted, not recursing", async () => {
    const set = path.join(dir, "listing");
    const fs = await import("node:fs/promises");
    await fs.mkdir(path.join(set, "nested"), { recursive: true });
    await writeFile(path.join(set, "z.yara"), "rule z { condition: true }\n");
    await writeFile(path.join(set, "a.yar"), "rule a { condition: true }\n");
    await writeFile(path.join(set, "notes.txt"), "not a rule");
    await writeFile(path.join(set, "nested", "n.yar"), "rule n { condition: true }\n");
    expect(resolveYaraPaths([set]).map((f) => path.basename(f))).toEqual(["a.yar", "z.yara"]);
  });

  it("compiles once and recompiles only when a rule file's content changes", async () => {
    const set = path.join(dir, "cached");
    const fs = await import("node:fs/promises");
    await fs.mkdir(set, { recursive: true });
    const file = path.join(set, "r.yar");
    await writeFile(file, "rule first { condition: true }\n");
    const cache = new YaraRuleCache([set]);
    const one = await cache.current();
    expect(await cache.current()).toBe(one);
    // Touched, same content: same rule set identity.
    const later = new Date(Date.now() + 5_000);
    await utimes(file, later, later);
    expect((await cache.current()).id).toBe(one.id);
    await writeFile(file, "rule second { condition: true }\n");
    const two = await cache.current();
    expect(two.id).not.toBe(one.id);
    expect(two.source).toContain("second");
    // A broken edit keeps the last good rule set in use, and is reported (file:line:column), not silent.
    await writeFile(file, "rule third { condition: nope }\n");
    expect(await cache.current()).toBe(two);
    expect(cache.problems()).toEqual([
      expect.objectContaining({
        code: "YARA400",
        file,
        span: expect.objectContaining({ start: expect.objectContaining({ line: 1, column: 25 }) }),
      }),
    ]);
    // Fixed: compiled, and nothing to report.
    await writeFile(file, "rule fourth { condition: true }\n");
    expect((await cache.current()).source).toContain("fourth");
    expect(cache.problems()).toEqual([]);
  });

  it("fails the first compile of a broken rule folder (there is no good set to keep)", async () => {
    const set = path.join(dir, "broken-first");
    const fs = await import("node:fs/promises");
    await fs.mkdir(set, { recursive: true });
    await writeFile(path.join(set, "r.yar"), "rule broken { condition: nope }\n");
    await expect(new YaraRuleCache([set]).current()).rejects.toThrow(/YARA400/);
  });

  it("checks rule files at most once per interval when asked to", async () => {
    const set = path.join(dir, "throttled");
    const fs = await import("node:fs/promises");
    await fs.mkdir(set, { recursive: true });
    const file = path.join(set, "r.yar");
    await writeFile(file, "rule before { condition: true }\n");
    const cache = new YaraRuleCache([set], {}, 60_000);
    const first = await cache.current();
    await writeFile(file, "rule after_the_edit { condition: true }\n");
    expect(await cache.current()).toBe(first);
    expect((await new YaraRuleCache([set]).current()).source).toContain("after_the_edit");
  });
});
