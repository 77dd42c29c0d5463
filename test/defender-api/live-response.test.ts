/**
 * Live response GetFile against the emulator, over raw HTTPS, judged by Microsoft's pages
 * (learn.microsoft.com/defender-endpoint/api/...): run-live-response, get-machineaction-object,
 * get-machineactions-collection, get-live-response-result, machineaction, common-errors; and live-response
 * ("getfile limit: 3 GB").
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator/server.js";
import { call, defenderToken, getFileBody } from "./https.js";

let emulator: Emulator;
let token: string;
let clock = Date.parse("2026-03-02T09:00:00Z");
const MINUTE = 60_000;

beforeAll(async () => {
  emulator = await startEmulator({ now: () => new Date(clock), defaultWorkspace: false });
  token = await defenderToken(emulator);
});
afterAll(async () => {
  await emulator?.close();
});
beforeEach(() => {
  // each test starts past every rate-limit window and every running action of the one before
  clock += 2 * 24 * 3_600_000;
  emulator.defender.timing.pickupMs = 0;
  emulator.defender.timing.runMs = 0;
});

const SAMPLE = Buffer.from("\x7fELF\x02\x01\x01 shm sample bytes for the broker", "latin1");

it("runs GetFile: 201 Pending with the command Created, then Succeeded, a 30-minute link, the bytes", async () => {
  const machine = emulator.defender.addMachine({ computerDnsName: "web-01.contoso.com", osPlatform: "Linux" });
  emulator.defender.putDeviceFile(machine.id, "/usr/local/bin/shmd", { content: SAMPLE });

  const created = await call(emulator, "POST", `/api/machines/${machine.id}/runliveresponse`, {
    token,
    body: getFileBody("/usr/local/bin/shmd"),
  });
  // run-live-response: "If successful, this method returns 201 Created"; the example's action is "Pending",
  // type "LiveResponse", its command "Created" with null start/end times and no errors
  expect(created.status).toBe(201);
  expect(created.json).toMatchObject({
    type: "LiveResponse",
    status: "Pending",
    machineId: machine.id,
    computerDnsName: "web-01.contoso.com",
    requestorComment: "shmhunt sample",
    errorHResult: 0,
    commands: [
      {
        index: 0,
        startTime: null,
        endTime: null,
        commandStatus: "Created",
        errors: [],
        command: { type: "GetFile", params: [{ key: "Path", value: "/usr/local/bin/shmd" }] },
      },
    ],
  });
  expect(created.json["@odata.context"]).toMatch(/\/api\/\$metadata#MachineActions\/\$entity$/);
  const actionId: string = created.json.id;

  // get-machineaction-object: 200 with the Machine Action; machineaction: status ... Succeeded
  const polled = await call(emulator, "GET", `/api/machineactions/${actionId}`, { token });
  expect(polled.status).toBe(200);
  expect(polled.json).toMatchObject({ id: actionId, status: "Succeeded", commands: [{ commandStatus: "Completed" }] });

  // get-live-response-result: 200 with the link in `value`, "valid for 30 minutes"
  const linked = await call(
    emulator,
    "GET",
    `/api/machineactions/${actionId}/GetLiveResponseResultDownloadLink(index=0)`,
    {
      token,
    },
  );
  expect(linked.status).toBe(200);
  expect(linked.json["@odata.context"]).toMatch(/\$metadata#Edm\.String$/);
  const link = new URL(linked.json.value);
  expect(Date.parse(link.searchParams.get("se") ?? "")).toBe(clock + 30 * MINUTE);
  expect(link.searchParams.get("sp")).toBe("r");

  // the link is a SAS URL: no bearer token
  const downloaded = await call(emulator, "GET", linked.json.value);
  expect(downloaded.status).toBe(200);
  expect(createHash("sha256").update(downloaded.bytes).digest("hex")).toBe(
    createHash("sha256").update(SAMPLE).digest("hex"),
  );
});

it("expires the link after 30 minutes (Azure Storage's 403 AuthenticationFailed) and makes a new one on request", async () => {
  const machine = emulator.defender.addMachine({ computerDnsName: "web-02.contoso.com" });
  emulator.defender.putDeviceFile(machine.id, "C:\\Windows\\Temp\\a.exe", { content: SAMPLE });
  const created = await call(emulator, "POST", `/api/machines/${machine.id}/runliveresponse`, {
    token,
    body: getFileBody("C:\\Windows\\Temp\\a.exe"),
  });
  const linkPath = `/api/machineactions/${created.json.id}/GetLiveResponseResultDownloadLink(index=0)`;
  const first = (await call(emulator, "GET", linkPath, { token })).json.value as string;

  clock += 30 * MINUTE + 1_000;
  const expired = await call(emulator, "GET", first);
  expect(expired.status).toBe(403);
  expect(expired.headers["x-ms-error-code"]).toBe("AuthenticationFailed");
  expect(expired.bytes.toString("utf8")).toContain("Signature not valid in the specified time frame");

  // get-live-response-result: "An expired link can be re-created by another call, and there's no need to run live
  // response again."
  const second = (await call(emulator, "GET", linkPath, { token })).json.value as string;
  expect(second).not.toBe(first);
  const again = await call(emulator, "GET", second);
  expect(again.status).toBe(200);
  expect(again.bytes.equals(SAMPLE)).toBe(true);
  expect([...emulator.defender.actions.values()].filter((a) => a.machineId === machine.id)).toHaveLength(1);

  // a link whose signature was tampered with does not open
  const forged = new URL(second);
  forged.searchParams.set("sig", "AAAA");
  expect((await call(emulator, "GET", forged.toString())).status).toBe(404);
});

it("queues the action as Pending while the device is offline, refuses a second session, runs it when it comes online", async () => {
  const machine = emulator.defender.addMachine({ computerDnsName: "db-01.contoso.com", online: false });
  emulator.defender.putDeviceFile(machine.id, "/opt/db/bin/loader", { content: SAMPLE });
  const created = await call(emulator, "POST", `/api/machines/${machine.id}/runliveresponse`, {
    token,
    body: getFileBody("/opt/db/bin/loader"),
  });
  expect(created.status).toBe(201);

  clock += 60 * MINUTE;
  const waiting = await call(emulator, "GET", `/api/machineactions/${created.json.id}`, { token });
  expect(waiting.json.status).toBe("Pending");

  // run-live-response, Limitations 8: "HTTP 400 - ActiveRequestAlreadyExists"; common-errors: error.code/message/target
  const second = await call(emulator, "POST", `/api/machines/${machine.id}/runliveresponse`, {
    token,
    body: getFileBody("/opt/db/bin/loader"),
  });
  expect(second.status).toBe(400);
  expect(second.json.error.code).toBe("ActiveRequestAlreadyExists");
  expect(typeof second.json.error.message).toBe("string");
  expect(second.json.error.target).toMatch(/^[0-9a-f-]{36}$/);

  // the machine's healthStatus follows (machine: "Active", "Inactive", ...)
  expect((await call(emulator, "GET", `/api/machines/${machine.id}`, { token })).json.healthStatus).toBe("Inactive");
  emulator.defender.setOnline(machine.id, true);
  expect((await call(emulator, "GET", `/api/machines/${machine.id}`, { token })).json.healthStatus).toBe("Active");
  const done = await call(emulator, "GET", `/api/machineactions/${created.json.id}`, { token });
  expect(done.json.status).toBe("Succeeded");
});

it("times a queued action out after three days offline", async () => {
  const machine = emulator.defender.addMachine({ computerDnsName: "laptop-07.contoso.com", online: false });
  const created = await call(emulator, "POST", `/api/machines/${machine.id}/runliveresponse`, {
    token,
    body: getFileBody("C:\\x.exe"),
  });
  // run-live-response, Limitations 3: "queued for up to three days"
  clock += 3 * 24 * 60 * MINUTE - MINUTE;
  expect((await call(emulator, "GET", `/api/machineactions/${created.json.id}`, { token })).json.status).toBe(
    "Pending",
  );
  clock += 2 * MINUTE;
  expect((await call(emulator, "GET", `/api/machineactions/${created.json.id}`, { token })).json.status).toBe(
    "TimeOut",
  );
});

it("shows InProgress while the device runs the command", async () => {
  emulator.defender.timing.runMs = 5 * MINUTE;
  const machine = emulator.defender.addMachine({ computerDnsName: "build-02.contoso.com" });
  emulator.defender.putDeviceFile(machine.id, "/tmp/x", { content: SAMPLE });
  const created = await call(emulator, "POST", `/api/machines/${machine.id}/runliveresponse`, {
    token,
    body: getFileBody("/tmp/x"),
  });
  expect((await call(emulator, "GET", `/api/machineactions/${created.json.id}`, { token })).json.status).toBe(
    "InProgress",
  );
  const early = await call(
    emulator,
    "GET",
    `/api/machineactions/${created.json.id}/GetLiveResponseResultDownloadLink(index=0)`,
    { token },
  );
  expect(early.status).toBe(400);
  clock += 5 * MINUTE;
  expect((await call(emulator, "GET", `/api/machineactions/${created.json.id}`, { token })).json.status).toBe(
    "Succeeded",
  );
});

it("fails the action when the file is missing or over the 3 GB getfile limit, and skips the commands after", async () => {
  const machine = emulator.defender.addMachine({ computerDnsName: "web-03.contoso.com" });
  emulator.defender.putDeviceFile(machine.id, "/var/big.img", { sizeBytes: 3 * 1024 ** 3 + 1 });
  emulator.defender.putDeviceFile(machine.id, "/bin/ok", { content: SAMPLE });
  const body = {
    Commands: [
      { type: "GetFile", params: [{ key: "Path", value: "/nope" }] },
      { type: "GetFile", params: [{ key: "Path", value: "/bin/ok" }] },
    ],
    Comment: "two files",
  };
  const created = await call(emulator, "POST", `/api/machines/${machine.id}/runliveresponse`, { token, body });
  const failed = await call(emulator, "GET", `/api/machineactions/${created.json.id}`, { token });
  // machineaction: status Failed; run-live-response: command status "Failed"; Limitations 7: "when a live response
  // command fails all the subsequent actions won't be executed"
  expect(failed.json.status).toBe("Failed");
  expect(failed.json.commands.map((c: { commandStatus: string }) => c.commandStatus)).toEqual(["Failed", "Created"]);
  expect(failed.json.commands[0].errors).toHaveLength(1);

  const big = await call(emulator, "POST", `/api/machines/${machine.id}/runliveresponse`, {
    token,
    body: getFileBody("/var/big.img"),
  });
  const bigDone = await call(emulator, "GET", `/api/machineactions/${big.json.id}`, { token });
  expect(bigDone.json.status).toBe("Failed");
  expect(bigDone.json.commands[0].errors[0]).toContain("3 GB");
});

it("judges the body: case-sensitive parameters, Path required, command order, unknown machine", async () => {
  const machine = emulator.defender.addMachine({ computerDnsName: "web-04.contoso.com" });
  const post = (body: unknown, id = machine.id) =>
    call(emulator, "POST", `/api/machines/${id}/runliveresponse`, { token, body });
  // common-errors: "The submitted body parameters are currently case-sensitive" -> InvalidRequestBody
  const lower = await post({ commands: [{ type: "GetFile", params: [{ key: "Path", value: "/a" }] }] });
  expect([lower.status, lower.json.error.code]).toEqual([400, "InvalidRequestBody"]);
  // run-live-response, Commands: GetFile "Key: Path"; common-errors: MissingRequiredParameter (400)
  const noPath = await post({ Commands: [{ type: "GetFile", params: [{ key: "path", value: "/a" }] }] });
  expect([noPath.status, noPath.json.error.code]).toEqual([400, "MissingRequiredParameter"]);
  // "Allowed values are PutFile, RunScript, GetFile (must be in this order ...)"
  const order = await post({
    Commands: [
      { type: "GetFile", params: [{ key: "Path", value: "/a" }] },
      { type: "RunScript", params: [{ key: "ScriptName", value: "x.ps1" }] },
    ],
  });
  expect([order.status, order.json.error.code]).toEqual([400, "InvalidRequestBody"]);
  // run-live-response: "If machine with the specified ID wasn't found, you see 404 Not Found"
  const missing = await post(getFileBody("/a"), "0000000000000000000000000000000000000000");
  expect(missing.status).toBe(404);
  expect(missing.json.error).toMatchObject({ code: "ResourceNotFound" });
  // get-machineaction-object: "If machine action entity with the specified ID wasn't found - 404 Not Found"
  const noAction = await call(emulator, "GET", "/api/machineactions/2e9da30d-27f6-4208-81f2-9cd3d67893ba", { token });
  expect(noAction.status).toBe(404);
});

it("throttles runliveresponse at 10 calls per minute with Retry-After, and lets the call through after it", async () => {
  const machines = Array.from({ length: 11 }, (_, i) =>
    emulator.defender.addMachine({ computerDnsName: `rl-${i}.contoso.com` }),
  );
  const statuses: number[] = [];
  let last: Awaited<ReturnType<typeof call>> | undefined;
  for (const machine of machines) {
    last = await call(emulator, "POST", `/api/machines/${machine.id}/runliveresponse`, {
      token,
      body: getFileBody("/a"),
    });
    statuses.push(last.status);
  }
  // run-live-response, Limitations 1: "10 calls per minute (more requests are responded with HTTP 429)"
  expect(statuses).toEqual([...Array(10).fill(201), 429]);
  // common-errors, Throttling: "A Retry-After in the response header indicating how long to wait (in seconds)"
  const retryAfter = Number(last?.headers["retry-after"]);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(last?.json.error.code).toBe("TooManyRequests");
  clock += retryAfter * 1000;
  const after = await call(emulator, "POST", `/api/machines/${machines[10]?.id}/runliveresponse`, {
    token,
    body: getFileBody("/a"),
  });
  expect(after.status).toBe(201);
});

it("answers 429 past 25 concurrently running sessions", async () => {
  emulator.defender.timing.runMs = 24 * 60 * MINUTE;
  const machines = Array.from({ length: 26 }, (_, i) =>
    emulator.defender.addMachine({ computerDnsName: `cc-${i}.contoso.com` }),
  );
  const statuses: number[] = [];
  for (const [i, machine] of machines.entries()) {
    if (i > 0 && i % 10 === 0) clock += MINUTE + 1_000; // stay under 10 calls per minute
    const answer = await call(emulator, "POST", `/api/machines/${machine.id}/runliveresponse`, {
      token,
      body: getFileBody("/a"),
    });
    statuses.push(answer.status);
  }
  // run-live-response, Limitations 2: "25 concurrently running sessions (requests exceeding the throttling limit
  // receives a "429 - Too many requests" response)"
  expect(statuses).toEqual([...Array(25).fill(201), 429]);
});

it("answers an injected throttle in Defender's error shape with its Retry-After", async () => {
  const machine = emulator.defender.addMachine({ computerDnsName: "web-05.contoso.com" });
  emulator.faults.push({ api: "defender", path: "/machineactions/", kind: "throttle", retryAfterSeconds: 7 });
  const created = await call(emulator, "POST", `/api/machines/${machine.id}/runliveresponse`, {
    token,
    body: getFileBody("/a"),
  });
  expect(created.status).toBe(201);
  const throttled = await call(emulator, "GET", `/api/machineactions/${created.json.id}`, { token });
  expect(throttled.status).toBe(429);
  expect(throttled.headers["retry-after"]).toBe("7");
  expect(throttled.json.error.code).toBe("TooManyRequests");
  expect((await call(emulator, "GET", `/api/machineactions/${created.json.id}`, { token })).status).toBe(200);
});

it("cancels a queued action (200 with the action Cancelled), then refuses to cancel it again", async () => {
  const machine = emulator.defender.addMachine({ computerDnsName: "kiosk-01.contoso.com", online: false });
  emulator.defender.putDeviceFile(machine.id, "/a", { content: SAMPLE });
  const created = await call(emulator, "POST", `/api/machines/${machine.id}/runliveresponse`, {
    token,
    body: getFileBody("/a"),
  });
  const cancelPath = `/api/machineactions/${created.json.id}/cancel`;
  // api/cancel-machine-action: body {"Comment"}; 200 with the Machine Action; machineaction: cancellationComment
  const noComment = await call(emulator, "POST", cancelPath, { token, body: {} });
  expect(noComment.status).toBe(400);
  const cancelled = await call(emulator, "POST", cancelPath, {
    token,
    body: { Comment: "Machine action was canceled by automation" },
  });
  expect(cancelled.status).toBe(200);
  expect(cancelled.json).toMatchObject({
    status: "Cancelled",
    cancellationComment: "Machine action was canceled by automation",
  });
  expect(typeof cancelled.json.cancellationDateTimeUtc).toBe("string");
  // a cancelled action frees the device: the device comes online and nothing runs; a new session is accepted
  emulator.defender.setOnline(machine.id, true);
  expect((await call(emulator, "GET", `/api/machineactions/${created.json.id}`, { token })).json.status).toBe(
    "Cancelled",
  );
  const again = await call(emulator, "POST", cancelPath, { token, body: { Comment: "again" } });
  expect(again.status).toBe(400);
  const next = await call(emulator, "POST", `/api/machines/${machine.id}/runliveresponse`, {
    token,
    body: getFileBody("/a"),
  });
  expect(next.status).toBe(201);
  // get-machineaction-object / cancel-machine-action: "wasn't found - 404 Not Found"
  const unknown = await call(emulator, "POST", "/api/machineactions/988cc94e-7a8f-4b28-ab65-54970c5d5018/cancel", {
    token,
    body: { Comment: "x" },
  });
  expect(unknown.status).toBe(404);
});

it("lists machine actions: $filter on the documented properties only, newest first, $top and $skip, each as GET by id gives it", async () => {
  const device = emulator.defender.addMachine({ computerDnsName: "list-01.contoso.com", online: false });
  const other = emulator.defender.addMachine({ computerDnsName: "list-02.contoso.com" });
  emulator.defender.putDeviceFile(other.id, "/b", { content: SAMPLE });
  const first = await call(emulator, "POST", `/api/machines/${other.id}/runliveresponse`, {
    token,
    body: getFileBody("/b", "an analyst's triage"),
  });
  clock += MINUTE;
  const second = await call(emulator, "POST", `/api/machines/${device.id}/runliveresponse`, {
    token,
    body: getFileBody("/dev/shm/.o'brien", "shmhunt: it's ours"),
  });
  expect([first.status, second.status]).toEqual([201, 201]);
  const list = (query: string) => call(emulator, "GET", `/api/machineactions${query}`, { token });

  // get-machineactions-collection: "returns 200, Ok response code with a collection of machineAction entities";
  // the examples' "@odata.context": ".../api/$metadata#MachineActions" with the entities in `value`
  const all = await list("");
  expect(all.status).toBe(200);
  expect(all.json["@odata.context"]).toMatch(/\/api\/\$metadata#MachineActions$/);
  const ids = all.json.value.map((a: { id: string }) => a.id);
  // Example 2 "shows the latest two MachineActions" with $top=2: the newest first
  expect(ids.indexOf(second.json.id)).toBeLessThan(ids.indexOf(first.json.id));

  // "The OData's $filter query is supported on: id, status, machineId, type, requestor, and creationDateTimeUtc
  // properties"; a string literal's quote doubled (OData)
  const filter = encodeURIComponent(`machineId eq '${device.id}' and type eq 'LiveResponse'`);
  const mine = await list(`?$filter=${filter}`);
  expect(mine.status).toBe(200);
  expect(mine.json.value).toHaveLength(1);
  const byId = await call(emulator, "GET", `/api/machineactions/${second.json.id}`, { token });
  const { "@odata.context": _context, ...entity } = byId.json;
  expect(mine.json.value[0]).toEqual(entity);
  // machineaction: requestorComment "Comment that was written when issuing the action"; commands with their params
  expect(mine.json.value[0]).toMatchObject({
    type: "LiveResponse",
    status: "Pending",
    requestorComment: "shmhunt: it's ours",
    commands: [{ command: { type: "GetFile", params: [{ key: "Path", value: "/dev/shm/.o'brien" }] } }],
  });
  // the action listed moves on by the clock as GET by id does: the online device ran its session
  const done = await list(`?$filter=${encodeURIComponent(`id eq '${first.json.id}'`)}`);
  expect(done.json.value.map((a: { status: string }) => a.status)).toEqual(["Succeeded"]);
  for (const supported of [
    `status eq 'Pending' and machineId eq '${device.id}'`,
    `requestor eq '${second.json.requestor}' and machineId eq '${device.id}'`,
    `creationDateTimeUtc eq '${second.json.creationDateTimeUtc}'`,
  ]) {
    const answer = await list(`?$filter=${encodeURIComponent(supported)}`);
    expect([answer.status, answer.json.value.map((a: { id: string }) => a.id)]).toEqual([200, [second.json.id]]);
  }

  // common-errors: ODataError (400) "Invalid OData URI query (the specific error is specified)": requestorComment and
  // computerDnsName are properties of the entity, not among those $filter is supported on
  for (const unsupported of ["requestorComment eq 'x'", "computerDnsName eq 'list-01.contoso.com'"]) {
    const bad = await list(`?$filter=${encodeURIComponent(unsupported)}`);
    expect([bad.status, bad.json.error.code]).toEqual([400, "ODataError"]);
    expect(bad.json.error.message).toContain(unsupported.split(" ")[0]);
  }

  // "$stop with max value of 10,000" (sic: $top; Limitations 1: "Maximum page size is 10,000"), and $skip
  expect((await list("?$top=10001")).status).toBe(400);
  const page = await list("?$top=1&$skip=1");
  expect(page.json.value.map((a: { id: string }) => a.id)).toEqual([ids[1]]);
});

it("throttles the machine actions list with the read APIs: 100 calls per minute", async () => {
  // get-machineactions-collection, Limitations 2: "100 calls per minute and 1500 calls per hour"
  const statuses: number[] = [];
  for (let i = 0; i < 101; i++)
    statuses.push((await call(emulator, "GET", "/api/machineactions?$top=1", { token })).status);
  expect(statuses.slice(0, 100).every((s) => s === 200)).toBe(true);
  expect(statuses[100]).toBe(429);
});
