import fs from "node:fs"; import { spawnSync } from "node:child_process";
const dist = process.argv[2];
const { createScanner, defaultRulesDir } = await import(dist + "/src/yara/index.js");
const f = "/tmp/shmhunt-bench-scan/large.bin";
for (let i = 0; i < 3; i++) {
  const scanner = await createScanner({ rules: [defaultRulesDir()], workers: 2, sha256: "on-match" });
  await scanner.warmUp();
  spawnSync("sync"); fs.writeFileSync("/proc/sys/vm/drop_caches", "1");
  const t = performance.now(); const v = await scanner.scanFile(f); const s = (performance.now() - t) / 1000;
  console.log("cold", v.verdict, (v.size / 1e9 / s).toFixed(2), "GB/s", s.toFixed(3), "s");
  await scanner.close();
}
