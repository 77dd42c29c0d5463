/**
 * Every scan of a stored sample that settles its hits is done holding the sample's lease, and decides "known" the
 * one way (SampleService.scanUnlessKnown: a verdict of the rules in use): an arrival and an upload (those are tested
 * in test/functions/overlapping-deliveries.test.ts), the sample broker's settling of a sample it found stored
 * (settleWith, its ingestStored), and the scan retries of the scheduler's tick (retryScans). Real parts: the
 * service as compose.ts builds it over the local state journal and sample folder, and the YARA-X scanner (counted:
 * each scan is the sample read and matched again; made slow where an upload must still be scanning).
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServices } from "../../src/app/compose.js";
import { loadConfig } from "../../src/app/config.js";
import { tickWithin } from "../../src/app/hunt-deadline.js";
import type { Services } from "../../src/app/services.js";
import { makeTempFolder } from "../../src/store/temp-folder.js";
import { createScanner } from "../../src/yara/scanner.js";
import { countedScanner } from "../support/counted-scanner.js";
import { clock, EventTable, execEvent, huntRule, MIN, plan } from "../support/hunt-fixtures.js";

const MARKER_RULE = `rule shmhunt_marker {
  strings:
    $a = "SHMHUNT-LEASE-MARKER"
  condition:
    $a
}
`;

const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-sample-lease-"));
const time = clock("2026-03-01T12:00:00Z");
const events = new EventTable();
/** The SHA-256 of every sample the scanner scanned, in order. */
const scans: string[] = [];
/** How long a scan takes at least (a large sample's). */
let scanDelayMs = 0;
let services: Services;

const sample = (name: string) => Buffer.from(`\x7fELF SHMHUNT-LEASE-MARKER ${name}\n`, "latin1");
const sha = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const stale = sample("stale verdict");
const raced = sample("broker during an upload");
const retried = sample("retry during an upload");
const downloaded = sample("broker's download");
const heldElsewhere = sample("held by another host");
const lateInTheTick = sample("a tick without time left");

beforeAll(async () => {
  const rulesDir = path.join(dir, "rules");
  mkdirSync(rulesDir);
  writeFileSync(path.join(rulesDir, "marker.yar"), MARKER_RULE);
  const config = loadConfig(
    { SHMHUNT_DATA_DIR: path.join(dir, "data"), SHMHUNT_RULES_DIR: rulesDir, SHMHUNT_TMP_DIR: path.join(dir, "tmp") },
    dir,
  );
  const rule = huntRule({ gate: { mode: "require", yaraRules: [], pendingTimeoutMs: 60 * MIN } });
  services = await createServices(config, {
    clock: time.now,
    queries: events,
    plans: async () => [plan(rule)],
    scanner: async () => {
      const scanner = await createScanner({
        rules: [rulesDir],
        maxSampleSize: config.maxSampleBytes,
        timeoutMs: config.scanTimeoutMs,
        workers: 1,
        tempFolder: () => makeTempFolder("sample", config.tmpDir),
      });
      return countedScanner(scanner, scans, () => scanDelayMs);
    },
  });
  // One hit waiting (gate require) for each sample.
  for (const [i, bytes] of [stale, raced, retried, downloaded, heldElsewhere, lateInTheTick].entries())
    events.add(execEvent("2026-03-01T11:58:00Z", { SHA256: sha(bytes), ReportId: i + 1 }));
  const run = await services.hunt.run({ force: true });
  expect(run.runs[0]?.counts).toMatchObject({ pending: 6 });
});

afterAll(async () => {
  await services?.close();
  rmSync(dir, { recursive: true, force: true });
});

const waiting = async (bytes: Buffer) =>
  (await services.hunt.hits()).filter((h) => h.row.SHA256 === sha(bytes)).map((h) => h.status);

/**
 * Runs `storing` (an upload or the broker's download) with every scan slowed to 1 s, and `meanwhile` once the sample
 * is in the store while its scan still runs; then checks what `storing` answered (stored now, and matched) and that
 * the sample was scanned exactly once. Each test then looks at what `meanwhile` left.
 */
