/**
 * A rule change rescans and settles (issue 14), end to end and offline: hunts query the Log Analytics emulator,
 * state and samples live in Azurite (Table, Blob), YARA-X scans with the rules of a folder the test edits, and
 * incidents, labels and comments go to the Sentinel emulator.
 *
 * The rule change is the one the issue names: from a draft rule that does not match the shmget ELF (the test's own,
 * below) to the seed rule that does (rules/shm-creation.yar, verbatim from the seed documents: ../shared/DESIGN.md),
 * and back. What matches is the scanner's answer over the ELF gcc builds at run time (test/support/shmget-elf.ts);
 * the SHA-256s are the bytes' own (node:crypto).
 */
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createServices, type ServiceOverrides } from "../../src/app/compose.js";
import { loadConfig } from "../../src/app/config.js";
import type { Services } from "../../src/app/services.js";
import { main } from "../../src/cli/main.js";
import type { RescanReport } from "../../src/hunt/rescan.js";
import type { HitRecord } from "../../src/hunt/types.js";
import type { AlertWriter } from "../../src/sentinel/incidents.js";
import { SentinelAlertWriter, writableIncident } from "../../src/sentinel/incidents.js";
import { LogAnalyticsQueryRunner } from "../../src/sentinel/logs-query.js";
import { startServer } from "../../src/server/start.js";
import type { StateOp, StateStore } from "../../src/store/state-store.js";
import { type Clients, makeClients } from "../azure/clients.js";
import { type Emulator, startEmulator } from "../emulator/server.js";
import { type Azurite, startAzurite } from "../support/azurite.js";
import { SHM_CREATION_QUERY } from "../support/hunt-fixtures.js";
import { buildShmgetElf } from "../support/shmget-elf.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const MINUTE = 60_000;
const DERUSBI = "apt_nix_elf_Derusbi_Linux_SharedMemCreation";
/**
 * The rule before the change: an ELF with another shmget key (0x83015F0D) than Derusbi's; the shmget ELF carries
 * 0x82015F0D (DESIGN.md), so this rule does not match it.
 */
const DRAFT_RULE = `rule shm_creation_draft
{
strings:
$other_key = { 0D 5F 01 83 }
condition:
(uint32(0) == 0x464C457F) and $other_key
}
`;
const SEED_RULE = readFileSync(path.join(repoRoot, "rules", "shm-creation.yar"), "utf8");

let emulator: Emulator;
let clients: Clients;
let azurite: Azurite;
let dir: string;
let rulesDir: string;
let elf: Buffer;
let now = Date.parse("2026-06-01T10:00:00Z");
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([
    startEmulator({ now: () => new Date(now), ingestionDelayMs: 0 }),
    startAzurite(),
  ]);
  clients = makeClients(emulator);
  dir = mkdtempSync(path.join(tmpdir(), "shmhunt-rescan-"));
  elf = readFileSync(await buildShmgetElf(dir, "-O0"));
  // The seed rules, with the YARA file the test changes beside them.
  rulesDir = path.join(dir, "rules");
  mkdirSync(rulesDir);
  for (const file of ["shm-creation.toml", "shm-execution.toml"])
    copyFileSync(path.join(repoRoot, "rules", file), path.join(rulesDir, file));
  mkdirSync(path.join(dir, "kql", "shm-creation"), { recursive: true });
  writeFileSync(path.join(dir, "kql", "shm-creation", "defender.kql"), SHM_CREATION_QUERY);
  mkdirSync(path.join(dir, "kql", "shm-execution"), { recursive: true });
  copyFileSync(
    path.join(repoRoot, "kql", "shm-execution", "defender.kql"),
    path.join(dir, "kql", "shm-execution", "defender.kql"),
  );
  expect(SEED_RULE).toContain(`rule ${DERUSBI}`);
});

