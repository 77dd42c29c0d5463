/**
 * The sample broker's handling of what the Defender for Endpoint API answers, judged by Microsoft's pages
 * (learn.microsoft.com/defender-endpoint/api/...: common-errors, run-live-response, cancel-machine-action,
 * get-live-response-result, get-machineactions-collection, machineaction; and live-response, "Get a file from the
 * device"). The broker talks to the emulator through the real DefenderClient; state is in memory (a process killed
 * at a write: test/support/killed-store.ts), samples in a folder, and `ingest` stores and indexes the file as the service
 * does (src/app/services.ts ingestFile: store, index by its names, hits waiting at its host and path get it) without
 * the scanner: a hit given a sample is what the assertions look at.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import type { Acquisition } from "../../src/broker/acquisition.js";
import { SampleBroker } from "../../src/broker/broker.js";
import { HuntState } from "../../src/hunt/hunt-state.js";
import { attachSample, isNamedFile, locatorOf } from "../../src/hunt/sample-locator.js";
import type { HitRecord, HuntPlan } from "../../src/hunt/types.js";
import { DefenderClient } from "../../src/sentinel/defender-client.js";
import { LocalSampleStore } from "../../src/store/local-sample-store.js";
import { MemoryStateStore } from "../../src/store/memory-state-store.js";
import { SampleIndex } from "../../src/store/sample-index.js";
import type { StateOp, StateStore } from "../../src/store/state-store.js";
import { type Emulator, startEmulator } from "../emulator/server.js";
import { KilledStore, killAtFirst } from "../support/killed-store.js";
import { emulatedDefender, expiredDownloadLinks } from "./emulated-defender.js";

const MINUTE = 60_000;
let emulator: Emulator;
let now = Date.parse("2026-06-01T08:00:00Z");
const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-broker-api-"));
const hash = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest("hex");

beforeAll(async () => {
  emulator = await startEmulator({ now: () => new Date(now), defaultWorkspace: false });
});
afterAll(async () => {
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  // past every rate-limit window and every action of the test before
  now += 4 * 24 * 60 * MINUTE;
  emulator.faults.clear();
});

const PLAN = {
  rule: { id: "shm-creation" },
  target: "defender",
  query: "",
  sampleNameColumns: { path: ["FolderPath"], sha1: ["SHA1"], md5: ["MD5"] },
} as unknown as HuntPlan;

let serial = 0;
let tmpSerial = 0;

/** A broker over `store` (default: in memory), with its hits put there by `wait`. */
function harness(
  limits: { maxActive?: number; maxStartsPerTick?: number; maxBytes?: number } = {},
  store: StateStore = new MemoryStateStore(),
) {
  const state = new HuntState(store);
  const index = new SampleIndex(store);
  const samples = new LocalSampleStore(path.join(dir, `samples-${++tmpSerial}`));
  const tmp = path.join(dir, `tmp-${tmpSerial}`);
  mkdirSync(tmp);
  const broker = new SampleBroker({
    defender: new DefenderClient(
      emulatedDefender(emulator, (ms) => {
        now += ms;
      }),
    ),
    state,
    samples,
    index,
    ingest: async (file, names) => {
      await samples.putFile(names.sha256, file);
      await index.add(names.sha256, names, new Date(now));
      if (names.host && names.path)
        await attachSample(state, locatorOf(names.host, names.path), names.sha256, (e) => isNamedFile(e, names));
    },
    ingestStored: async (sha256, locator) => {
      // As the service does (src/app/services.ts settleWith): the index knows the sample by its hashes.
      if (locator) await attachSample(state, locator, sha256, (expects) => index.knows(sha256, expects));
    },
    clock: () => new Date(now),
    tmpDir: tmp,
    policy: { skipValidlySigned: false },
    limits,
  });
  /** A pending hit of `device` for the file at `filePath`, named by the row's hashes (SHA256 may be left out). */
  async function wait(device: string, filePath: string, row: Record<string, unknown>): Promise<HitRecord> {
    const at = new Date(now).toISOString();
    const sha256 = typeof row.SHA256 === "string" && row.SHA256 !== "" ? row.SHA256 : undefined;
    const hit: HitRecord = {
      key: `hit-${++serial}`,
      ruleId: "shm-creation",
      target: "defender",
      status: "pending",
      firstSeen: at,
      updatedAt: at,
      window: { start: at, end: at },
      eventTime: at,
      ...(sha256 ? { sha256 } : { locator: locatorOf(device, filePath) }),
      row: { DeviceName: device, FolderPath: filePath, ...row },
    };
    await state.putHit(hit);
    await state.putPending(sha256 ?? locatorOf(device, filePath), hit.key, {
      ruleId: hit.ruleId,
      target: hit.target,
      since: at,
    });
    return hit;
  }
  /** A hit settled by the hunt (its pending_timeout passed: unverified), as sweepPending leaves it. */
  async function settle(hit: HitRecord): Promise<void> {
    await state.putHit({ ...hit, status: "unverified", reason: "sample did not arrive in time" });
    await state.deletePending(hit.sha256 ?? (hit.locator as string), hit.key);
  }
  return { broker, state, samples, index, tmp, wait, settle, tick: () => broker.tick([PLAN]) };
}

