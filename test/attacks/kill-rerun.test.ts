/**
 * Bad luck on the hunt (issue 12, item 10; the crash-safety protocol of docs/service.md): `shmhunt hunt --once` runs
 * in a real child process over the local workspace, local state and local incidents (the embedded default), and is
 * killed with SIGKILL mid-run, twice, at points read from its own state journal (as soon as it wrote hit records,
 * then a batch's status record, in a window of five batches); then run again to the end. Also two hunters started at once on one state folder. Whatever the
 * point of the kill: no hit lost (every one settled), no incident raised twice, and never more incidents than the
 * rule's `max_signals` (the seed rule's 100: "maximum number of alerts the rule can create each time it runs").
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HuntState } from "../../src/hunt/index.js";
import { BATCH_SIZE } from "../../src/hunt/run.js";
import { LocalStateStore } from "../../src/store/index.js";
import { collect, shmhunt } from "../support/cli-process.js";
import { shmExecutionNdjson } from "../support/hunt-fixtures.js";
import { until } from "./serve.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
/** The seed rule's `max_signals` (rules/shm-execution.toml). */
const CAP = 100;
/** Five of the hunt's batches (BATCH_SIZE rows each): a run writes hits, incidents and statuses five times. */
const ROWS = 5 * BATCH_SIZE;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * A data folder with the seed rule shm-execution (its generated Defender query), and ROWS process events it matches
 * within its window: root executing a binary under /dev/shm/, each on its own host (so each is an incident of its
 * own: the rule groups by Host). Columns are DeviceProcessEvents' (shared/schemas).
 */
function setting(): { dir: string; env: Record<string, string> } {
  const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-attack-kill-"));
  dirs.push(dir);
  const rules = path.join(dir, "rules");
  const kql = path.join(dir, "kql", "shm-execution");
  const workspace = path.join(dir, "workspace");
  for (const folder of [rules, kql, workspace]) mkdirSync(folder, { recursive: true });
  copyFileSync(path.join(repoRoot, "rules", "shm-execution.toml"), path.join(rules, "shm-execution.toml"));
  copyFileSync(path.join(repoRoot, "kql", "shm-execution", "defender.kql"), path.join(kql, "defender.kql"));
  const start = Date.now() - 6 * 60_000; // the rule looks back 9 minutes: these stay in its window for minutes
  writeFileSync(path.join(workspace, "DeviceProcessEvents.ndjson"), shmExecutionNdjson(ROWS, start));
  return {
    dir,
    env: {
      SHMHUNT_DATA_DIR: path.join(dir, "data"),
      SHMHUNT_RULES_DIR: rules,
      SHMHUNT_KQL_DIR: path.join(dir, "kql"),
      SHMHUNT_WORKSPACE_DIR: workspace,
      SHMHUNT_HUNT_TARGETS: "defender",
      SHMHUNT_TMP_DIR: path.join(dir, "tmp"),
    },
  };
}

const stateDir = (dir: string) => path.join(dir, "data", "state");

/** Lines of the state journal that write a record of `kind` (docs/service.md, "State layout"). */
function journalWrites(dir: string, kind: string): number {
  let count = 0;
  let files: string[] = [];
  try {
    files = readdirSync(stateDir(dir)).filter((f) => f.startsWith("journal.0"));
  } catch {
    return 0;
  }
  for (const file of files) {
    const text = readFileSync(path.join(stateDir(dir), file), "utf8");
    count += text.split(`"o":"p","k":"${kind}"`).length - 1;
  }
  return count;
}

/** The state as a fresh process reads it. */
async function readState(dir: string) {
  const state = new HuntState(new LocalStateStore(stateDir(dir)));
  try {
    const rule = "3f3f9fe2-d095-11ec-95dc-f661ea17fbce";
    return {
      incidents: await state.incidents(),
      hits: await state.hits(),
      checkpoint: await state.checkpoint(rule, "defender"),
    };
  } finally {
    await state.close();
  }
}

