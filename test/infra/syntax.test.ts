/**
 * Syntax of every .bicep file under infra/, checked with tree-sitter-bicep (no Bicep compiler runs here): no
 * ERROR or MISSING node anywhere; a failure names file, line and column.
 */

import path from "node:path";
import { describe, expect, it } from "vitest";
import { bicepFiles, formatProblems, infraDir, loadBicep, parseSource, syntaxProblems } from "./bicep.js";

describe("Bicep syntax (tree-sitter-bicep)", () => {
  const files = bicepFiles();

  it("finds the platform files", () => {
    const names = files.map((f) => path.relative(infraDir, f));
    expect(names).toEqual(
      expect.arrayContaining([
        "main.bicep",
        "blob-events.bicep",
        "content/content.bicep",
        "modules/function-app.bicep",
        "modules/identity.bicep",
        "modules/monitoring.bicep",
        "modules/sentinel-access.bicep",
        "modules/storage.bicep",
      ]),
    );
  });

  for (const file of files) {
    it(`${path.relative(infraDir, file)} parses without ERROR or MISSING nodes`, () => {
      const bicep = loadBicep(file);
      const problems = syntaxProblems(bicep.root);
      expect(formatProblems(bicep.relative, problems)).toBe("");
      expect(bicep.root.hasError).toBe(false);
    });
  }

  it("reports the line and column of a syntax error (the check can fail)", () => {
    const broken = [
      "param ok string",
      "",
      "resource s 'Microsoft.Storage/storageAccounts@2023-05-01' = {",
      "  name: 'x'",
      "  properties: {",
      "    allowSharedKeyAccess false",
      "  }",
      "}",
      "",
    ].join("\n");
    const problems = syntaxProblems(parseSource(broken));
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]?.line).toBe(6);
    expect(formatProblems("broken.bicep", problems)).toMatch(/^broken\.bicep:6:\d+: (ERROR|MISSING)/);
  });

  it("reports an unclosed object as MISSING or ERROR", () => {
    const problems = syntaxProblems(parseSource("var o = {\n  a: 1\n"));
    expect(problems.length).toBeGreaterThan(0);
  });
});
