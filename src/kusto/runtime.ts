/// <reference path="../../node_modules/@kusto/language-service-next/Kusto.Language.Bridge.d.ts" />
/**
 * Lazy loader of Microsoft's Kusto.Language (npm `@kusto/language-service-next`), a Bridge.NET build of the C#
 * library. Loading it costs ~0.7 s and ~100 MB, so nothing in shmhunt imports it at module load: callers ask for
 * it with `kustoLanguage()` when they first need to parse or validate a query.
 *
 * The package is a classic script: `bridge.js` installs the `Bridge` runtime on the global object, then
 * `Kusto.Language.Bridge.js` defines the `Kusto.Language` namespace there. We load both with `createRequire`, in
 * the minified builds the package ships beside them (`*.min.js`, the same code: 4 MB instead of 16 MB to read and
 * compile, which is most of the load time of a short command such as translating one rule).
 */
import { createRequire } from "node:module";

export type KustoLanguage = typeof Kusto.Language;

let loaded: KustoLanguage | undefined;

/** The `Kusto.Language` namespace, loaded on first use. */
export function kustoLanguage(): KustoLanguage {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  require("@kusto/language-service-next/bridge.min.js");
  require("@kusto/language-service-next/Kusto.Language.Bridge.min.js");
  const root = (globalThis as { Kusto?: { Language?: KustoLanguage } }).Kusto;
  if (!root?.Language) throw new Error("@kusto/language-service-next did not define Kusto.Language");
  loaded = root.Language;
  return loaded;
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