const runs = () =>
  emulator.requests.filter((r) => r.api === "defender" && r.method === "POST" && /\/runliveresponse$/i.test(r.path));

it("fails the acquisition at once on a 403 the API answers (no permission, live response not enabled): a client error, not retried", async () => {
  const content = Buffer.from("\x7fELF forbidden\n", "latin1");
  const machine = emulator.defender.addMachine({ computerDnsName: "srv-403.contoso.com", osPlatform: "Linux" });
  emulator.defender.putDeviceFile(machine.id, "/dev/shm/.f", { content });
  const h = harness();
  await h.wait("srv-403.contoso.com", "/dev/shm/.f", { SHA256: hash("sha256", content) });
  // common-errors: "Client error (400-code level) – the client sent an invalid request or the request isn't in
  // accordance with definitions"; "Forbidden (403) Forbidden (valid token but insufficient permission for the
  // action)", "DisabledFeature (403) Tenant feature isn't enabled." (not an expired download link: that one is
  // Azure Storage's AuthenticationFailed, re-created by the client, api/get-live-response-result)
  emulator.faults.push({
    api: "defender",
    path: /\/runliveresponse$/i,
    kind: "status",
    status: 403,
    code: "DisabledFeature",
    message: "Tenant feature isn't enabled.",
  });
  const before = runs().length;
  const first = await h.tick();
  expect(first).toMatchObject({ failed: 1, requested: 0 });
  now += 5 * MINUTE;
  await h.tick();
  expect(runs().length - before).toBe(1);
  const [record] = await h.broker.list();
  expect(record).toMatchObject({ status: "failed" });
  expect(record?.reason).toContain("DisabledFeature");
});

it("keeps a download refused by Azure Storage as expired (403 AuthenticationFailed) for the next tick, then gets it", async () => {
  const content = Buffer.from("\x7fELF expired link\n", "latin1");
  const machine = emulator.defender.addMachine({ computerDnsName: "srv-sas.contoso.com", osPlatform: "Linux" });
  emulator.defender.putDeviceFile(machine.id, "/dev/shm/.s", { content });
  const h = harness();
  await h.wait("srv-sas.contoso.com", "/dev/shm/.s", { SHA256: hash("sha256", content) });
  expect(await h.tick()).toMatchObject({ queued: 1 });
  // get-live-response-result: "This link is valid for 30 minutes ... An expired link can be re-created by another call"
  emulator.faults.push(expiredDownloadLinks(3));
  now += MINUTE;
  expect(await h.tick()).toMatchObject({ queued: 1 });
  now += MINUTE;
  expect(await h.tick()).toMatchObject({ retrieved: 1 });
});

