/**
 * src/sentinel/defender-client.ts against the emulator: the sample-broker path (find the device by name, GetFile,
 * poll, download, hash) through an offline hour, a 429 storm and an expired link. The expected hashes are the
 * bytes' own (node:crypto over what the test put on the device); the status names and limits are the docs'.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { DefenderClient } from "../../src/sentinel/defender-client.js";
import { DefenderApiError } from "../../src/sentinel/defender-types.js";
import { type Emulator, startEmulator } from "../emulator/server.js";

let emulator: Emulator;
let clock = Date.parse("2026-04-01T08:00:00Z");
const sleeps: number[] = [];
let onSleep: (() => void) | undefined;
const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-defender-"));
const MINUTE = 60_000;
const SAMPLE = Buffer.from("#!/bin/sh\n# shm loader sample, for the broker\nexec /dev/shm/.x\n", "utf8");
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

function client(): DefenderClient {
  return new DefenderClient({
    credential: emulator.credential,
    baseUrl: emulator.url,
    ca: emulator.ca,
    // waiting moves the emulator's clock instead of the test's time
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
      onSleep?.();
    },
  });
}

beforeAll(async () => {
  emulator = await startEmulator({ now: () => new Date(clock), defaultWorkspace: false });
});
afterAll(async () => {
  await emulator?.close();
});
beforeEach(() => {
  clock += 2 * 24 * 3_600_000;
  sleeps.length = 0;
  onSleep = undefined;
  emulator.faults.clear();
});

it("fetches a file from a device offline for an hour, through a 429 storm and an expired link, once", async () => {
  const machine = emulator.defender.addMachine({
    computerDnsName: "srv-shm-01.contoso.com",
    osPlatform: "Linux",
    online: false,
  });
  emulator.defender.putDeviceFile(machine.id, "/dev/shm/.x", { content: SAMPLE });
  const cameOnlineAt = clock + 60 * MINUTE;
  onSleep = () => {
    if (clock >= cameOnlineAt && !machine.online) emulator.defender.setOnline(machine.id, true);
  };
  // three throttled polls (common-errors: 429 with Retry-After in seconds), then the download link refused once
  emulator.faults.push(
    { api: "defender", path: /^\/api\/machineactions\/[^/]+$/, kind: "throttle", retryAfterSeconds: 20, count: 3 },
    { api: "defender", path: "/defender-results/", kind: "status", status: 403, code: "AuthenticationFailed" },
  );

  const defender = client();
  const found = await defender.findMachineByName("SRV-SHM-01.contoso.com");
  expect(found?.id).toBe(machine.id);
  const action = await defender.runGetFile(machine.id, "/dev/shm/.x", "shmhunt: sample for hit 42");
  expect(action.status).toBe("Pending");
  const done = await defender.waitForAction(action.id, { pollMs: 5 * MINUTE });
  expect(done.status).toBe("Succeeded");
  expect(clock).toBeGreaterThanOrEqual(cameOnlineAt);
  expect(sleeps.filter((ms) => ms === 20_000)).toHaveLength(3);

  const file = path.join(dir, "sample-1.bin");
  const downloaded = await defender.downloadResult(action.id, 0, file);
  expect(downloaded.sha256).toBe(sha256(SAMPLE));
  expect(downloaded.bytes).toBe(SAMPLE.length);
  expect(sha256(readFileSync(file))).toBe(sha256(SAMPLE));

  // fetched once: one live response, two links (the first refused)
  const runs = emulator.requests.filter((r) => r.method === "POST" && /runliveresponse$/i.test(r.path));
  expect(runs).toHaveLength(1);
  const links = emulator.requests.filter((r) => /GetLiveResponseResultDownloadLink/i.test(r.path));
  expect(links.map((r) => r.status)).toEqual([200, 200]);
});

it("surfaces an expired link as a 403 and gets a working one by asking again", async () => {
  const machine = emulator.defender.addMachine({ computerDnsName: "srv-shm-02.contoso.com" });
  emulator.defender.putDeviceFile(machine.id, "C:\\Temp\\x.exe", { content: SAMPLE });
  const defender = client();
  const action = await defender.runGetFile(machine.id, "C:\\Temp\\x.exe", "sample");
  await defender.waitForAction(action.id, { pollMs: 1_000 });
  const link = await defender.resultLink(action.id, 0);
  clock += 31 * MINUTE; // get-live-response-result: "This link is valid for 30 minutes"
  const error = await defender.download(link, path.join(dir, "expired.bin")).catch((e) => e);
  expect(error).toBeInstanceOf(DefenderApiError);
  expect([error.status, error.code]).toEqual([403, "AuthenticationFailed"]);
  expect(existsSync(path.join(dir, "expired.bin"))).toBe(false);
  const again = await defender.downloadResult(action.id, 0, path.join(dir, "again.bin"));
  expect(again.sha256).toBe(sha256(SAMPLE));
});

it("reports a failed action and refuses a download past its byte limit", async () => {
  const machine = emulator.defender.addMachine({ computerDnsName: "srv-shm-03.contoso.com" });
  emulator.defender.putDeviceFile(machine.id, "/bin/big", { content: Buffer.alloc(4096, 1) });
  const defender = client();
  const missing = await defender.runGetFile(machine.id, "/bin/absent", "sample");
  const failed = await defender.waitForAction(missing.id, { pollMs: 1_000 });
  expect(failed.status).toBe("Failed");
  expect(failed.commands?.[0]?.commandStatus).toBe("Failed");
  const noResult = await defender.resultLink(missing.id, 0).catch((e) => e);
  expect(noResult).toBeInstanceOf(DefenderApiError);
  // a final action cannot be cancelled (api/cancel-machine-action: "isn't yet in final state")
  await expect(defender.cancelAction(missing.id, "too late")).rejects.toBeInstanceOf(DefenderApiError);

  const big = await defender.runGetFile(machine.id, "/bin/big", "sample");
  await defender.waitForAction(big.id, { pollMs: 1_000 });
  const target = path.join(dir, "big.bin");
  await expect(defender.downloadResult(big.id, 0, target, { maxBytes: 1024 })).rejects.toThrow(/limit of 1024 bytes/);
  expect(existsSync(target)).toBe(false);
});

it("lists a device's live response actions, newest first, by machineId and type (an OData string's quote doubled)", async () => {
  // a device id with a quote in it: the filter's literal must double it (OData), or the list answers another device's
  const device = emulator.defender.addMachine({ id: "o'hara-01", computerDnsName: "o-hara-01.contoso.com" });
  const other = emulator.defender.addMachine({ id: "o", computerDnsName: "o.contoso.com" });
  emulator.defender.putDeviceFile(device.id, "/dev/shm/.a", { content: SAMPLE });
  const defender = client();
  const done = await defender.runGetFile(device.id, "/dev/shm/.a", "shmhunt: the first");
  expect((await defender.waitForAction(done.id, { pollMs: 1_000 })).status).toBe("Succeeded");
  clock += MINUTE;
  emulator.defender.setOnline(device.id, false);
  const queued = await defender.runGetFile(device.id, "/dev/shm/.b", "shmhunt: the second");
  await defender.runGetFile(other.id, "/dev/shm/.a", "another device");

  const listed = await defender.liveResponseActions(device.id);
  // get-machineactions-collection, Example 2: "filters the MachineActions by machine ID and shows the latest two"
  expect(listed.map((a) => [a.id, a.status])).toEqual([
    [queued.id, "Pending"],
    [done.id, "Succeeded"],
  ]);
  // machineaction: type LiveResponse, requestorComment "Comment that was written when issuing the action", commands
  expect(listed[0]).toMatchObject({
    machineId: device.id,
    type: "LiveResponse",
    requestorComment: "shmhunt: the second",
    commands: [{ command: { type: "GetFile", params: [{ key: "Path", value: "/dev/shm/.b" }] } }],
  });
  const [asked] = emulator.requests.filter((r) => r.method === "GET" && r.path === "/api/machineactions").slice(-1);
  expect(new URLSearchParams(asked?.query).get("$filter")).toBe("machineId eq 'o''hara-01' and type eq 'LiveResponse'");
  expect(Number(new URLSearchParams(asked?.query).get("$top"))).toBeLessThanOrEqual(10_000);
});

it("gives up on a Retry-After longer than it is allowed to wait, with the API's error", async () => {
  emulator.faults.push({ api: "defender", path: "/api/machines", kind: "throttle", retryAfterSeconds: 3600 });
  const error = await client()
    .findMachineByName("nobody.contoso.com")
    .catch((e) => e);
  expect(error).toBeInstanceOf(DefenderApiError);
  expect([error.status, error.code]).toEqual([429, "TooManyRequests"]);
  expect(sleeps).toEqual([]);
});

it("reads a file's profile and statistics, and undefined for a file Defender does not know", async () => {
  const { sha1 } = emulator.defender.addFileProfile({
    content: SAMPLE,
    globalPrevalence: 3,
    organizationPrevalence: 1,
    isValidCertificate: null,
  });
  const defender = client();
  const info = await defender.fileInfo(sha256(SAMPLE));
  expect(info?.sha1).toBe(sha1);
  expect(info?.sha1).toBe(createHash("sha1").update(SAMPLE).digest("hex"));
  expect(info?.globalPrevalence).toBe(3);
  expect((await defender.fileStats(sha1, 48))?.globallyPrevalence).toBe(3);
  expect(await defender.fileInfo("f".repeat(64))).toBeUndefined();
  expect(await defender.findMachineByName("o'brien.contoso.com")).toBeUndefined();
  await expect(defender.fileInfo("not-a-hash")).rejects.toThrow(/SHA-1 or SHA-256/);
});
