/**
 * Benchmark (not a test): `where` over 1M rows of a generated DeviceProcessEvents NDJSON file.
 *   npx tsx test/workspace/where.bench.ts [rows]
 */

import { once } from "node:events";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openWorkspace } from "../../src/workspace/index.js";

const n = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-bench-"));
try {
  const out = createWriteStream(path.join(dir, "DeviceProcessEvents.ndjson"));
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const shm = i % 1000 === 0;
    const line = `${JSON.stringify({
      Timestamp: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
      DeviceName: `host-${i % 500}`,
      AccountName: i % 3 === 0 ? "root" : "user",
      FolderPath: shm ? `/dev/shm/x${i}` : `/usr/bin/tool${i % 50}`,
      ProcessCommandLine: `tool${i % 50} --flag value-${i}`,
    })}\n`;
    if (!out.write(line)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  console.log(`generated ${n} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const ws = await openWorkspace(dir);
  for (const query of [
    'DeviceProcessEvents | where FolderPath startswith "/dev/shm/" and AccountName == "root" | count',
    'DeviceProcessEvents | where ProcessCommandLine has "value-12345" | count',
    "DeviceProcessEvents | summarize count() by DeviceName | count",
  ]) {
    const t = performance.now();
    const r = await ws.query(query);
    console.log(`${((performance.now() - t) / 1000).toFixed(2)} s  rows=${JSON.stringify(r.rows)}  ${query}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