it("gives back the slot of a queued action no hit waits for any more, and cancels the action", async () => {
  const late = Buffer.from("\x7fELF offline for days\n", "latin1");
  const next = Buffer.from("\x7fELF the next one\n", "latin1");
  const offline = emulator.defender.addMachine({ computerDnsName: "laptop-9.contoso.com", online: false });
  const online = emulator.defender.addMachine({ computerDnsName: "srv-next.contoso.com", osPlatform: "Linux" });
  emulator.defender.putDeviceFile(offline.id, "/dev/shm/.l", { content: late });
  emulator.defender.putDeviceFile(online.id, "/dev/shm/.n", { content: next });
  const h = harness({ maxActive: 1 });
  const first = await h.wait("laptop-9.contoso.com", "/dev/shm/.l", { SHA256: hash("sha256", late) });
  expect(await h.tick()).toMatchObject({ queued: 1 });
  const [queued] = await h.broker.list();
  expect(queued).toMatchObject({ status: "queued", actionStatus: "Pending" });

  // A day later the hit is settled without its sample (the rule's pending_timeout); another hit waits.
  now += 24 * 60 * MINUTE;
  await h.settle(first);
  await h.wait("srv-next.contoso.com", "/dev/shm/.n", { SHA256: hash("sha256", next) });
  // The broker keeps at most SHMHUNT_BROKER_MAX_ACTIVE of its own sessions (run-live-response, Limitations 2: "25
  // concurrently running sessions"); a session nobody waits for must not hold one of them, nor the device
  // (Limitations 8: "Multiple live response sessions can't be executed on the same machine"): cancel-machine-action
  // "Cancel an already launched machine action that isn't yet in final state".
  for (let tick = 0; tick < 3; tick++) {
    now += 5 * MINUTE;
    await h.tick();
  }
  const byPath = Object.fromEntries((await h.broker.list()).map((a) => [a.names.path, a]));
  expect(byPath["/dev/shm/.n"]).toMatchObject({ status: "retrieved", sha256: hash("sha256", next) });
  expect(byPath["/dev/shm/.l"]?.status).toBe("failed");
  expect(byPath["/dev/shm/.l"]?.reason).toMatch(/no hit waits/);
  expect(emulator.defender.actions.get(queued?.actionId as string)?.status).toBe("Cancelled");
});

it("leaves queued the action of a hit whose rule is not loaded now (its hits wait until the rule is back)", async () => {
  const content = Buffer.from("\x7fELF rule away\n", "latin1");
  const offline = emulator.defender.addMachine({ computerDnsName: "laptop-away.contoso.com", online: false });
  emulator.defender.putDeviceFile(offline.id, "/dev/shm/.a", { content });
  const h = harness();
  await h.wait("laptop-away.contoso.com", "/dev/shm/.a", { SHA256: hash("sha256", content) });
  expect(await h.tick()).toMatchObject({ queued: 1 });
  const [queued] = await h.broker.list();
  // A tick with the rule not among the plans (a configuration without it, for a while): its pending hits are left
  // as they are (docs/service.md), and so is the action they wait for.
  now += 5 * MINUTE;
  await h.broker.tick([]);
  expect((await h.broker.list())[0]).toMatchObject({ status: "queued" });
  expect(emulator.defender.actions.get(queued?.actionId as string)?.status).not.toBe("Cancelled");
});

it("does not give a hit that names the file's SHA-1 (no SHA-256) a fetched file with another SHA-1", async () => {
  const named = Buffer.from("\x7fELF the file the event saw\n", "latin1");
  const replaced = Buffer.from("\x7fELF what is at that path now\n", "latin1");
  const machine = emulator.defender.addMachine({ computerDnsName: "srv-sha1.contoso.com", osPlatform: "Linux" });
  emulator.defender.putDeviceFile(machine.id, "/dev/shm/.r", { content: replaced });
  const h = harness();
  // Defender's tables often leave SHA256 empty (docs/service.md); the hit waits by host and path, named by SHA-1
  const hit = await h.wait("srv-sha1.contoso.com", "/dev/shm/.r", { SHA256: "", SHA1: hash("sha1", named) });
  expect(await h.tick()).toMatchObject({ queued: 1 });
  now += MINUTE;
  expect(await h.tick()).toMatchObject({ failed: 1 });
  const [record] = await h.broker.list();
  expect(record?.reason).toContain("has changed");
  // the sample scanned for a hit is the one its telemetry names: the hit still waits, with no SHA-256 given it
  const after = await h.state.hit(hit.ruleId, hit.key);
  expect(after).toMatchObject({ status: "pending" });
  expect(after?.sha256).toBeUndefined();
  // and a later tick does not hand it the stored file by its host and path either
  now += MINUTE;
  await h.tick();
  expect((await h.state.hit(hit.ruleId, hit.key))?.sha256).toBeUndefined();
});

