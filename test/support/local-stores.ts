/** Local state stores for a test file, each closed after the test that opened it. */

import { afterEach } from "vitest";
import { type LocalStateOptions, LocalStateStore } from "../../src/store/index.js";

/**
 * A maker of LocalStateStores; call it at a test file's top level (it registers the closing). A store left open
 * has its journal's handle closed by the GC, which Node warns of (DEP0137) and means to make an error.
 */
export function localStores(): (dir: string, options?: LocalStateOptions) => LocalStateStore {
  const opened: LocalStateStore[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });
  return (dir, options) => {
    const store = new LocalStateStore(dir, options);
    opened.push(store);
    return store;
  };
}
