/** The demo's generator and seed (scripts/make-demo.ts), and the local workspace's default targets. */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  DEMO_EPOCH,
  demoDir,
  demoFiles,
  type Manifest,
  projectFiles,
  seedDemo,
  shiftRow,
} from "../../scripts/make-demo.js";
import { loadConfig } from "../../src/app/config.js";
import { targetsWithData } from "../../src/workspace/index.js";
import { haveCompiler } from "../support/shmget-elf.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const gcc = await haveCompiler();
const scratch = mkdtempSync(path.join(tmpdir(), "shmhunt-demo-seed-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const manifest = JSON.parse(readFileSync(path.join(demoDir, "manifest.json"), "utf8")) as Manifest;
const hashOf = (name: string) => manifest.samples.find((s) => s.name === name)!.sha256;
const ndjson = (file: string) =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("demo/ as generated", () => {
  it("holds exactly the tables, samples and manifest the generator writes (npm run demo:check)", async () => {
    const files = await demoFiles(Object.fromEntries(manifest.samples.map((s) => [s.name, s.sha256])));
    const fromProject = new Set(Object.keys(await projectFiles()));
    expect(fromProject).toEqual(
      new Set(["workspace/functions/ShmhuntAuditd.kql", "workspace/watchlists/ShmhuntShmCreationExclusions.csv"]),
    );
    // The copies of the project's parser and exclusions may lag (the seed writes them afresh); the rest may not.
    for (const [name, text] of Object.entries(files)) {
      if (!fromProject.has(name)) expect(readFileSync(path.join(demoDir, name), "utf8"), name).toBe(text);
    }
  });

  it.skipIf(!gcc)("names the SHA-256 that gcc builds on this machine", async () => {
    const seeded = await seedDemo({ dataDir: path.join(scratch, "hashes"), force: true });
    for (const s of manifest.samples) expect(seeded.samples[s.name]?.sha256, s.name).toBe(s.sha256);
    expect(seeded.notes).toEqual([]);
  });
});

describe("shiftRow", () => {
  it("moves datetime columns and audit record ids, nothing else", () => {
    const row = {
      TimeGenerated: "2026-01-01T11:55:00.000Z",
      Timestamp: "2026-01-01T11:55:00.000Z",
      FolderPath: "/dev/shm/2026-01-01T11:55:00.000Z",
      SyslogMessage: "type=SYSCALL msg=audit(1767268500.250:900): arch=c000003e syscall=29",
    };
    expect(shiftRow(row, 3_600_000)).toEqual({
      TimeGenerated: "2026-01-01T12:55:00.000Z",
      Timestamp: "2026-01-01T12:55:00.000Z",
      FolderPath: "/dev/shm/2026-01-01T11:55:00.000Z",
      SyslogMessage: "type=SYSCALL msg=audit(1767272100.250:900): arch=c000003e syscall=29",
    });
  });
});

describe("seedDemo", () => {
  const now = new Date("2026-06-01T08:30:00.000Z");
  const shift = now.getTime() - Date.parse(DEMO_EPOCH);

  it("rebases the workspace to now and points the hash columns at the samples built here", async () => {
    // A demo whose manifest names other hashes: what another compiler version would give.
    const source = path.join(scratch, "other-gcc");
    cpSync(demoDir, source, { recursive: true });
    const stale = "f".repeat(64);
    const kworkerd = hashOf("kworkerd");
    const edited: Manifest = {
      ...manifest,
      samples: manifest.samples.map((s) => (s.name === "kworkerd" ? { ...s, sha256: stale } : s)),
    };
    writeFileSync(path.join(source, "manifest.json"), JSON.stringify(edited));
    for (const table of ["DeviceProcessEvents", "DeviceFileEvents"]) {
      const file = path.join(source, "workspace", `${table}.ndjson`);
      writeFileSync(file, readFileSync(file, "utf8").replaceAll(kworkerd, stale));
    }

    const dataDir = path.join(scratch, "rebased");
    const seeded = await seedDemo({ dataDir, now, source });
    expect(seeded.seeded).toBe(true);
    expect(seeded.shiftMs).toBe(shift);

    const original = ndjson(path.join(demoDir, "workspace", "DeviceProcessEvents.ndjson"));
    const rebased = ndjson(path.join(seeded.workspaceDir, "DeviceProcessEvents.ndjson"));
    expect(rebased).toHaveLength(original.length);
    for (const [i, row] of rebased.entries()) {
      expect(Date.parse(row.Timestamp as string) - Date.parse(original[i]!.Timestamp as string)).toBe(shift);
    }
    // Events sit in the last minutes before now, and one 3 minutes after it (the next scheduled run's).
    const offsets = rebased.map((r) => (Date.parse(r.Timestamp as string) - now.getTime()) / 60_000);
    expect(Math.min(...offsets)).toBeGreaterThanOrEqual(-9);
    expect(offsets.filter((m) => m > 0)).toHaveLength(1);

    if (gcc) {
      // The rows now name what gcc built here, not the manifest's stale hash.
      const text = readFileSync(path.join(seeded.workspaceDir, "DeviceProcessEvents.ndjson"), "utf8");
      expect(text).not.toContain(stale);
      expect(text).toContain(seeded.samples.kworkerd!.sha256);
      expect(seeded.notes.join("\n")).toMatch(/sample kworkerd: this gcc builds/);
    }
    const syslog = ndjson(path.join(seeded.workspaceDir, "Syslog.ndjson"));
    const first = /msg=audit\((\d+\.\d+):/.exec(syslog[0]!.SyslogMessage as string)![1]!;
    expect(Math.round(Number(first) * 1000)).toBe(Date.parse(syslog[0]!.TimeGenerated as string));
    // The parser and the exclusions are the project's current ones, whatever demo/ holds.
    writeFileSync(path.join(source, "workspace", "functions", "ShmhuntAuditd.kql"), "// stale copy\n");
    const again = await seedDemo({ dataDir, now, source, force: true });
    for (const [name, text] of Object.entries(await projectFiles())) {
      expect(readFileSync(path.join(again.workspaceDir, path.relative("workspace", name)), "utf8"), name).toBe(text);
    }
  });

  it("leaves a fresh seed alone, replays a stale one, never touches a workspace that is not the demo", async () => {
    const dataDir = path.join(scratch, "replay");
    expect((await seedDemo({ dataDir, now })).seeded).toBe(true);
    const soon = new Date(now.getTime() + 5 * 60_000);
    const fresh = await seedDemo({ dataDir, now: soon });
    expect(fresh.seeded).toBe(false);
    expect(fresh.notes[0]).toMatch(/still fresh/);
    expect((await seedDemo({ dataDir, now: soon, force: true })).seeded).toBe(true);
    const later = new Date(now.getTime() + 60 * 60_000);
    expect((await seedDemo({ dataDir, now: later })).seeded).toBe(true);

    const own = path.join(scratch, "own");
    mkdirSync(path.join(own, "workspace"), { recursive: true });
    writeFileSync(path.join(own, "workspace", "DeviceProcessEvents.ndjson"), "{}\n");
    const skipped = await seedDemo({ dataDir: own, now, force: true });
    expect(skipped.seeded).toBe(false);
    expect(skipped.notes[0]).toMatch(/is not the demo: left as it is/);
    expect(readFileSync(path.join(own, "workspace", "DeviceProcessEvents.ndjson"), "utf8")).toBe("{}\n");
  });
});

describe("default hunt targets of the local workspace", () => {
  it("are the targets the workspace has data for, defender when none", () => {
    expect(targetsWithData(path.join(demoDir, "workspace"))).toEqual(["defender", "asim", "auditd"]);
    expect(targetsWithData(path.join(scratch, "missing"))).toEqual(["defender"]);
    const asimOnly = path.join(scratch, "asim-only");
    mkdirSync(asimOnly, { recursive: true });
    writeFileSync(path.join(asimOnly, "_Im_ProcessEvent.ndjson"), "");
    expect(targetsWithData(asimOnly)).toEqual(["asim"]);
  });

  it("are not used with Log Analytics or an explicit SHMHUNT_HUNT_TARGETS", () => {
    const workspace = path.join(demoDir, "workspace");
    expect(loadConfig({ SHMHUNT_WORKSPACE_DIR: workspace }, repoRoot).huntTargets).toEqual([
      "defender",
      "asim",
      "auditd",
    ]);
    expect(
      loadConfig({ SHMHUNT_WORKSPACE_DIR: workspace, SHMHUNT_HUNT_TARGETS: "auditd" }, repoRoot).huntTargets,
    ).toEqual(["auditd"]);
    expect(
      loadConfig(
        { SHMHUNT_WORKSPACE_DIR: workspace, SHMHUNT_WORKSPACE_ID: "00000000-0000-4000-8000-000000000000" },
        repoRoot,
      ).huntTargets,
    ).toEqual(["defender"]);
  });
});