it("does not hand a hit named by SHA-1 the file stored for its host and path when that file has another SHA-1", async () => {
  const named = Buffer.from("\x7fELF the file the event saw, still there\n", "latin1");
  const uploaded = Buffer.from("\x7fELF uploaded for that path last week\n", "latin1");
  const machine = emulator.defender.addMachine({ computerDnsName: "srv-up.contoso.com", osPlatform: "Linux" });
  emulator.defender.putDeviceFile(machine.id, "/dev/shm/.u", { content: named });
  const h = harness();
  // an upload for that host and path (POST /samples?host=&path=): stored, indexed by its hashes and its location
  const file = path.join(dir, "uploaded.bin");
  writeFileSync(file, uploaded);
  await h.samples.putFile(hash("sha256", uploaded), file);
  await h.index.add(
    hash("sha256", uploaded),
    { sha1: hash("sha1", uploaded), md5: hash("md5", uploaded), host: "srv-up.contoso.com", path: "/dev/shm/.u" },
    new Date(now),
  );
  const hit = await h.wait("srv-up.contoso.com", "/dev/shm/.u", { SHA256: "", SHA1: hash("sha1", named) });
  expect(await h.tick()).toMatchObject({ found: 0, queued: 1 });
  expect((await h.state.hit(hit.ruleId, hit.key))?.sha256).toBeUndefined();
  now += MINUTE;
  expect(await h.tick()).toMatchObject({ retrieved: 1 });
  expect((await h.state.hit(hit.ruleId, hit.key))?.sha256).toBe(hash("sha256", named));
});

it("fails a file over the size limit once, rather than downloading it again every tick", async () => {
  const big = Buffer.alloc(64 * 1024, 7);
  const machine = emulator.defender.addMachine({ computerDnsName: "srv-big.contoso.com", osPlatform: "Linux" });
  emulator.defender.putDeviceFile(machine.id, "/dev/shm/.big", { content: big });
  const h = harness({ maxBytes: 1024 });
  await h.wait("srv-big.contoso.com", "/dev/shm/.big", { SHA256: hash("sha256", big) });
  expect(await h.tick()).toMatchObject({ queued: 1 });
  const downloads = () => emulator.requests.filter((r) => r.path.startsWith("/defender-results/")).length;
  const before = downloads();
  // live-response, "Get a file from the device": "getfile limit: 3 GB"; docs/service.md: a file is "refused above
  // min(3 GB, SHMHUNT_MAX_SAMPLE_BYTES) while streaming": the same file is as large at the next tick
  for (let tick = 0; tick < 3; tick++) {
    now += MINUTE;
    await h.tick();
  }
  expect(downloads() - before).toBe(1);
  const [record] = await h.broker.list();
  expect(record?.status).toBe("failed");
  expect(record?.reason).toMatch(/limit of 1024 bytes/);
  expect(readdirSync(h.tmp)).toEqual([]);
});

/** The write that records a GetFile's machine action (`queued`, with its id): the API has accepted the action. */
const recordsTheAction = (op: StateOp) =>
  op.kind === "acquisition" && op.op !== "delete" && (op.value as Acquisition).status === "queued";

/** The machine actions the emulator accepted on a device. */
const actionsOn = (machineId: string) =>
  [...emulator.defender.actions.values()].filter((a) => a.machineId === machineId);

/** The broker's listings of a device's machine actions (api/get-machineactions-collection). */
const listings = (machineId: string) =>
  emulator.requests.filter(
    (r) =>
      r.api === "defender" &&
      r.method === "GET" &&
      /^\/api\/machineactions$/i.test(r.path) &&
      (new URLSearchParams(r.query).get("$filter") ?? "").includes(machineId),
  );