async function whileItScans(
  bytes: Buffer,
  storing: () => Promise<unknown>,
  meanwhile: (sha256: string) => Promise<unknown>,
) {
  const s = sha(bytes);
  scans.length = 0;
  scanDelayMs = 1000;
  try {
    const storingNow = storing();
    while (!(await services.sampleStore.info(s))) await sleep(10);
    await meanwhile(s);
    expect(await storingNow).toMatchObject({ sha256: s, created: true, verdict: { verdict: "match" } });
  } finally {
    scanDelayMs = 0;
  }
  expect(scans).toEqual([s]);
}

/** The sample put in the sample store under its SHA-256, as an upload leaves it before its scan; its SHA-256. */
async function stored(bytes: Buffer, name: string): Promise<string> {
  const s = sha(bytes);
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  await services.sampleStore.putFile(s, file, { sha256: s });
  return s;
}

describe("the broker's settling of a stored sample (settleWith)", () => {
  it("does not take a verdict of other rules as known: it scans the sample with the rules in use", async () => {
    // Stored, with the verdict the rules before a change made (clean then); the rescan has not reached it yet.
    const s = await stored(stale, "stale.bin");
    const old = "0".repeat(64);
    await services.state.putVerdict({
      sha256: s,
      size: stale.length,
      matches: [],
      scannedAt: "2026-02-01T00:00:00.000Z",
      ruleset: old,
    });
    scans.length = 0;
    await services.samples.settleWith(s);
    expect(scans).toEqual([s]);
    expect(await waiting(stale)).toEqual(["alerted"]);
    const verdict = await services.state.verdict(s);
    expect(verdict?.ruleset).toMatch(/^[0-9a-f]{64}$/);
    expect(verdict?.ruleset).not.toBe(old);
    expect(verdict?.matches.map((m) => m.rule)).toEqual(["shmhunt_marker"]);
  });

  it("waits for an upload of the sample that is still scanning, finds its verdict, and scans nothing again", async () => {
    // The broker finds the sample in the store once the upload has stored it, while the upload still scans.
    await whileItScans(
      raced,
      () => services.samples.upload(Readable.from([raced])),
      (s) => services.samples.settleWith(s),
    );
    expect(await waiting(raced)).toEqual(["alerted"]);
    expect(await services.state.store.list("lease")).toEqual([]);
  });
});

describe("the broker's download (ingestFile)", () => {
  it("is scanned holding the sample's lease: the broker's settling of the sample meanwhile waits for that scan", async () => {
    const file = path.join(dir, "getfile.bin");
    writeFileSync(file, downloaded);
    const names = { sha256: sha(downloaded), sha1: createHash("sha1").update(downloaded).digest("hex") };
    await whileItScans(
      downloaded,
      () => services.samples.ingestFile(file, names),
      (s) => services.samples.settleWith(s),
    );
    expect(await waiting(downloaded)).toEqual(["alerted"]);
  });
});

describe("the scan retries of a tick (retryScans)", () => {
  it("wait for an upload of the sample that is still scanning, and do not scan it again", async () => {
    // Stored, no verdict yet, a hit waiting: what a scan lost to a restart looks like to the tick.
    await whileItScans(
      retried,
      () => services.samples.upload(Readable.from([retried])),
      () => services.samples.retryScans(),
    );
    expect(await waiting(retried)).toEqual(["alerted"]);
    // Nothing left to retry: the next tick scans nothing.
    time.advance(10 * MIN);
    scans.length = 0;
    expect(await services.samples.retryScans()).toBe(0);
    expect(scans).toEqual([]);
  });
});

