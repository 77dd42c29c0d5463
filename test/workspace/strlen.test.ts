/**
 * strlen counts code points (Kusto docs, strlen-function.md): a surrogate pair is one, a lone surrogate (a code
 * point, though no character) is one. It counts them without building an array of them: over a 64 MiB value that
 * array took ~1.9 GB, so a 32 MiB value is counted here in a Node whose heap (256 MB) the array does not fit.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { openWorkspace, toRecords } from "../../src/workspace/index.js";
import { tempDirs } from "../support/temp-dirs.js";

const temp = tempDirs("strlen");
const workspaceIndex = fileURLToPath(new URL("../../src/workspace/index.ts", import.meta.url));
const tsx = createRequire(import.meta.url).resolve("tsx");

/** A workspace with table T of one string column A, one record per value (JSON keeps lone surrogates as \ud800). */
function workspaceOf(values: readonly string[]): string {
  const dir = temp();
  writeFileSync(path.join(dir, "T.ndjson"), values.map((A) => `${JSON.stringify({ A })}\n`).join(""));
  return dir;
}

async function strlens(values: readonly string[]): Promise<unknown[]> {
  const ws = await openWorkspace(workspaceOf(values));
  return toRecords(await ws.query("T | project n = strlen(A)")).map((r) => r.n);
}

describe("strlen", () => {
  it("counts a surrogate pair as one code point and a lone surrogate as one", async () => {
    expect(
      await strlens(["hello", "⒦⒰⒮⒯⒪", "C\u0327edilla", "a\u{1F600}b", "\ud800x\udc00", "\udc00\ud800", "\ud83d"]),
    ).toEqual([5, 5, 8, 3, 3, 2, 1]);
  });

  it("counts a value of a few MB of astral characters and lone surrogates", async () => {
    const value = `${"\u{1F600}".repeat(1 << 20)}\ud800${"é".repeat(1 << 20)}\udfff`;
    expect(await strlens([value])).toEqual([2 * (1 << 20) + 2]);
  });

  it("counts a 32 MiB value in a 256 MB heap (no array of its code points)", () => {
    const dir = workspaceOf(["\u{1F600}".repeat(8 << 20) + "\ud800"]);
    const script = path.join(temp(), "count.mts");
    writeFileSync(
      script,
      `import { openWorkspace, toRecords } from ${JSON.stringify(workspaceIndex)};
const ws = await openWorkspace(${JSON.stringify(dir)});
process.stdout.write(JSON.stringify(toRecords(await ws.query("T | project n = strlen(A)"))));`,
    );
    const out = execFileSync(process.execPath, ["--max-old-space-size=256", "--import", tsx, script], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    expect(JSON.parse(out)).toEqual([{ n: (8 << 20) + 1 }]);
  }, 60_000);
});