it("adopts the GetFile a process was killed before recording: one live response, the sample downloaded, the hit given it", async () => {
  const content = Buffer.from("\x7fELF killed after the API accepted\n", "latin1");
  const machine = emulator.defender.addMachine({ computerDnsName: "srv-kill.contoso.com", osPlatform: "Linux" });
  emulator.defender.putDeviceFile(machine.id, "/dev/shm/.k", { content });
  const disk = new MemoryStateStore();
  const first = harness({}, new KilledStore(disk, killAtFirst(recordsTheAction)));
  // named by SHA-1 (Defender often leaves SHA256 empty): the hit waits by host and path and is given the file fetched
  const hit = await first.wait("srv-kill.contoso.com", "/dev/shm/.k", { SHA256: "", SHA1: hash("sha1", content) });
  const before = runs().length;
  // run-live-response: "If successful, this method returns 201 Created" with the action; the process dies before
  // the record of its id lands
  await expect(first.tick()).rejects.toThrow(/killed/);
  expect(actionsOn(machine.id)).toHaveLength(1);
  const [accepted] = actionsOn(machine.id);

  // The next process, over what the first one left. api/run-live-response, Limitations 8: one session per device
  // ("ActiveRequestAlreadyExists"); api/get-machineactions-collection lists the device's actions, machineaction's
  // requestorComment ("Comment that was written when issuing the action") and commands tell the broker's own.
  const next = harness({}, disk);
  for (let tick = 0; tick < 3; tick++) {
    now += MINUTE;
    await next.tick();
  }
  expect(runs().length - before).toBe(1);
  expect(actionsOn(machine.id)).toHaveLength(1);
  const [record] = await next.broker.list();
  expect(record).toMatchObject({ status: "retrieved", actionId: accepted?.id, sha256: hash("sha256", content) });
  expect(await next.samples.has(hash("sha256", content))).toBe(true);
  expect((await next.state.hit(hit.ruleId, hit.key))?.sha256).toBe(hash("sha256", content));
});

it("adopts the lost GetFile of an offline device (Pending for days) rather than failing it after the transient limit", async () => {
  const content = Buffer.from("\x7fELF on a laptop away for a while\n", "latin1");
  const machine = emulator.defender.addMachine({ computerDnsName: "laptop-kill.contoso.com", online: false });
  emulator.defender.putDeviceFile(machine.id, "/dev/shm/.p", { content });
  const disk = new MemoryStateStore();
  const first = harness({}, new KilledStore(disk, killAtFirst(recordsTheAction)));
  await first.wait("laptop-kill.contoso.com", "/dev/shm/.p", { SHA256: hash("sha256", content) });
  const before = runs().length;
  await expect(first.tick()).rejects.toThrow(/killed/);
  const [accepted] = actionsOn(machine.id);
  // api/run-live-response, Limitations 3: "If the machine isn't available, the session is queued for up to three
  // days"; the broker ticks a minute apart, 25 of them: past its 20 transient errors (docs/service.md)
  const next = harness({}, disk);
  for (let tick = 0; tick < 25; tick++) {
    now += MINUTE;
    await next.tick();
  }
  const [waiting] = await next.broker.list();
  expect(waiting).toMatchObject({
    status: "queued",
    actionId: accepted?.id,
    actionStatus: "Pending",
    transientErrors: 0,
  });
  emulator.defender.setOnline(machine.id, true);
  now += MINUTE;
  expect(await next.tick()).toMatchObject({ retrieved: 1 });
  expect(runs().length - before).toBe(1);
  expect(actionsOn(machine.id)).toHaveLength(1);
});

