/**
 * The sample broker (src/broker/broker.ts) against docs/service.md ("Sample broker") and Microsoft's
 * Defender for Endpoint API pages (api/run-live-response, api/cancel-machine-action). Same harness as
 * broker-api.test.ts: the real DefenderClient against the emulator, state in memory, samples in a folder, `ingest`
 * as the service does it (store, index, attach the hits waiting at the host and path), no scanner. Each case failed
 * until 8 December 2026.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { SampleBroker } from "../../src/broker/broker.js";
import { HuntState } from "../../src/hunt/hunt-state.js";
import { attachSample, isNamedFile, locatorOf, sampleLocatorOf } from "../../src/hunt/sample-locator.js";
import type { HitRecord, HuntPlan } from "../../src/hunt/types.js";
import { DefenderClient } from "../../src/sentinel/defender-client.js";
import { LocalSampleStore } from "../../src/store/local-sample-store.js";
import { MemoryStateStore } from "../../src/store/memory-state-store.js";
import { SampleIndex } from "../../src/store/sample-index.js";
import { type Emulator, startEmulator } from "../emulator/server.js";
import { emulatedDefender } from "./emulated-defender.js";

const MINUTE = 60_000;
let emulator: Emulator;
let now = Date.parse("2026-07-01T08:00:00Z");
const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-broker-faults-"));
const hash = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest("hex");

beforeAll(async () => {
  emulator = await startEmulator({ now: () => new Date(now), defaultWorkspace: false });
});
afterAll(async () => {
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
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

function harness() {
  const store = new MemoryStateStore();
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
      if (locator) await attachSample(state, locator, sha256, (expects) => index.knows(sha256, expects));
    },
    clock: () => new Date(now),
    tmpDir: tmp,
    policy: { skipValidlySigned: false },
  });
  /**
   * A pending hit as the hunt records it (src/hunt/run.ts): by its SHA-256 when the row names one, else by the
   * locator of its host and path (sampleLocatorOf), with the SHA-1/MD5 the row names as `expects`.
   */
  async function wait(row: Record<string, unknown>): Promise<HitRecord> {
    const at = new Date(now).toISOString();
    const sha256 = typeof row.SHA256 === "string" && row.SHA256 !== "" ? row.SHA256 : undefined;
    const locator = sha256 ? undefined : sampleLocatorOf(row, PLAN);
    const expects = {
      ...(typeof row.SHA1 === "string" && row.SHA1 ? { sha1: row.SHA1 } : {}),
      ...(typeof row.MD5 === "string" && row.MD5 ? { md5: row.MD5 } : {}),
    };
    const hit: HitRecord = {
      key: `hit-${String(++serial).padStart(4, "0")}`,
      ruleId: "shm-creation",
      target: "defender",
      status: "pending",
      firstSeen: at,
      updatedAt: at,
      window: { start: at, end: at },
      eventTime: at,
      ...(sha256 ? { sha256 } : { locator: locator as string }),
      ...(!sha256 && Object.keys(expects).length > 0 ? { expects } : {}),
      row,
    };
    await state.putHit(hit);
    await state.putPending(sha256 ?? (locator as string), hit.key, {
      ruleId: hit.ruleId,
      target: hit.target,
      since: at,
    });
    return hit;
  }
  return { broker, state, samples, index, wait, tick: () => broker.tick([PLAN]) };
}

it("cancels the queued GetFile of an offline device once its hit's sample came otherwise (found in the store by its SHA-1)", async () => {
  const content = Buffer.from("\x7fELF uploaded while the device was away\n", "latin1");
  const device = "laptop-rv1.contoso.com";
  const machine = emulator.defender.addMachine({ computerDnsName: device, online: false });
  emulator.defender.putDeviceFile(machine.id, "/dev/shm/.rv1", { content });
  const h = harness();
  // Defender often leaves SHA256 empty (docs/service.md): the hit waits by host and path, named by SHA-1
  const hit = await h.wait({
    DeviceName: device,
    FolderPath: "/dev/shm/.rv1",
    SHA256: "",
    SHA1: hash("sha1", content),
  });
  expect(await h.tick()).toMatchObject({ queued: 1 });
  const [queued] = await h.broker.list();
  expect(queued).toMatchObject({ status: "queued", actionStatus: "Pending" });

  // The file comes otherwise: an upload (POST /samples, no ?host=&path=) stores it and indexes it by its hashes
  // (SampleService.upload -> storeIndexed: putFile, index.add(sha256, {sha256, sha1, md5})).
  const file = path.join(dir, "rv1.bin");
  writeFileSync(file, content);
  await h.samples.putFile(hash("sha256", content), file);
  await h.index.add(
    hash("sha256", content),
    { sha256: hash("sha256", content), sha1: hash("sha1", content), md5: hash("md5", content) },
    new Date(now),
  );
  for (let tick = 0; tick < 3; tick++) {
    now += 5 * MINUTE;
    await h.tick();
  }
  // the broker found the sample and gave it to the hit
  expect((await h.state.hit(hit.ruleId, hit.key))?.sha256).toBe(hash("sha256", content));
  // docs/service.md: "A `queued` action no hit waits for any more (its hits settled by their `pending_timeout`, or by
  // a sample that came otherwise) is looked at once more and cancelled (api/cancel-machine-action) ... it would hold
  // one of the broker's sessions and its device's one session until the API's three-day timeout."
  expect(emulator.defender.actions.get(queued?.actionId as string)?.status).toBe("Cancelled");
});