/** Every hit settled, each alerted one with an incident that exists, no incident twice, none over the cap. */
async function expectSettled(dir: string): Promise<void> {
  const { incidents, hits, checkpoint } = await readState(dir);
  expect(checkpoint).toBeDefined();
  expect(hits).toHaveLength(ROWS);
  const alerted = hits.filter((h) => h.status === "alerted");
  expect([...new Set(hits.map((h) => h.status))].sort()).toEqual(["alerted", "overflow"]);
  expect(alerted).toHaveLength(CAP);
  expect(hits.filter((h) => h.status === "overflow")).toHaveLength(ROWS - CAP);
  expect(incidents).toHaveLength(CAP);
  expect(new Set(incidents.map((i) => i.id)).size).toBe(CAP);
  expect(new Set(incidents.map((i) => i.hitKey)).size).toBe(CAP);
  const ids = new Set(incidents.map((i) => i.id));
  for (const hit of alerted) expect(ids.has(hit.incidentId ?? "")).toBe(true);
  expect(new Set(incidents.map((i) => i.hitKey))).toEqual(new Set(alerted.map((h) => h.key)));
}

describe("a hunt process killed mid-run (SIGKILL), then run again", () => {
  it("twice, each time after it wrote hit records: no hit lost, none doubled, never over max_signals", async () => {
    const { dir, env } = setting();
    const killedAt: string[] = [];
    // Killed as soon as it has written records: the first run when it writes hit records (in its first batch, before
    // or while its incidents are raised: the journal is read as it is appended), the second when it writes a batch's
    // statuses (after the first batch's incidents were raised, by it or by the first; four batches still to go).
    for (const kind of ["hit", "hitstatus"]) {
      const before = journalWrites(dir, kind);
      const child = shmhunt(["hunt", "--once", "--force", "--json"], env);
      const io = collect(child);
      let exited = false;
      void io.exit.then(() => {
        exited = true;
      });
      await until(() => exited || journalWrites(dir, kind) > before, `the hunt to write a ${kind} record`, 60_000);
      child.kill("SIGKILL");
      expect(await io.exit, `the run ended before it was killed: ${io.out()}${io.err()}`).toBeNull();
      const state = await readState(dir);
      // Killed mid-run: the checkpoint has not moved; what was written stays within the cap.
      expect(state.checkpoint).toBeUndefined();
      expect(state.incidents.length).toBeLessThanOrEqual(CAP);
      killedAt.push(`${kind}: ${state.hits.length} hits, ${state.incidents.length} incidents`);
    }
    expect(journalWrites(dir, "incident")).toBeGreaterThan(0);

    // Run again: it takes over the lease the killed process left, and finishes the window.
    const rerun = collect(shmhunt(["hunt", "--once", "--force", "--json"], env));
    expect(await rerun.exit, rerun.err()).toBe(0);
    const [run] = rerun
      .out()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; status: string });
    expect(run, killedAt.join("; ")).toMatchObject({ type: "run", status: "completed" });
    await expectSettled(dir);

    // And once more: everything is seen before; nothing new is raised.
    const again = collect(shmhunt(["hunt", "--once", "--force", "--json"], env));
    expect(await again.exit).toBe(0);
    await expectSettled(dir);
  }, 180_000);

  it("two hunters started at once on one state folder (the server's schedule and a CLI): one at a time, never over max_signals", async () => {
    const { dir, env } = setting();
    const runs = [0, 1].map(() => collect(shmhunt(["hunt", "--once", "--force", "--json"], env)));
    for (const io of runs) expect(await io.exit, io.err()).toBe(0);
    const statuses = runs.map(
      (io) => (JSON.parse(io.out().trim().split("\n")[0] ?? "{}") as { status?: string }).status,
    );
    // Both completed (one after the other) or one found the other at work (busy); neither failed.
    expect(
      statuses.every((s) => s === "completed" || s === "busy"),
      statuses.join(),
    ).toBe(true);
    await expectSettled(dir);
  }, 180_000);
});
