/**
 * The README's "Layers" section, the ranks dependency-cruiser checks (.dependency-cruiser.cjs) and the folders of
 * src/ name the same folders in the same order: a folder added, removed or moved changes all three or fails here.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";

const repo = path.resolve(import.meta.dirname, "../..");

/** The numbered list under `### Layers`: each rank's folders (the backquoted names before any parenthesis). */
function readmeRanks(): string[][] {
  const readme = readFileSync(path.join(repo, "README.md"), "utf8");
  const section = readme.split(/^### Layers$/m)[1]?.split(/^#{2,3} /m)[0] ?? "";
  return section
    .split("\n")
    .filter((line) => /^\d+\. /.test(line))
    .map((line) => [...(line.split("(")[0] ?? "").matchAll(/`([a-z]+)\/?`/g)].map((m) => m[1] as string))
    .map((folders) => folders.filter((f) => f !== "functions"));
}

/** RANKS of .dependency-cruiser.cjs, read by running the file's own code. */
function cruiserRanks(): string[][] {
  const config = readFileSync(path.join(repo, ".dependency-cruiser.cjs"), "utf8");
  const ranks = /const RANKS = (\[[\s\S]*?\n\]);/.exec(config)?.[1];
  if (!ranks) throw new Error(".dependency-cruiser.cjs: no `const RANKS = [...]`");
  return JSON.parse(ranks.replace(/,(\s*[\]}])/g, "$1").replace(/'/g, '"')) as string[][];
}

describe("the layers", () => {
  it("are the same in the README and in the dependency check", () => {
    expect(readmeRanks()).toEqual(cruiserRanks());
  });

  it("rank every folder of src/, and no folder that does not exist", () => {
    const folders = readdirSync(path.join(repo, "src"), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect(readmeRanks().flat().sort()).toEqual(folders);
  });

  it("the dependency check is a script npm test runs first", () => {
    const manifest = createRequire(import.meta.url)(path.join(repo, "package.json")) as {
      scripts: Record<string, string>;
    };
    expect(manifest.scripts.test).toMatch(/^npm run lint:layers && /);
    expect(manifest.scripts["lint:layers"]).toContain("depcruise src functions --config .dependency-cruiser.cjs");
  });
});
