/**
 * A rule file holding U+0085, U+2028 or U+2029 (Unicode line separators). The oracle is YARA-X itself: asked to
 * validate `rule a { condition: true <U+2028> }`, the pinned binding panics in its error renderer
 * (annotate-snippets) and aborts the whole process (SIGABRT), so `shmhunt validate` and `shmhunt scan --rules` died
 * with exit 134 instead of naming the file, line and column. Such a file is refused before YARA-X reads it; the
 * same bytes written as `\xHH` escapes in a string compile.
 */
import { spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DiagnosticError, formatDiagnostic } from "../../src/diagnostics/index.js";
import { compileYaraSource, validateYaraFiles } from "../../src/yara/index.js";
import { tempDirs } from "../support/temp-dirs.js";

const SEPARATORS = [
  ["U+0085", "\u0085", "\\xC2\\x85"],
  ["U+2028", "\u2028", "\\xE2\\x80\\xA8"],
  ["U+2029", "\u2029", "\\xE2\\x80\\xA9"],
] as const;
const binding = path.resolve(import.meta.dirname, "../../src/yara/binding.ts");

const temp = tempDirs("line-separators");

describe("a rule file with a Unicode line separator", () => {
  it.each(SEPARATORS)(
    "%s on a line YARA-X reports on aborts YARA-X's own process (the oracle)",
    (_name, char) => {
      const script = [
        `const { loadYaraBinding } = await import(${JSON.stringify(binding)});`,
        `loadYaraBinding().binding.validate(${JSON.stringify(`rule a { condition: true ${char} }`)}, { defineVariables: {} });`,
        `process.stdout.write("returned");`,
      ].join("\n");
      const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
        encoding: "utf8",
      });
      expect(child.stdout).toBe("");
      expect(child.signal).toBe("SIGABRT");
    },
    30_000,
  );

  it.each(SEPARATORS)("%s is refused before YARA-X reads it, naming line and column", async (name, char, escaped) => {
    const dir = temp();
    const file = path.join(dir, `${name}.yar`);
    await writeFile(file, `// a rule set\nrule a { condition: true ${char} }\n`);
    expect(validateYaraFiles([file]).map(formatDiagnostic)).toEqual([
      `${file}:2:26: error YARA400: ${name} (a Unicode line separator) in a rule file: YARA-X cannot report a problem on its line; write it as ${escaped} in a string`,
    ]);
    expect(() => compileYaraSource(`rule a { strings: $s = "${char}" condition: $s }`, "inline.yar")).toThrow(
      DiagnosticError,
    );
    // The same bytes as escapes: compiled, no diagnostic.
    const withEscapes = path.join(dir, `${name}-escaped.yar`);
    await writeFile(withEscapes, `rule a { strings: $s = "${escaped}" condition: $s }\n`);
    expect(validateYaraFiles([withEscapes])).toEqual([]);
  });
});