afterAll(async () => {
  await Promise.all([emulator?.close(), azurite?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Edits the gate's YARA file; the scanner looks for changes at most once a second (src/yara/scanner.ts). */
async function setRules(text: string): Promise<void> {
  writeFileSync(path.join(rulesDir, "shm-creation.yar"), text);
  await sleep(1100);
}

const env = (): Record<string, string> => ({
  SHMHUNT_STORAGE_CONNECTION_STRING: azurite.connectionString,
  SHMHUNT_RULES_DIR: rulesDir,
  SHMHUNT_KQL_DIR: path.join(dir, "kql"),
  SHMHUNT_HUNT_TARGETS: "defender",
  SHMHUNT_SCAN_WORKERS: "1",
});

function overrides(alerts?: (inner: AlertWriter) => AlertWriter): ServiceOverrides {
  const ws = emulator.workspace;
  const sentinel = new SentinelAlertWriter(clients.sentinel, ws.resourceGroup, ws.name);
  return {
    clock: () => new Date(now),
    queries: new LogAnalyticsQueryRunner(clients.logs, ws.customerId, {
      serverTimeoutSeconds: 30,
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
    }),
    alerts: alerts ? alerts(sentinel) : sentinel,
  };
}

async function makeServices(alerts?: (inner: AlertWriter) => AlertWriter): Promise<Services> {
  return createServices(loadConfig(env(), repoRoot), overrides(alerts));
}

let reportId = 9000;
/** A file written under /dev/shm (DeviceFileEvents, schemas/DeviceFileEvents): the shm-creation hunt's hit. */
function fileCreated(device: string, content: Buffer) {
  const time = new Date(now - 2 * MINUTE).toISOString();
  reportId++;
  return {
    TimeGenerated: time,
    Timestamp: time,
    DeviceId: `id-${device}`,
    DeviceName: device,
    ActionType: "FileCreated",
    FolderPath: `/dev/shm/.x${reportId}`,
    FileName: `.x${reportId}`,
    SHA256: sha256(content),
    InitiatingProcessId: reportId,
    InitiatingProcessAccountName: "root",
    ReportId: reportId,
  };
}

/** root runs a binary from /dev/shm (DeviceProcessEvents columns, schemas/DeviceProcessEvents): shm-execution's hit. */
function processCreated(device: string, content: Buffer) {
  const time = new Date(now - 2 * MINUTE).toISOString();
  reportId++;
  return {
    TimeGenerated: time,
    Timestamp: time,
    DeviceId: `id-${device}`,
    DeviceName: device,
    ActionType: "ProcessCreated",
    AccountName: "root",
    FolderPath: "/dev/shm/.x/kworkerd",
    FileName: "kworkerd",
    ProcessId: reportId,
    ProcessCommandLine: "/dev/shm/.x/kworkerd",
    SHA256: sha256(content),
    ReportId: reportId,
  };
}

async function hitOn(services: Services, device: string): Promise<HitRecord> {
  const hit = (await services.hunt.hits()).find((h) => h.row.DeviceName === device);
  if (!hit) throw new Error(`no hit on ${device}`);
  return hit;
}

async function incidents() {
  const ws = emulator.workspace;
  const out = [];
  for await (const incident of clients.sentinel.incidents.list(ws.resourceGroup, ws.name)) out.push(incident);
  return out;
}

async function incident(id: string) {
  const ws = emulator.workspace;
  return clients.sentinel.incidents.get(ws.resourceGroup, ws.name, id);
}

async function comments(incidentId: string): Promise<string[]> {
  const ws = emulator.workspace;
  const out: string[] = [];
  for await (const c of clients.sentinel.incidentComments.list(ws.resourceGroup, ws.name, incidentId))
    out.push(c.message ?? "");
  return out;
}

async function bookmarks() {
  const ws = emulator.workspace;
  const out = [];
  for await (const b of clients.sentinel.bookmarks.list(ws.resourceGroup, ws.name)) out.push(b);
  return out;
}

const labelsOf = (i: { labels?: Array<{ labelName: string }> }) => (i.labels ?? []).map((l) => l.labelName);

describe("a rule change rescans the stored samples and settles their hits (emulator + Azurite + YARA-X)", () => {
  let draftRuleset: string;
  let seedRuleset: string;
  let creationIncident: string;
  let executionIncident: string;

  it("a dismissed hit is alerted with its new verdict, an annotate incident is commented; a rerun does nothing", async () => {
    await setRules(DRAFT_RULE);
    const services = await makeServices();
    try {
      // The sample is uploaded first: under the draft rule it matches nothing.
      const uploaded = await services.samples.upload(Readable.from([elf]));
      expect(uploaded.verdict?.verdict).toBe("no-match");
      draftRuleset = uploaded.verdict?.ruleset as string;

      emulator.workspace.seedTable("DeviceFileEvents", [fileCreated("srv-rescan-a", elf)]);
      emulator.workspace.seedTable("DeviceProcessEvents", [processCreated("srv-rescan-b", elf)]);
      const first = await services.hunt.run();
      expect(first.runs.map((r) => r.status)).toEqual(["completed", "completed"]);
      // The gate (require) dismisses the hit: its sample is clean under these rules.
      const dismissed = await hitOn(services, "srv-rescan-a");
      expect(dismissed).toMatchObject({ status: "benign", verdict: { ruleset: draftRuleset, matches: [] } });
      // The annotate rule alerts on behaviour, carrying the clean verdict.
      const annotated = await hitOn(services, "srv-rescan-b");
      expect(annotated.status).toBe("alerted");
      executionIncident = annotated.incidentId as string;
      expect(labelsOf(await incident(executionIncident))).toContain("verdict:clean");
      // Nothing to rescan: the one verdict is of the rules in use.
      expect(first.rescan).toMatchObject({ ruleset: draftRuleset, rescanned: 0 });
      const before = (await incidents()).length;

      // The rule file becomes the seed rule: the next hunt run carries a batch of the rescan.
      await setRules(SEED_RULE);
      now += MINUTE;
      const second = await services.hunt.run();
      seedRuleset = second.rescan?.ruleset as string;
      expect(seedRuleset).toMatch(/^[0-9a-f]{64}$/);
      expect(seedRuleset).not.toBe(draftRuleset);
      expect(second.rescan).toMatchObject({
        status: "completed",
        rescanned: 1,
        changed: 1,
        alerted: 1,
        noted: 1,
        missing: 0,
        failed: 0,
      });

      // The dismissed hit is alerted now, with the verdict of the new rules.
      const alerted = await hitOn(services, "srv-rescan-a");
      expect(alerted.status).toBe("alerted");
      expect(alerted.reason).toBeUndefined();
      expect(alerted.verdict?.ruleset).toBe(seedRuleset);
      expect(alerted.verdict?.matches.map((m) => m.rule)).toEqual([DERUSBI]);
      creationIncident = alerted.incidentId as string;
      expect(second.rescan?.incidents).toEqual([creationIncident]);
      const raised = await incident(creationIncident);
      expect(labelsOf(raised)).toEqual(expect.arrayContaining(["verdict:match", `yara:${DERUSBI}`]));
      expect((await incidents()).length).toBe(before + 1);

      // The annotate incident gets the late-verdict treatment: a comment with the strings, and the labels.
      const execution = await incident(executionIncident);
      expect(labelsOf(execution)).toEqual(
        expect.arrayContaining(["verdict:clean", "verdict:match", `yara:${DERUSBI}`]),
      );
      const noted = await comments(executionIncident);
      expect(noted).toHaveLength(1);
      expect(noted[0]).toContain(`the YARA rules changed (rule set ${seedRuleset.slice(0, 12)})`);
      expect(noted[0]).toContain(`MATCH (${DERUSBI})`);
      expect(noted[0]).toMatch(new RegExp(`${DERUSBI}: \\$byte1 at offset \\d+`));
      expect(noted[0]).toContain("It replaces the earlier verdict: clean");
      expect((await hitOn(services, "srv-rescan-b")).verdict?.ruleset).toBe(seedRuleset);

      // The sample's verdict names the rules that produced it.
      const report = await services.samples.report(sha256(elf));
      expect(report.verdict).toMatchObject({ ruleset: seedRuleset, matches: [{ rule: DERUSBI }] });

      // A rerun does nothing: no scan, no incident, no comment.
      now += MINUTE;
      const third = await services.hunt.run();
      expect(third.rescan).toMatchObject({ status: "up-to-date", rescanned: 0, examined: 0 });
      const direct = await services.hunt.rescan();
      expect(direct).toMatchObject({ status: "up-to-date", rescanned: 0 });
      expect((await incidents()).length).toBe(before + 1);
      expect(await comments(executionIncident)).toHaveLength(1);
      expect(await comments(creationIncident)).toHaveLength(0);
    } finally {
      await services.close();
    }
  });

  it("and back, through POST /hunt/rescan: the match that disappears is said on the incidents, which an analyst keeps", async () => {
    // An analyst takes the incident the rescan raised.
    const raised = await incident(creationIncident);
    const ws = emulator.workspace;
    await clients.sentinel.incidents.createOrUpdate(ws.resourceGroup, ws.name, creationIncident, {
      ...writableIncident(raised),
      status: "Active",
      labels: [...(raised.labels ?? []), { labelName: "analyst:triaged" }],
    });
    await setRules(DRAFT_RULE);
    const config = loadConfig(
      {
        ...env(),
        SHMHUNT_PORT: "0",
        SHMHUNT_HOST: "127.0.0.1",
        SHMHUNT_HUNT_TICK: "0",
        SHMHUNT_LOG_LEVEL: "silent",
      },
      repoRoot,
    );
    const server = await startServer(config, { overrides: overrides() });
    const post = (body: unknown) =>
      fetch(`${server.url}/hunt/rescan`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    try {
      const refused = await post({ limit: 0 });
      expect(refused.status).toBe(400);
      const answer = await post({ limit: 10 });
      expect(answer.status).toBe(200);
      const report = (await answer.json()) as RescanReport;
      expect(report).toMatchObject({
        status: "completed",
        ruleset: draftRuleset,
        rescanned: 1,
        changed: 1,
        alerted: 0,
        noted: 2,
      });
      const again = (await (await post({})).json()) as RescanReport;
      expect(again).toMatchObject({ status: "up-to-date", rescanned: 0 });
    } finally {
      await server.close();
    }

    // The incident raised on the match is commented, labelled clean too, and left as the analyst has it.
    const after = await incident(creationIncident);
    expect(after.status).toBe("Active");
    expect(labelsOf(after)).toEqual(
      expect.arrayContaining(["analyst:triaged", "verdict:match", "verdict:clean", `yara:${DERUSBI}`]),
    );
    const said = await comments(creationIncident);
    expect(said).toHaveLength(1);
    expect(said[0]).toContain("no rule matched");
    expect(said[0]).toContain("is no longer found by the rules in use");
    expect(said[0]).toContain(`It replaces the earlier verdict: match (${DERUSBI}`);
    const execution = await comments(executionIncident);
    expect(execution).toHaveLength(2);
    expect(execution.filter((c) => c.includes("no rule matched"))).toHaveLength(1);

    // The hit stays alerted (its incident stands), with the verdict of the rules in use now.
    const services = await makeServices();
    try {
      const hit = await hitOn(services, "srv-rescan-a");
      expect(hit).toMatchObject({ status: "alerted", incidentId: creationIncident });
      expect(hit.verdict).toMatchObject({ ruleset: draftRuleset, matches: [] });
    } finally {
      await services.close();
    }

    // `shmhunt rescan` from the same settings: nothing left to do.
    const written: string[] = [];
    for (const [name, value] of Object.entries(env())) vi.stubEnv(name, value);
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      expect(await main(["node", "shmhunt", "rescan", "--json"])).toBe(0);
      expect(JSON.parse(written.join("").trim())).toMatchObject({
        type: "rescan",
        status: "up-to-date",
        ruleset: draftRuleset,
      });
      written.length = 0;
      expect(await main(["node", "shmhunt", "rescan"])).toBe(0);
      expect(written.join("")).toContain("every stored verdict is of the rules in use");
    } finally {
      write.mockRestore();
      vi.unstubAllEnvs();
    }
  });

  it("killed at every write of a rescan and run again: nothing lost, nothing doubled, in bounded batches", async () => {
    // Four more samples under the draft rule: two builds of the shmget ELF (other optimisation levels, the same
    // shmget immediates: DESIGN.md), and two blobs that are no ELF at all. Each is a dismissed hit of shm-creation.
    const elfs = [readFileSync(await buildShmgetElf(dir, "-O2")), readFileSync(await buildShmgetElf(dir, "-Os"))];
    const blobs = [randomBytes(4096), randomBytes(8192)];
    const devices = ["srv-kill-1", "srv-kill-2", "srv-kill-3", "srv-kill-4"];
    const contents = [...elfs, ...blobs];
    now += 60 * MINUTE;
    const setup = await makeServices();
    try {
      for (const content of contents) {
        const uploaded = await setup.samples.upload(Readable.from([content]));
        expect(uploaded.verdict).toMatchObject({ verdict: "no-match", ruleset: draftRuleset });
      }
      emulator.workspace.seedTable(
        "DeviceFileEvents",
        devices.map((device, i) => fileCreated(device, contents[i] as Buffer)),
      );
      await setup.hunt.run();
      for (const device of devices) expect((await hitOn(setup, device)).status).toBe("benign");
    } finally {
      await setup.close();
    }
    const incidentsBefore = (await incidents()).length;
    const bookmarksBefore = (await bookmarks()).length;

    await setRules(SEED_RULE);
    // One process that dies (as a kill would) right after each durable step it takes for the first time; restarted
    // each time, until a run goes through.
    const killer = new Killer();
    const dying = await makeServices((inner) => killer.alerts(inner));
    killer.watch(dying.state.store);
    const batches: RescanReport[] = [];
    let deaths = 0;
    try {
      for (;;) {
        expect(deaths).toBeLessThan(200);
        killer.arm();
        try {
          for (;;) {
            const report = await dying.hunt.rescan({ limit: 2 });
            batches.push(report);
            if (report.status !== "in-progress") break;
          }
          break;
        } catch (error) {
          expect((error as Error).message).toBe("killed");
          deaths++;
          // The dead process's lease on the rescan lapses before the restart takes it (two minutes).
          now += 3 * MINUTE;
        }
      }
    } finally {
      killer.arm(false);
      await dying.close();
    }
    // Killed once after each step, and never after a step taken again: the five verdicts stored, the two ELF builds'
    // incidents raised and their hits written, the first sample's two incidents commented and its two hits written
    // (one write), and the cursor's last save. A comment or an incident made twice would be one more death.
    expect(deaths).toBe(5 + 2 * 2 + 2 + 1 + 1);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({ status: "up-to-date", ruleset: seedRuleset });

    const services = await makeServices();
    try {
      // A rerun does nothing.
      expect(await services.hunt.rescan()).toMatchObject({ status: "up-to-date", rescanned: 0 });
      // The ELF builds' hits are alerted once each, the blobs' stay dismissed with the new rules' verdict.
      const raisedNow = await incidents();
      expect(raisedNow.length - incidentsBefore).toBe(2);
      expect((await bookmarks()).length - bookmarksBefore).toBe(2);
      for (const [i, device] of devices.entries()) {
        const hit = await hitOn(services, device);
        if (i < elfs.length) {
          expect(hit.status).toBe("alerted");
          expect(hit.verdict?.ruleset).toBe(seedRuleset);
          expect(hit.verdict?.matches.map((m) => m.rule)).toEqual([DERUSBI]);
          expect(raisedNow.filter((x) => x.name === hit.incidentId)).toHaveLength(1);
          expect(labelsOf(await incident(hit.incidentId as string))).toContain("verdict:match");
        } else {
          // A verdict that means the same (still no match) leaves the hit as it was decided.
          expect(hit.status).toBe("benign");
          expect(hit.verdict).toMatchObject({ ruleset: draftRuleset, matches: [] });
        }
      }
      // The first sample's incidents: one comment more each (the match is back), none twice.
      const creation = await comments(creationIncident);
      expect(creation).toHaveLength(2);
      expect(creation.filter((c) => c.includes(`MATCH (${DERUSBI})`))).toHaveLength(1);
      const execution = await comments(executionIncident);
      expect(execution).toHaveLength(3);
      expect(new Set(execution).size).toBe(3);
      for (const content of contents) {
        expect((await services.samples.report(sha256(content))).verdict?.ruleset).toBe(seedRuleset);
      }

      // Bounded and resumable: back to the draft rule, two samples a run; each run goes on where the last stopped.
      await setRules(DRAFT_RULE);
      const runs: RescanReport[] = [];
      for (let i = 0; i < 5; i++) {
        const report = await services.hunt.rescan({ limit: 2 });
        runs.push(report);
        if (report.status !== "in-progress") break;
      }
      expect(runs.map((r) => [r.status, r.rescanned])).toEqual([
        ["in-progress", 2],
        ["in-progress", 2],
        ["completed", 1],
      ]);
      expect(runs.reduce((n, r) => n + r.changed, 0)).toBe(3); // the three ELF builds; the blobs stay clean
      expect(runs.reduce((n, r) => n + r.noted, 0)).toBe(4); // their three incidents, and shm-execution's
      for (const device of devices.slice(0, 2)) {
        const hit = await hitOn(services, device);
        expect(hit).toMatchObject({ status: "alerted", verdict: { ruleset: draftRuleset, matches: [] } });
        const said = await comments(hit.incidentId as string);
        expect(said).toHaveLength(1);
        expect(said[0]).toContain("is no longer found by the rules in use");
      }
      expect((await incidents()).length - incidentsBefore).toBe(2);
    } finally {
      await services.close();
    }
  });
});

/**
 * Kills the process (as far as the durable world can tell) right after the first durable write it makes that was not
 * made before: a state store write (batch, put, create, delete) or an alert writer's call (raise, annotate). A write
 * repeated as it was (a rerun redoing an idempotent step) does not count, and neither does the rescan's lease (taken
 * afresh by every run), so each restart dies one step further on and every step of the protocol gets its kill.
 * Dead, it writes nothing more. Disarmed, it only passes writes through.
 */
class Killer {
  private armed = false;
  private dead = false;
  private readonly made = new Set<string>();

  arm(armed = true): void {
    this.armed = armed;
    this.dead = false;
  }

  private async write<T>(signatures: readonly string[], work: () => Promise<T>): Promise<T> {
    if (this.dead) throw new Error("killed");
    const result = await work();
    const fresh = signatures.filter((s) => !this.made.has(s));
    for (const s of fresh) this.made.add(s);
    if (this.armed && fresh.length > 0) {
      this.dead = true;
      throw new Error("killed");
    }
    return result;
  }

  watch(store: StateStore): void {
    const target = store as { -readonly [K in keyof StateStore]: StateStore[K] };
    const batch = store.batch.bind(store);
    const put = store.put.bind(store);
    const create = store.create.bind(store);
    const remove = store.delete.bind(store);
    target.batch = (ops) => this.write(ops.flatMap(signature), () => batch(ops));
    target.put = (kind, partition, key, value) =>
      this.write(signature({ op: "put", kind, partition, key, value }), () => put(kind, partition, key, value));
    target.create = (kind, partition, key, value) =>
      this.write(signature({ op: "create", kind, partition, key, value }), () => create(kind, partition, key, value));
    target.delete = (kind, partition, key) =>
      this.write(signature({ op: "delete", kind, partition, key }), () => remove(kind, partition, key));
  }

  alerts(inner: AlertWriter): AlertWriter {
    return {
      raise: (alert) => this.write([`raise ${alert.hitKey}`], () => inner.raise(alert)),
      annotate: (incidentId, note) =>
        this.write([`annotate ${incidentId} ${note.noteKey}`], async () => inner.annotate?.(incidentId, note)),
    };
  }
}

/** A state write as the killer tells writes apart: what it writes, without the times a redo would change. */
function signature(op: StateOp): string[] {
  if (op.kind === "lease") return [];
  const value = "value" in op ? JSON.stringify(op.value, (k, v) => (k === "updatedAt" ? undefined : v)) : "";
  return [`${op.op} ${op.kind} ${op.partition} ${op.key} ${value}`];
}