it("fetches exactly the path the telemetry names: a trailing space is part of a Linux file name", async () => {
  // POSIX: a file name is any bytes but '/' and NUL; auditd writes such a name hex-encoded and the ShmhuntAuditd
  // parser decodes it (kql/functions: auditValue), so `exe=` can name "/dev/shm/.x " (trailing space).
  const implant = Buffer.from("\x7fELF the implant, named with a trailing space\n", "latin1");
  const decoy = Buffer.from("\x7fELF a harmless decoy beside it\n", "latin1");
  const device = "srv-rv2.contoso.com";
  const machine = emulator.defender.addMachine({ computerDnsName: device, osPlatform: "Linux" });
  emulator.defender.putDeviceFile(machine.id, "/dev/shm/.x ", { content: implant });
  emulator.defender.putDeviceFile(machine.id, "/dev/shm/.x", { content: decoy });
  const h = harness();
  // A hit with no hash (auditd shmget: exe=): docs/service.md, "A hit with no hash but a host and path ... is settled
  // by the file fetched from that path."
  const hit = await h.wait({ DeviceName: device, FolderPath: "/dev/shm/.x " });
  expect(await h.tick()).toMatchObject({ queued: 1 });
  const [queued] = await h.broker.list();
  const action = emulator.defender.actions.get(queued?.actionId as string);
  const asked = action?.commands[0]?.command.params.find((p) => p.key === "Path")?.value;
  expect(asked).toBe("/dev/shm/.x ");
  now += MINUTE;
  await h.tick();
  // the hit is given the file at the path it names, not the one beside it
  expect((await h.state.hit(hit.ruleId, hit.key))?.sha256).toBe(hash("sha256", implant));
});

it("fetches a file for a hit that names its device and path, though an earlier hit of the same SHA-256 named no path", async () => {
  const content = Buffer.from("\x7fELF seen twice\n", "latin1");
  const device = "srv-rv3.contoso.com";
  const machine = emulator.defender.addMachine({ computerDnsName: device, osPlatform: "Linux" });
  emulator.defender.putDeviceFile(machine.id, "/dev/shm/.rv3", { content });
  const h = harness();
  const sha256 = hash("sha256", content);
  // Hunt 1: a row that names the SHA-256 but no path (its path column empty): nothing to ask the device for.
  await h.wait({ DeviceName: device, FolderPath: "", SHA256: sha256 });
  expect(await h.tick()).toMatchObject({ skipped: 1 });
  // Hunt 2: another hit of the same file names its device and path: docs/service.md, "Live response on the hit's
  // device ... runliveresponse with one GetFile for the path"; skipped is for the file's own reasons ("a file
  // Defender's Files API reports validly signed, or more prevalent than the settings allow").
  now += 5 * MINUTE;
  const second = await h.wait({ DeviceName: device, FolderPath: "/dev/shm/.rv3", SHA256: sha256 });
  for (let tick = 0; tick < 3; tick++) {
    now += MINUTE;
    await h.tick();
  }
  const runs = emulator.requests.filter(
    (r) =>
      r.api === "defender" &&
      r.method === "POST" &&
      r.path.toLowerCase() === `/api/machines/${machine.id.toLowerCase()}/runliveresponse`,
  );
  expect(runs.length).toBe(1);
  expect(await h.samples.has(sha256)).toBe(true);
  expect((await h.state.hit(second.ruleId, second.key))?.status).toBe("pending");
});