it("adopts the lost GetFile on the device the mark names, though the device was renamed since (its id stays)", async () => {
  const content = Buffer.from("\x7fELF on a laptop renamed while away\n", "latin1");
  const machine = emulator.defender.addMachine({ computerDnsName: "laptop-old-name.contoso.com", online: false });
  emulator.defender.putDeviceFile(machine.id, "/dev/shm/.r", { content });
  const disk = new MemoryStateStore();
  const first = harness({}, new KilledStore(disk, killAtFirst(recordsTheAction)));
  await first.wait("laptop-old-name.contoso.com", "/dev/shm/.r", { SHA256: hash("sha256", content) });
  const before = runs().length;
  await expect(first.tick()).rejects.toThrow(/killed/);
  const [accepted] = actionsOn(machine.id);
  expect(accepted?.status).toBe("Pending");
  // The device is renamed (api/machine: computerDnsName is its name; id, "Machine identity", is unchanged). The
  // record's mark names the device the GetFile was asked of; the action the API accepted there still holds the
  // device's one live response session (api/run-live-response, Limitations 8).
  emulator.defender.machines.set(machine.id, { ...machine, computerDnsName: "laptop-new-name.contoso.com" });
  const next = harness({}, disk);
  now += MINUTE;
  await next.tick();
  const [record] = await next.broker.list();
  expect(record).toMatchObject({ status: "queued", actionId: accepted?.id, machineId: machine.id });
  emulator.defender.setOnline(machine.id, true);
  now += MINUTE;
  expect(await next.tick()).toMatchObject({ retrieved: 1 });
  expect(runs().length - before).toBe(1);
});

it("cancels the lost GetFile of an offline device once no hit waits for the file any more", async () => {
  const content = Buffer.from("\x7fELF on a laptop that never came back\n", "latin1");
  const machine = emulator.defender.addMachine({ computerDnsName: "laptop-gone.contoso.com", online: false });
  emulator.defender.putDeviceFile(machine.id, "/dev/shm/.g", { content });
  const disk = new MemoryStateStore();
  const first = harness({}, new KilledStore(disk, killAtFirst(recordsTheAction)));
  const hit = await first.wait("laptop-gone.contoso.com", "/dev/shm/.g", { SHA256: hash("sha256", content) });
  await expect(first.tick()).rejects.toThrow(/killed/);
  const [accepted] = actionsOn(machine.id);
  expect(accepted?.status).toBe("Pending");
  // The hit is settled without its sample (its pending_timeout) before the next tick: nobody waits for the file. The
  // lost session would hold the device's one live response session (run-live-response, Limitations 8) until it
  // times out, three days queued (Limitations 3); cancel-machine-action: "Cancel an already launched machine action
  // that isn't yet in final state".
  const next = harness({}, disk);
  await next.settle(hit);
  now += MINUTE;
  await next.tick();
  expect(emulator.defender.actions.get(accepted?.id as string)?.status).toBe("Cancelled");
  const [released] = await next.broker.list();
  expect(released).toMatchObject({ status: "failed", actionId: accepted?.id });
  expect(released?.reason).toMatch(/no hit waits/);
  // Looked for once: later ticks neither list the device nor call it again.
  const looked = listings(machine.id).length;
  now += MINUTE;
  await next.tick();
  expect(listings(machine.id).length).toBe(looked);
});

it("drops the mark of a start nobody waits for when the device has no GetFile of it, and lists the device once", async () => {
  const content = Buffer.from("\x7fELF refused before the API took it\n", "latin1");
  const machine = emulator.defender.addMachine({ computerDnsName: "srv-429.contoso.com", osPlatform: "Linux" });
  emulator.defender.putDeviceFile(machine.id, "/dev/shm/.t", { content });
  const h = harness();
  const hit = await h.wait("srv-429.contoso.com", "/dev/shm/.t", { SHA256: hash("sha256", content) });
  // run-live-response, Limitations 1: "10 calls per minute (more requests are responded with HTTP 429)": the start
  // is marked, then refused, so no action exists.
  emulator.faults.push({ api: "defender", path: "/runliveresponse", kind: "throttle", retryAfterSeconds: 1, count: 3 });
  await h.tick();
  const [marked] = await h.broker.list();
  expect(marked).toMatchObject({ status: "requested" });
  expect(marked?.startAttemptedAt).toBeDefined();
  expect(actionsOn(machine.id)).toHaveLength(0);
  await h.settle(hit);
  now += MINUTE;
  await h.tick();
  const [unmarked] = await h.broker.list();
  expect(unmarked?.status).toBe("requested");
  expect(unmarked?.startAttemptedAt).toBeUndefined();
  const looked = listings(machine.id).length;
  expect(looked).toBe(1);
  now += MINUTE;
  await h.tick();
  expect(listings(machine.id).length).toBe(looked);
});

