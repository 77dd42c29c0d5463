/**
 * Machines and files over raw HTTPS, judged by learn.microsoft.com/defender-endpoint/api/: get-machines,
 * get-machine-by-id, machine, get-file-information, get-file-statistics, files, common-errors.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator/server.js";
import { call, defenderToken } from "./https.js";

let emulator: Emulator;
let token: string;
let clock = Date.parse("2026-03-02T09:00:00Z");

beforeAll(async () => {
  emulator = await startEmulator({ now: () => new Date(clock), defaultWorkspace: false });
  token = await defenderToken(emulator);
});
afterAll(async () => {
  await emulator?.close();
});

it("asks for a bearer token for the Defender audience", async () => {
  // common-errors: Unauthorized (401) "invalid or expired authorization header"; error {code, message, target}
  const none = await call(emulator, "GET", "/api/machines");
  expect(none.status).toBe(401);
  expect(none.json.error.code).toBe("Unauthorized");
  expect(Object.keys(none.json.error).sort()).toEqual(["code", "message", "target"]);
  const arm = await call(emulator, "GET", "/api/machines", {
    token: await defenderToken(emulator, "https://management.azure.com/.default"),
  });
  expect(arm.status).toBe(401);
  // get-machines writes the host api.security.microsoft.com, run-live-response api.securitycenter.microsoft.com
  const other = await defenderToken(emulator, "https://api.security.microsoft.com/.default");
  expect((await call(emulator, "GET", "/api/machines", { token: other })).status).not.toBe(401);
});

it("answers 404 while there are no machines, then finds one by computerDnsName with $filter", async () => {
  // get-machines: "If there are no recent machines, you see 404 Not Found."
  expect((await call(emulator, "GET", "/api/machines", { token })).status).toBe(404);
  const web = emulator.defender.addMachine({ computerDnsName: "mymachine1.contoso.com", machineTags: ["test tag 1"] });
  emulator.defender.addMachine({ computerDnsName: "mymachine2.contoso.com", online: false });

  const filter = encodeURIComponent("computerDnsName eq 'mymachine1.contoso.com'");
  const found = await call(emulator, "GET", `/api/machines?$filter=${filter}`, { token });
  expect(found.status).toBe(200);
  expect(found.json["@odata.context"]).toMatch(/\$metadata#Machines$/);
  expect(found.json.value).toHaveLength(1);
  // machine, Properties (names as in the get-machines response example)
  expect(found.json.value[0]).toMatchObject({
    id: web.id,
    computerDnsName: "mymachine1.contoso.com",
    healthStatus: "Active",
    machineTags: ["test tag 1"],
  });
  for (const name of [
    "firstSeen",
    "lastSeen",
    "osPlatform",
    "lastIpAddress",
    "rbacGroupId",
    "riskScore",
    "exposureLevel",
  ]) {
    expect(found.json.value[0]).toHaveProperty(name);
  }

  // $filter "is supported on ... healthStatus"; joined with or
  const either = encodeURIComponent("healthStatus eq 'Inactive' or computerDnsName eq 'mymachine1.contoso.com'");
  expect((await call(emulator, "GET", `/api/machines?$filter=${either}`, { token })).json.value).toHaveLength(2);
  const tagged = encodeURIComponent("machineTags eq 'test tag 1'");
  expect((await call(emulator, "GET", `/api/machines?$filter=${tagged}`, { token })).json.value).toHaveLength(1);
  // $top / $skip page the list
  const page = await call(emulator, "GET", "/api/machines?$top=1&$skip=1", { token });
  expect(page.json.value.map((m: { computerDnsName: string }) => m.computerDnsName)).toEqual([
    "mymachine2.contoso.com",
  ]);

  // common-errors: ODataError (400) "Invalid OData URI query (the specific error is specified)"
  const unsupported = encodeURIComponent("osBuild eq 18209");
  const bad = await call(emulator, "GET", `/api/machines?$filter=${unsupported}`, { token });
  expect([bad.status, bad.json.error.code]).toEqual([400, "ODataError"]);
  expect(bad.json.error.message).toContain("osBuild");
  // get-machines: "$top with max value of 10,000"
  expect((await call(emulator, "GET", "/api/machines?$top=10001", { token })).status).toBe(400);
  expect((await call(emulator, "GET", "/api/machines?$top=10000", { token })).status).toBe(200);

  // get-machine-by-id; common-errors example {"code":"ResourceNotFound","message":"Machine 123123123 was not found"}
  expect((await call(emulator, "GET", `/api/machines/${web.id}`, { token })).json.id).toBe(web.id);
  const missing = await call(emulator, "GET", "/api/machines/123123123", { token });
  expect(missing.status).toBe(404);
  expect(missing.json.error).toMatchObject({ code: "ResourceNotFound", message: "Machine 123123123 was not found" });
});

it("serves a file profile by SHA-1 or SHA-256 and its statistics", async () => {
  // values of the get-file-information response example
  emulator.defender.addFileProfile({
    sha1: "4388963aaa83afe2042a46a3c017ad50bdcdafb3",
    sha256: "413c58c8267d2c8648d8f6384bacc2ae9c929b2b96578b6860b5087cd1bd6462",
    globalPrevalence: 180022,
    size: 22139496,
    fileType: "APP",
    isPeFile: true,
    signer: "CHENGDU YIWO Tech Development Co., Ltd.",
    issuer: "VeriSign Class 3 Code Signing 2010 CA",
    isValidCertificate: false,
    determinationType: "Pua",
    determinationValue: "PUA:Win32/FusionCore",
    organizationPrevalence: 14850,
    topFileNames: ["MREC.exe"],
  });
  const bySha1 = await call(emulator, "GET", "/api/files/4388963aaa83afe2042a46a3c017ad50bdcdafb3", { token });
  expect(bySha1.status).toBe(200);
  expect(bySha1.json["@odata.context"]).toMatch(/\$metadata#Files\/\$entity$/);
  expect(bySha1.json).toMatchObject({
    sha1: "4388963aaa83afe2042a46a3c017ad50bdcdafb3",
    sha256: "413c58c8267d2c8648d8f6384bacc2ae9c929b2b96578b6860b5087cd1bd6462",
    globalPrevalence: 180022,
    size: 22139496,
    isPeFile: true,
    isValidCertificate: false,
    determinationType: "Pua",
  });
  // files, Properties: the file entity lists no organisation statistics (those are in /stats)
  expect(bySha1.json).not.toHaveProperty("organizationPrevalence");
  const bySha256 = await call(
    emulator,
    "GET",
    "/api/files/413c58c8267d2c8648d8f6384bacc2ae9c929b2b96578b6860b5087cd1bd6462",
    { token },
  );
  expect(bySha256.json.sha1).toBe("4388963aaa83afe2042a46a3c017ad50bdcdafb3");

  // get-file-statistics response example: organizationPrevalence, globallyPrevalence (sic), topFileNames
  const stats = await call(
    emulator,
    "GET",
    "/api/files/4388963aaa83afe2042a46a3c017ad50bdcdafb3/stats?lookBackHours=48",
    {
      token,
    },
  );
  expect(stats.status).toBe(200);
  expect(stats.json).toMatchObject({
    sha1: "4388963aaa83afe2042a46a3c017ad50bdcdafb3",
    organizationPrevalence: 14850,
    globallyPrevalence: 180022,
    topFileNames: ["MREC.exe"],
  });
  // get-file-statistics: "The maximum value for lookbackhours is 720 Hours(30 days)."
  const tooFar = await call(
    emulator,
    "GET",
    "/api/files/4388963aaa83afe2042a46a3c017ad50bdcdafb3/stats?lookBackHours=721",
    {
      token,
    },
  );
  expect(tooFar.status).toBe(400);

  // get-file-information: "If file doesn't exist - 404 Not Found"; common-errors: InvalidHashValue (400)
  expect((await call(emulator, "GET", `/api/files/${"0".repeat(40)}`, { token })).status).toBe(404);
  expect((await call(emulator, "GET", `/api/files/${"0".repeat(40)}/stats`, { token })).status).toBe(404);
  const invalid = await call(emulator, "GET", "/api/files/not-a-hash", { token });
  expect([invalid.status, invalid.json.error.code]).toEqual([400, "InvalidHashValue"]);
});

it("throttles the read APIs at 100 calls per minute", async () => {
  // get-machines, get-machineaction-object, get-file-information...: "100 calls per minute and 1500 calls per hour"
  clock += 2 * 3_600_000; // past the windows of the calls above
  const statuses = new Set<number>();
  for (let i = 0; i < 100; i++) statuses.add((await call(emulator, "GET", "/api/files/not-a-hash", { token })).status);
  expect([...statuses]).toEqual([400]);
  const over = await call(emulator, "GET", "/api/machines", { token });
  expect(over.status).toBe(429);
  expect(over.json.error.code).toBe("TooManyRequests");
  // the 100 calls came at one instant: the window frees up 60 seconds after it
  expect(over.headers["retry-after"]).toBe("60");
  clock += 60_000;
  expect((await call(emulator, "GET", "/api/machines", { token })).status).toBe(200);
});
