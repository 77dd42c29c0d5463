/// <reference path="../../node_modules/@kusto/language-service-next/Kusto.Language.Bridge.d.ts" />
/**
 * Lazy loader of Microsoft's Kusto.Language (npm `@kusto/language-service-next`), a Bridge.NET build of the C#
 * library. Loading it costs ~0.7 s and ~100 MB, so nothing in shmhunt imports it at module load: callers ask for
 * it with `kustoLanguage()` when they first need to parse or validate a query.
 *
 * The package is a classic script: `bridge.js` installs the `Bridge` runtime on the global object, then
 * `Kusto.Language.Bridge.js` defines the `Kusto.Language` namespace there. We run both in this context, in the
 * minified builds the package ships beside them (`*.min.js`, the same code: 4 MB instead of 16 MB to read and
 * compile), with V8's code cache: the compiled code of a first run is kept in
 * `node_modules/.cache/shmhunt/` (beside the package, as build tools keep theirs) and handed back to V8 next time,
 * which checks that it matches the source and this V8 (else rejects it, and we compile and write it again).
 * Most of what a short command such as translating one rule waits for is this load.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { Script } from "node:vm";

export type KustoLanguage = typeof Kusto.Language;

let loaded: KustoLanguage | undefined;

const FILES = ["bridge.min.js", "Kusto.Language.Bridge.min.js"] as const;

/** The `Kusto.Language` namespace, loaded on first use (or already there: a process started from snapshot.ts's). */
export function kustoLanguage(): KustoLanguage {
  if (loaded) return loaded;
  loaded = (globalThis as { Kusto?: { Language?: KustoLanguage } }).Kusto?.Language;
  if (loaded) return loaded;
  const { files, version, cacheDir } = kustoLanguageFiles();
  const stale: { file: string; script: Script }[] = [];
  for (const file of files) {
    const name = path.basename(file);
    const cached = cacheDir ? path.join(cacheDir, `${name}-${version}-${process.version}-${process.arch}.v8`) : "";
    const cachedData = cached && existsSync(cached) ? readFileSync(cached) : undefined;
    const script = new Script(readFileSync(file, "utf8"), { filename: file, ...(cachedData ? { cachedData } : {}) });
    script.runInThisContext();
    if (cached && (!cachedData || script.cachedDataRejected)) stale.push({ file: cached, script });
  }
  // Written at exit, so the cache holds the functions compiled while this process used the library too.
  if (stale.length > 0) process.once("exit", () => writeCaches(stale));
  const root = (globalThis as { Kusto?: { Language?: KustoLanguage } }).Kusto;
  if (!root?.Language) throw new Error("@kusto/language-service-next did not define Kusto.Language");
  loaded = root.Language;
  return loaded;
}

/** The package's scripts to run in order, its version, and shmhunt's cache directory beside it (if creatable). */
export function kustoLanguageFiles(): { files: string[]; version: string; cacheDir: string | undefined } {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve("@kusto/language-service-next/package.json");
  const dir = path.dirname(manifest);
  const version = (JSON.parse(readFileSync(manifest, "utf8")) as { version?: string }).version ?? "0";
  return { files: FILES.map((name) => path.join(dir, name)), version, cacheDir: cacheDirectory(dir) };
}

/** `<node_modules>/.cache/shmhunt` for the package in `<node_modules>/@kusto/<name>`, or none if not creatable. */
function cacheDirectory(packageDir: string): string | undefined {
  const nodeModules = path.resolve(packageDir, "..", "..");
  if (path.basename(nodeModules) !== "node_modules") return undefined;
  const dir = path.join(nodeModules, ".cache", "shmhunt");
  try {
    mkdirSync(dir, { recursive: true });
    return dir;
  } catch {
    return undefined;
  }
}

function writeCaches(stale: readonly { file: string; script: Script }[]): void {
  for (const { file, script } of stale) {
    try {
      const temp = `${file}.${process.pid}.tmp`;
      writeFileSync(temp, script.createCachedData());
      renameSync(temp, file);
    } catch {
      // A cache is an optimisation: a read-only install just compiles each time.
    }
  }
}

/** Bridge.NET's runtime type name of an object, e.g. `Kusto.Language.Syntax.FilterOperator`. */
export function bridgeTypeName(value: unknown): string {
  const bridge = (globalThis as { Bridge?: { getTypeName(v: unknown): string } }).Bridge;
  return bridge ? bridge.getTypeName(value) : "";
}

/** The items of a Bridge.NET `IReadOnlyList` (`Count` + `getItem`) as a JS array. */
export function listItems<T>(list: System.Collections.Generic.IReadOnlyList$1<T> | null | undefined): T[] {
  const out: T[] = [];
  if (!list) return out;
  const count = list.Count;
  for (let i = 0; i < count; i++) out.push(list.getItem(i));
  return out;
}
