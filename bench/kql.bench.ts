/**
 * `npm run bench:kql`: `shmhunt kql` over a 1M-row NDJSON table with one `where`, beside a plain Node loop that
 * reads the same file, parses each line and applies the same filter, in the same run. Both run as fresh
 * processes (the CLI as built: `npm run build` first), wall-clock. Target: the CLI within 2× of the loop.
 *
 *   npm run bench:kql [-- <rows>]
 */
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { machineLoad } from "./machine-load.js";
import { timedNode } from "./timed-process.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "bin/shmhunt.js");
const rows = Number(process.argv[2] ?? 1_000_000);
const query = 'DeviceProcessEvents | where FolderPath startswith "/dev/shm/" and AccountName == "root"';

execFileSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: "inherit" });
const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-bench-kql-"));
try {
  const table = path.join(dir, "DeviceProcessEvents.ndjson");
  const out = createWriteStream(table);
  for (let i = 0; i < rows; i++) {
    const shm = i % 1000 === 0;
    const line = `${JSON.stringify({
      Timestamp: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
      DeviceName: `host-${i % 500}`,
      AccountName: i % 3 === 0 ? "root" : i % 3 === 1 ? "ROOT" : "user",
      FolderPath: shm ? `/DEV/shm/x${i}` : i % 7 === 0 ? `/dev/shm/y${i}` : `/usr/bin/tool${i % 50}`,
      ProcessCommandLine: `tool${i % 50} --flag value-${i}`,
      ProcessId: i,
    })}\n`;
    if (!out.write(line)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");

  // The same filter by hand: `startswith` is case-insensitive, `==` is case-sensitive (kusto-docs).
  const loop = path.join(dir, "loop.mjs");
  writeFileSync(
    loop,
    `import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
let n = 0;
const lines = createInterface({ input: createReadStream(process.argv[2], "utf8"), crlfDelay: Infinity });
for await (const line of lines) {
  if (line === "") continue;
  const r = JSON.parse(line);
  if (String(r.FolderPath ?? "").toLowerCase().startsWith("/dev/shm/") && r.AccountName === "root") {
    process.stdout.write(JSON.stringify(r) + "\\n");
    n++;
  }
}
`,
  );
  const run = (args: readonly string[]) => {
    const t = timedNode(args, root, "pipe");
    return { ...t, lines: t.stdout.split("\n").filter(Boolean).length };
  };
  const plain = run([loop, table]);
  const shmhunt = run([cli, "kql", query, "--workspace", dir, "--json"]);
  const ratio = shmhunt.seconds / plain.seconds;
  console.log(
    [
      `${rows} rows, ${query}`,
      `plain Node loop (read, JSON.parse, filter): ${plain.seconds.toFixed(2)} s, ${plain.lines} rows   (CPU ${plain.cpuSeconds.toFixed(2)} s)`,
      `shmhunt kql --json:                        ${shmhunt.seconds.toFixed(2)} s, ${shmhunt.lines} rows   (CPU ${shmhunt.cpuSeconds.toFixed(2)} s)`,
      `ratio ${ratio.toFixed(2)}×   target ≤ 2×: ${ratio <= 2 ? "met" : "NOT met"}   (CPU ratio ${(shmhunt.cpuSeconds / plain.cpuSeconds).toFixed(2)}×; ${machineLoad()})`,
    ].join("\n"),
  );
  if (plain.lines !== shmhunt.lines) {
    console.log(`the row counts differ (${plain.lines} vs ${shmhunt.lines})`);
    process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
