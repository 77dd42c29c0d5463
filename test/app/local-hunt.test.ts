/** The embedded default end to end: rules + KQL files + a local workspace directory → hits → local incidents. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createServices } from "../../src/app/compose.js";
import { loadConfig } from "../../src/app/config.js";
import { exclusionWatchlists, LocalWorkspaceQueryRunner } from "../../src/app/local-queries.js";
import { loadRules } from "../../src/rules/index.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-local-hunt-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A hand-written stand-in for the generated query (the translator writes kql/ in the repo). */
const QUERY = `DeviceProcessEvents
| where ActionType == "ProcessCreated" and AccountName == "root"
| where FolderPath startswith "/dev/shm/" or FolderPath startswith "/run/shm/"`;

function event(time: string, folder: string, pid: number, account = "root") {
  return {
    TimeGenerated: time,
    Timestamp: time,
    DeviceId: "d1",
    DeviceName: "web-01",
    ActionType: "ProcessCreated",
    AccountName: account,
    FolderPath: folder,
    FileName: path.basename(folder),
    ProcessId: pid,
    ProcessCommandLine: folder,
    SHA256: "ab".repeat(32),
    ReportId: pid,
  };
}

describe("embedded default: hunting a local workspace", () => {
  it("runs the rule's KQL over the workspace window and alerts each event once", async () => {
    const workspace = path.join(dir, "workspace");
    const kql = path.join(dir, "kql");
    mkdirSync(workspace, { recursive: true });
    mkdirSync(path.join(kql, "shm-execution"), { recursive: true });
    writeFileSync(path.join(kql, "shm-execution", "defender.kql"), QUERY);
    const events = [
      event("2026-03-01T09:58:00Z", "/dev/shm/x", 1), // in both windows
      event("2026-03-01T09:56:00Z", "/usr/bin/true", 2), // not shared memory
      event("2026-03-01T09:57:00Z", "/run/shm/y", 3, "www-data"), // not root
      event("2026-03-01T09:40:00Z", "/dev/shm/old", 4), // before the first window
      event("2026-03-01T10:03:00Z", "/dev/shm/z", 5),
    ];
    writeFileSync(path.join(workspace, "DeviceProcessEvents.ndjson"), events.map((e) => JSON.stringify(e)).join("\n"));
    let now = new Date("2026-03-01T10:00:00Z");
    const config = loadConfig(
      {
        SHMHUNT_DATA_DIR: dir,
        SHMHUNT_RULES_DIR: path.join(repoRoot, "rules"),
        SHMHUNT_KQL_DIR: kql,
        SHMHUNT_WORKSPACE_DIR: workspace,
      },
      repoRoot,
    );
    const services = await createServices(config, { clock: () => now, scanner: null });
    try {
      expect(services.backends.queries).toBe("local-workspace");
      const first = await services.hunt.run();
      expect(first.runs).toHaveLength(1);
      expect(first.runs[0]).toMatchObject({ status: "completed", counts: { rows: 1, alerted: 1 } });
      now = new Date("2026-03-01T10:05:00Z");
      const second = await services.hunt.run();
      expect(second.runs[0]).toMatchObject({ status: "completed", counts: { rows: 2, duplicate: 1, alerted: 1 } });
      const incidents = await services.hunt.incidents();
      expect(incidents.map((i) => i.evidence.row.FolderPath).sort()).toEqual(["/dev/shm/x", "/dev/shm/z"]);
      expect(incidents[0]?.evidence.query).toBe(QUERY);
    } finally {
      await services.close();
    }
  });

  it("serves the rules' exclusions as the watchlists the queries read", async () => {
    const { rules } = await loadRules(path.join(repoRoot, "rules"));
    const watchlists = exclusionWatchlists(rules);
    const [alias] = Object.keys(watchlists);
    expect(alias).toBeDefined();
    expect(watchlists[alias!]!.items).toContainEqual({
      Scenario: "package managers",
      Field: "process.name",
      Operator: "==",
      Value: "dpkg",
      Comment: "", // the rows deploy writes, Comment column included (src/rules/exclusions.ts)
    });
    const workspace = path.join(dir, "empty-workspace");
    mkdirSync(workspace, { recursive: true });
    const runner = new LocalWorkspaceQueryRunner(workspace, async () => watchlists);
    const window = { start: new Date("2026-03-01T00:00:00Z"), end: new Date("2026-03-01T01:00:00Z") };
    const outcome = await runner.run(
      `_GetWatchlist('${alias}') | where Scenario == "schedulers" | project Value`,
      window,
    );
    expect(outcome.ok && outcome.rows.map((r) => r.Value)).toEqual(expect.arrayContaining(["cron", "systemd"]));
    const bad = await runner.run("NoSuchTable | take 1", window);
    expect(bad).toMatchObject({ ok: false, error: expect.stringContaining("NoSuchTable") });
  });
});
