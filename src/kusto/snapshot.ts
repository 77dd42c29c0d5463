/**
 * A V8 startup snapshot (Node's `--build-snapshot`, Node ≥ 20) of a process that has loaded Kusto.Language and
 * initialised it: the library's classes, `GlobalState.Default` (every built-in function and operator), and the
 * parser and binder warmed on a query. Starting from it skips most of the ~1.5 s (on this machine) a fresh process
 * spends loading the library, which is most of what a short command such as translating one rule waits for.
 *
 * The snapshot runs one program: `main`, an ES module exporting `main(argv): Promise<number>` (the CLI's), loaded
 * when the process starts (`node --snapshot-blob <blob> <main> args…`: `process.argv` is as for `node <main>`).
 * The blob lives beside the code cache (runtime.ts: `node_modules/.cache/shmhunt/`), named after everything it
 * depends on (this Node, the library's version, the builder's text), so a stale blob is never used: it is simply
 * not found. Building takes a few seconds; a read-only install has no cache directory and runs without one.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { localChildEnvironment } from "../processes/child-environment.js";
import { kustoLanguageFiles } from "./runtime.js";
import { parseQuery } from "./validate.js";

/** Where the snapshot for `main` is (or would be) kept; undefined when there is no cache directory. */
export interface SnapshotPaths {
  readonly blob: string;
  /** The builder script, written beside the blob. */
  readonly entry: string;
  /** Present while a build runs (created exclusively, so one build at a time). */
  readonly lock: string;
  /** Present when a build failed for this key: not retried until the key changes. */
  readonly failed: string;
}

export function snapshotPaths(main: string): SnapshotPaths | undefined {
  const { files, version, cacheDir } = kustoLanguageFiles();
  if (!cacheDir) return undefined;
  const source = entrySource(files, main);
  const key = createHash("sha256")
    .update(`${process.version}\0${process.arch}\0${process.platform}\0${process.execPath}\0${version}\0${source}`)
    .digest("hex")
    .slice(0, 16);
  const base = path.join(cacheDir, `kusto-snapshot-${key}`);
  return { blob: `${base}.blob`, entry: `${base}.cjs`, lock: `${base}.lock`, failed: `${base}.failed` };
}

/** The ready blob for `main`, or undefined (none built yet, building, failed, or no cache directory). */
export function readySnapshot(main: string): string | undefined {
  const paths = snapshotPaths(main);
  return paths && existsSync(paths.blob) ? paths.blob : undefined;
}

/**
 * Builds the snapshot for `main` now (synchronously, a few seconds). Returns the blob, or undefined when another
 * process is building it, a previous build failed, or there is no cache directory. `force` rebuilds.
 */
export function buildSnapshot(main: string, force = false): string | undefined {
  const paths = snapshotPaths(main);
  if (!paths) return undefined;
  if (!force && existsSync(paths.blob)) return paths.blob;
  if (!force && existsSync(paths.failed)) return undefined;
  if (!takeLock(paths.lock)) return undefined;
  const temp = `${paths.blob}.${process.pid}.tmp`;
  try {
    const { files } = kustoLanguageFiles();
    writeFileSync(paths.entry, entrySource(files, main));
    const run = spawnSync(process.execPath, ["--snapshot-blob", temp, "--build-snapshot", paths.entry], {
      stdio: ["ignore", "ignore", "pipe"],
      env: snapshotEnvironment(),
    });
    if (run.status !== 0 || !existsSync(temp)) {
      writeFileSync(paths.failed, `exit ${run.status ?? run.signal}\n${run.stderr?.toString() ?? ""}`);
      return undefined;
    }
    renameSync(temp, paths.blob);
    rmSync(paths.failed, { force: true });
    return paths.blob;
  } finally {
    rmSync(temp, { force: true });
    rmSync(paths.lock, { force: true });
  }
}

