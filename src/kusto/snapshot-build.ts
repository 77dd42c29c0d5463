/**
 * Entry of the background process `buildSnapshotInBackground` starts: `node snapshot-build.js <main>` builds the
 * startup snapshot of `<main>` (src/kusto/snapshot.ts) and exits.
 */
import { buildSnapshot } from "./snapshot.js";

const main = process.argv[2];
if (main) buildSnapshot(main);