it("adopts, on ActiveRequestAlreadyExists, a lost GetFile whose record has no mark of the attempt (left by an earlier version)", async () => {
  const content = Buffer.from("\x7fELF asked for by the version before\n", "latin1");
  const machine = emulator.defender.addMachine({ computerDnsName: "laptop-old.contoso.com", online: false });
  emulator.defender.putDeviceFile(machine.id, "/dev/shm/.v", { content });
  const disk = new MemoryStateStore();
  const first = harness({}, new KilledStore(disk, killAtFirst(recordsTheAction)));
  await first.wait("laptop-old.contoso.com", "/dev/shm/.v", { SHA256: hash("sha256", content) });
  await expect(first.tick()).rejects.toThrow(/killed/);
  const [accepted] = actionsOn(machine.id);
  // the record as a version that wrote no mark before runliveresponse left it: `requested`, nothing of the attempt
  const [left] = await disk.list<Acquisition & { startAttemptedAt?: string }>("acquisition");
  if (!left) throw new Error("the killed process left no acquisition");
  const { startAttemptedAt: _mark, machineId: _machine, ...unmarked } = left.value;
  await disk.put("acquisition", left.partition, left.key, unmarked);
  // api/run-live-response, Limitations 8: "subsequent requests are responded to with HTTP 400 -
  // ActiveRequestAlreadyExists": the session the device runs is looked at before the answer counts as transient
  const next = harness({}, disk);
  now += MINUTE;
  await next.tick();
  const [record] = await next.broker.list();
  expect(record).toMatchObject({ status: "queued", actionId: accepted?.id, transientErrors: 0 });
  expect(actionsOn(machine.id)).toHaveLength(1);
});

it("waits out another requestor's session on the device as transient, adopting nothing, then fetches the file itself", async () => {
  const content = Buffer.from("\x7fELF an analyst is on this device\n", "latin1");
  const machine = emulator.defender.addMachine({ computerDnsName: "srv-busy.contoso.com", online: false });
  emulator.defender.putDeviceFile(machine.id, "/dev/shm/.b", { content });
  // an analyst's GetFile of the same file on the same device, with their own comment (api/machineaction:
  // requestorComment), queued while the device is offline
  const theirs = emulator.defender.createAction(
    emulator.defender.machine(machine.id),
    [{ type: "GetFile", params: [{ key: "Path", value: "/dev/shm/.b" }] }],
    "triage: pulling the implant for the IR ticket",
  );
  const h = harness();
  await h.wait("srv-busy.contoso.com", "/dev/shm/.b", { SHA256: hash("sha256", content) });
  const listed = listings(machine.id).length;
  for (let tick = 1; tick <= 3; tick++) {
    now += MINUTE;
    expect(await h.tick()).toMatchObject({ requested: 1, queued: 0 });
    const [record] = await h.broker.list();
    // api/run-live-response, Limitations 8: one session per device, "ActiveRequestAlreadyExists"; not ours: a
    // transient wait, as any (docs/service.md: up to 20), after a look at the device's actions each tick
    expect(record).toMatchObject({ status: "requested", transientErrors: tick });
    expect(record?.actionId).toBeUndefined();
    expect(record?.lastError).toContain("ActiveRequestAlreadyExists");
    expect(listings(machine.id).length - listed).toBe(tick);
  }
  expect(theirs.status).toBe("Pending");
  // the analyst's session ends (the device comes online and runs it): the broker's own GetFile is accepted next
  emulator.defender.setOnline(machine.id, true);
  now += MINUTE;
  expect(await h.tick()).toMatchObject({ queued: 1 });
  now += MINUTE;
  expect(await h.tick()).toMatchObject({ retrieved: 1 });
  const ours = actionsOn(machine.id).filter((a) => a.id !== theirs.id);
  expect(ours).toHaveLength(1);
  expect((await h.broker.list())[0]).toMatchObject({ actionId: ours[0]?.id });
});