describe("the scan retries of a Functions tick, with its deadline", () => {
  it("start none after it, wait for a sample's lease no longer than it, and leave the rest to the next tick", async () => {
    // Stored, no verdict, a hit waiting for it: a retry is due. Another host holds the sample's lease (scanning it,
    // renewing it) for the next hour.
    const s = await stored(heldElsewhere, "held.bin");
    const store = services.state.store;
    const held = { owner: "other-host/7/nonce", expiresAt: new Date(time.now().getTime() + 60 * MIN).toISOString() };
    await store.put("lease", "shmhunt-sample", s, held);
    scans.length = 0;
    // The deadline passed: nothing is started.
    expect(await services.samples.retryScans({ deadline: new Date(time.now().getTime() - 1) })).toBe(0);
    // 300 ms left: the retry waits that long for the lease, not a lease's time (2 min), and scans nothing.
    const started = performance.now();
    const attempted = await Promise.race([
      services.samples.retryScans({ deadline: new Date(time.now().getTime() + 300) }),
      sleep(60_000).then(() => "still waiting after 60 s"),
    ]);
    expect(attempted).toBe(1);
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(scans).toEqual([]);
    expect(await waiting(heldElsewhere)).toEqual(["pending"]);
    // The other host is done (its lease released): the next tick retries the sample, scans it, and the hit alerts.
    await store.delete("lease", "shmhunt-sample", s);
    expect(await services.samples.retryScans({ deadline: new Date(time.now().getTime() + 60_000) })).toBe(1);
    expect(scans).toEqual([s]);
    expect(await waiting(heldElsewhere)).toEqual(["alerted"]);
  }, 120_000);
});

describe("a Functions timer's tick (tickWithin)", () => {
  it("gives its deadline to the scan retries: with no time left it starts none, with its hour it scans", async () => {
    // Stored, no verdict, a hit waiting for it: a retry is due on the next tick.
    const s = await stored(lateInTheTick, "late.bin");
    scans.length = 0;
    // A host that ends the invocation at once: the deadline is the tick's start, and no retry starts.
    const none = await tickWithin(services, 0);
    expect(none.deadline).toEqual(time.now());
    expect(scans).toEqual([]);
    expect(await waiting(lateInTheTick)).toEqual(["pending"]);
    // The Functions timer's hour: the retry runs, scans the sample, and its hit alerts.
    const hour = await tickWithin(services, 60 * MIN);
    expect(hour.deadline.getTime()).toBeGreaterThan(time.now().getTime());
    expect(scans).toEqual([s]);
    expect(await waiting(lateInTheTick)).toEqual(["alerted"]);
  }, 120_000);
});

describe("lease records an earlier version left given up", () => {
  it("are removed by the first hunt run of the service (a sample's, which no settling may take again, too)", async () => {
    const data = path.join(dir, "upgraded");
    const config = loadConfig(
      { SHMHUNT_DATA_DIR: data, SHMHUNT_RULES_DIR: path.join(dir, "rules"), SHMHUNT_TMP_DIR: path.join(dir, "tmp") },
      dir,
    );
    const released = { owner: "", expiresAt: "1970-01-01T00:00:00.000Z" };
    const held = { owner: "other-host/7/nonce", expiresAt: "2026-03-01T13:00:00.000Z" };
    const upgraded = await createServices(config, {
      clock: time.now,
      queries: new EventTable(),
      plans: async () => [plan(huntRule())],
      scanner: null,
    });
    try {
      const store = upgraded.state.store;
      for (let i = 0; i < 3; i++) await store.put("lease", "shmhunt-sample", String(i).repeat(64), released);
      await store.put("lease", "6a0c2f4e-0000-4000-8000-00000000dead", "defender", released);
      await store.put("lease", "shmhunt-sample", "f".repeat(64), held);
      await upgraded.hunt.run({ force: true });
      expect((await store.list("lease")).map((r) => r.value)).toEqual([held]);
      // Done once: this version leaves no released record, so later runs of the process do not read the leases.
      await store.put("lease", "shmhunt-sample", "e".repeat(64), released);
      await upgraded.hunt.run({ force: true });
      expect(await store.list("lease")).toHaveLength(2);
    } finally {
      await upgraded.close();
    }
  });
});
