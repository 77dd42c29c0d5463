/**
 * The README says why each runtime dependency is there (section "Runtime dependencies and why"): every package of
 * package.json's `dependencies` has a row there, and the table names none that is not a dependency.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");

it("every runtime dependency has its row in the README, and every row is a dependency", () => {
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
  const readme = readFileSync(path.join(root, "README.md"), "utf8");
  const section = readme.split("## Runtime dependencies and why")[1]?.split("\n## ")[0] ?? "";
  const named = new Set(
    section
      .split("\n")
      .filter((l) => l.startsWith("| `"))
      .flatMap((l) => [...(l.split(" | ")[0] ?? "").matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? "")),
  );
  const declared = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {})];
  expect(declared.filter((d) => !named.has(d))).toEqual([]);
  expect([...named].filter((n) => !declared.includes(n))).toEqual([]);
});
