/**
 * The three state backends a contract test runs on, each a fresh store per call: in memory, the local journal (a
 * fresh folder, the store closed after its test) and Azure Table on Azurite (a fresh table). Call at a test file's
 * top level: it starts Azurite before the file's tests and stops it after.
 */
import { afterAll, beforeAll } from "vitest";
import { createStateStore, MemoryStateStore, type StateStore } from "../../src/store/index.js";
import { type Azurite, startAzurite } from "./azurite.js";
import { localStores } from "./local-stores.js";
import { tempDirs } from "./temp-dirs.js";

export type StateBackend = readonly [name: string, make: () => Promise<StateStore>];

export function stateBackends(prefix: string): readonly StateBackend[] {
  let azurite: Azurite | undefined;
  beforeAll(async () => {
    azurite = await startAzurite();
  });
  afterAll(async () => {
    await azurite?.stop();
  });
  const local = localStores();
  const tempDir = tempDirs(prefix);
  let tables = 0;
  return [
    ["memory", async () => new MemoryStateStore()],
    ["local journal", async () => local(tempDir())],
    [
      "Azure Table (Azurite)",
      async () => {
        if (!azurite) throw new Error("Azurite is not started (stateBackends is called at a test file's top level)");
        return createStateStore({
          kind: "table",
          table: `shmhunt${prefix}${++tables}`,
          access: { connectionString: azurite.connectionString },
        });
      },
    ],
  ];
}