/** Starts `buildSnapshot(main)` in a detached background process that outlives this one. */
export function buildSnapshotInBackground(main: string): void {
  const paths = snapshotPaths(main);
  if (!paths || existsSync(paths.blob) || existsSync(paths.failed) || existsSync(paths.lock)) return;
  // The builder's entry beside this module (.js when built, .ts when run from source).
  const entry = fileURLToPath(
    new URL(`./snapshot-build${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url),
  );
  try {
    const child = spawn(process.execPath, [entry, main], {
      detached: true,
      stdio: "ignore",
      env: snapshotEnvironment(),
    });
    child.on("error", () => {});
    child.unref();
  } catch {
    // An optimisation: without it, the next run loads the library as this one did.
  }
}

/**
 * The environment for a process started from (or building) a snapshot: a local child's (src/processes/
 * child-environment.ts: no extra CA file parsed at its start, huge pages for malloc), and no NODE_OPTIONS: V8 flags
 * must match the builder's.
 */
export function snapshotEnvironment(): NodeJS.ProcessEnv {
  const env = localChildEnvironment();
  delete env.NODE_OPTIONS;
  return env;
}

/** A lock older than this is a build that died: taken over. */
const STALE_LOCK_MS = 120_000;

function takeLock(lock: string): boolean {
  try {
    if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { force: true });
    closeSync(openSync(lock, "wx"));
    return true;
  } catch {
    return false;
  }
}

/**
 * The builder script (CommonJS, Node built-ins only, as `--build-snapshot` requires): runs the library's scripts
 * in the global scope as runtime.ts does, warms it, and names the program the snapshot starts.
 */
function entrySource(files: readonly string[], main: string): string {
  return `"use strict";
const __name = (f) => f; // a helper some TypeScript runners insert into the functions below
const { readFileSync } = require("node:fs");
const { startupSnapshot } = require("node:v8");
for (const file of ${JSON.stringify(files)}) (0, eval)(readFileSync(file, "utf8") + "\\n//# sourceURL=" + file);
(${warmUp.toString()})(globalThis.Kusto.Language, ${parseQuery.toString()});
startupSnapshot.setDeserializeMainFunction(() => {
  const main = ${JSON.stringify(main)};
  const { createRequire } = require("node:module");
  Promise.resolve()
    .then(() => createRequire(main)(main).main(process.argv))
    .then(
      (code) => { process.exitCode = code; },
      (error) => { process.stderr.write(String(error && error.stack || error) + "\\n"); process.exitCode = 1; },
    );
});
`;
}

/**
 * Runs in the snapshot builder (as source text: it may use only its arguments): what a translation does with the
 * library the first time, on a database shaped like shmhunt's, so the classes it initialises are in the snapshot.
 */
function warmUp(L: typeof Kusto.Language, parse: typeof parseQuery): void {
  const S = L.Symbols;
  const T = S.ScalarTypes;
  const types = [T.String, T.Long, T.Int, T.Real, T.Decimal, T.Bool, T.DateTime, T.TimeSpan, T.Dynamic, T.Guid];
  const columns = types.map((type, i) => new S.ColumnSymbol(`c${i}`, type, null, null, null, null));
  const parameters = S.Parameter.ParseList(
    "(starttime:datetime=datetime(null), names:dynamic=dynamic([]), name:string='*', pack:bool=false)",
  );
  const symbols = [
    new S.TableSymbol.$ctor4("T", columns),
    new S.FunctionSymbol.$ctor14("F", "{ T | where c0 in (names) }", parameters, null),
    new S.FunctionSymbol.$ctor16("W", "(alias:string)", "{ datatable(a:string, b:dynamic)[] }", null),
  ];
  const db = new S.DatabaseSymbol.$ctor3("warm", null, symbols as never, false);
  const globals = L.GlobalState.Default?.WithDatabase(db);
  const g = globals?.WithParseOptions(globals.ParseOptions?.WithAlwaysProduceEndTokens(true) ?? null);
  if (!g) throw new Error("Kusto.Language: no global state");
  const queries = [
    `T | where c0 startswith "/dev/shm/" and c1 > 3 and c0 in~ ("a", "b") and c0 matches regex "^x" | project c0, c6`,
    `union isfuzzy=true (F(starttime=ago(1h))), (T | extend x = tolower(c0) | summarize count() by x, bin(c6, 1h))`,
    `let w = W("x") | project a; T | where c0 has_any (w) and not(c0 endswith "y") | join kind=leftanti (F) on c0`,
  ];
  for (const text of queries) parse(L, text, g).GetDiagnostics();
}
