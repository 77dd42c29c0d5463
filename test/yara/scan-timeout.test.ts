/**
 * YARA-X counts a scan's timeout in whole seconds: its scanner checks the timeout against a counter a dedicated thread
 * increments once a second (VirusTotal/yara-x, lib/src/scanner/mod.rs, HEARTBEAT_COUNTER), and its CLI takes
 * `--timeout <SECONDS>` (YARA-X docs, CLI commands). A timeout that is not whole seconds cannot be honoured as given:
 * createScanner refuses it, naming the granularity, instead of rounding it up (500 ms ran as 1 s, 1500 ms as 2 s).
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createScanner } from "../../src/yara/index.js";
import { tempDirs } from "../support/temp-dirs.js";

const temp = tempDirs("scan-timeout");

function rulesFile(): string {
  const file = path.join(temp(), "t.yar");
  writeFileSync(file, "rule t { condition: filesize > 0 }\n");
  return file;
}

describe("createScanner's timeoutMs", () => {
  it.each([500, 1500, 999, 0.5])("refuses %d ms, naming YARA-X's whole seconds", async (timeoutMs) => {
    await expect(createScanner({ rules: [rulesFile()], workers: 1, timeoutMs })).rejects.toThrow(
      new RegExp(`whole seconds, from 1 s to 24 d.*got ${timeoutMs} ms`),
    );
  });

  it.each([0, -1000, 25 * 86_400_000])("refuses %d ms, outside 1 s to 24 d", async (timeoutMs) => {
    await expect(createScanner({ rules: [rulesFile()], workers: 1, timeoutMs })).rejects.toThrow(
      new RegExp(`from 1 s to 24 d.*got ${timeoutMs} ms`),
    );
  });

  it("takes whole seconds, and scans", async () => {
    const rules = rulesFile();
    const scanner = await createScanner({ rules: [rules], workers: 1, timeoutMs: 2000 });
    try {
      expect(await scanner.scanFile(rules)).toMatchObject({ verdict: "match" });
    } finally {
      await scanner.close();
    }
  });
});
