import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { kustoLanguage, listItems } from "../../src/kusto/index.js";
import { buildSnapshot, readySnapshot, snapshotEnvironment, snapshotPaths } from "../../src/kusto/snapshot.js";

const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-snapshot-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A program for the snapshot: it reports whether Kusto.Language was there before it ran, the diagnostics of a
// query, and exits with a code given on its command line.
const main = path.join(dir, "main.mjs");
writeFileSync(
  main,
  `export async function main(argv) {
  const loaded = typeof globalThis.Kusto?.Language?.KustoCode === "function";
  const L = globalThis.Kusto.Language;
  const code = L.KustoCode.ParseAndAnalyze(argv[2], L.GlobalState.Default);
  const items = code.GetDiagnostics();
  const codes = [];
  for (let i = 0; i < items.Count; i++) codes.push(items.getItem(i).Code);
  process.stdout.write(JSON.stringify({ loaded, codes, argv: argv.slice(2) }));
  return Number(argv[3]);
}
`,
);
/** What `make` returns with `set` in this process's environment (and NODE_OPTIONS), put back after. */
function withEnvironment<T>(set: Record<string, string>, make: () => T): T {
  const saved = { ...process.env };
  Object.assign(process.env, set, { NODE_OPTIONS: "--max-old-space-size=512" });
  try {
    return make();
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  }
}

const query = "print x = 1 | where y == 2 | extend z = tolower(x)";

describe("Kusto.Language startup snapshot", () => {
  it("starts the program with the library loaded, its arguments and exit code as given", () => {
    const paths = snapshotPaths(main);
    if (!paths) return; // a read-only install has no cache directory: nothing to build (launch.ts runs in place)
    const blob = buildSnapshot(main, true);
    expect(blob).toBe(paths.blob);
    expect(readySnapshot(main)).toBe(blob);
    // A caller's extra CA file (here one that cannot be read) is not the snapshot child's to load: Node would warn
    // on its stderr as it starts (src/processes/child-environment.ts).
    const env = withEnvironment({ NODE_EXTRA_CA_CERTS: path.join(dir, "no-such-ca.pem") }, snapshotEnvironment);
    expect(env).not.toHaveProperty("NODE_OPTIONS");
    const run = spawnSync(process.execPath, ["--snapshot-blob", blob as string, main, query, "3"], {
      env,
      encoding: "utf8",
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(3);
    const out = JSON.parse(run.stdout) as { loaded: boolean; codes: string[]; argv: string[] };
    expect(out.loaded).toBe(true);
    expect(out.argv).toEqual([query, "3"]);
    // The same diagnostics as the library loaded in this process (an unknown name `y`, and tolower of a long).
    const L = kustoLanguage();
    const here = listItems(L.KustoCode.ParseAndAnalyze(query, L.GlobalState.Default)?.GetDiagnostics()).map(
      (d) => d.Code,
    );
    expect(here.length).toBeGreaterThan(0);
    expect(out.codes).toEqual(here);
    rmSync(paths.blob, { force: true });
    rmSync(paths.entry, { force: true });
  }, 120_000);

  it("is not found for another program (each blob is named after what it runs)", () => {
    expect(snapshotPaths(main)?.blob).not.toBe(snapshotPaths(path.join(dir, "other.mjs"))?.blob);
    expect(readySnapshot(path.join(dir, "other.mjs"))).toBeUndefined();
  });
});
