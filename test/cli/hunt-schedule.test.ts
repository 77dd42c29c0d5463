import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { collect, shmhunt } from "../support/cli-process.js";
import { until as untilWithin } from "../support/until.js";

const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-hunt-schedule-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Up to 30 s: a child process starts Node and the CLI. */
const until = (check: () => boolean, what: string) => untilWithin(check, what, 30_000);

describe("shmhunt hunt (on the schedule)", () => {
  it("runs the hunts and keeps running until SIGINT, then exits 0", async () => {
    // docs/service.md, Commands: "`shmhunt hunt` | the same on the schedule (`SHMHUNT_HUNT_TICK`) until
    // SIGINT/SIGTERM". It used to exit at once with code 13 (Node's unsettled top-level await: the schedule's timer
    // was unref'd and nothing else held the process), no hunt run and nothing on stderr.
    const workspace = path.join(dir, "ws");
    const kql = path.join(dir, "kql");
    const rules = path.join(dir, "rules");
    mkdirSync(rules, { recursive: true });
    copyFileSync(
      path.resolve(import.meta.dirname, "../../rules/shm-execution.toml"),
      path.join(rules, "shm-execution.toml"),
    );
    mkdirSync(workspace, { recursive: true });
    mkdirSync(path.join(kql, "shm-execution"), { recursive: true });
    writeFileSync(path.join(kql, "shm-execution", "defender.kql"), "DeviceProcessEvents | take 0");
    writeFileSync(path.join(workspace, "DeviceProcessEvents.ndjson"), "");
    const child = shmhunt(["hunt", "--json"], {
      SHMHUNT_DATA_DIR: path.join(dir, "data"),
      SHMHUNT_RULES_DIR: rules,
      SHMHUNT_KQL_DIR: kql,
      SHMHUNT_WORKSPACE_DIR: workspace,
      SHMHUNT_HUNT_TARGETS: "defender",
    });
    const io = collect(child);
    let exited: number | null | undefined;
    void io.exit.then((code) => {
      exited = code;
    });
    await until(() => io.out().includes('"type":"sweep"') || exited !== undefined, "the first run");
    expect({ exited, err: io.err() }).toEqual({ exited: undefined, err: "" });
    // Still running after its first tick (the next one is a minute away).
    await new Promise((r) => setTimeout(r, 500));
    expect(exited).toBeUndefined();
    child.kill("SIGINT");
    expect(await io.exit).toBe(0);
    expect(io.out()).toContain('"type":"run"');
  }, 60_000);
});
