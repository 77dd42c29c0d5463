/** The emulator's small parts: ISO 8601 parsing, wire encoding, CSV, fault matching, tokens. */
import { describe, expect, it } from "vitest";
import { parseCsv } from "./arm/csv.js";
import { page } from "./arm/wire.js";
import { LocalTokenCredential, verifyBearer } from "./credential.js";
import { FaultInjector } from "./faults.js";
import { parseDuration, parseTimespan } from "./iso8601.js";
import { encodeDatetime, encodeTimespan, encodeValue } from "./logs/encode.js";

describe("ISO 8601", () => {
  it.each([
    ["PT5M", 300_000],
    ["PT9M", 540_000],
    ["P2DT1H30M", (48 + 1.5) * 3_600_000],
    ["P1W", 7 * 86_400_000],
    ["PT0.5S", 500],
  ])("duration %s", (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(["P", "PT", "5M", "P1Y", "P1M", "PT1H5", ""])("refuses %j", (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );

  it("reads the four timespan forms", () => {
    const now = new Date("2024-01-02T00:00:00Z");
    expect(parseTimespan("PT1H", now)).toEqual({ start: new Date("2024-01-01T23:00:00Z"), end: now });
    expect(parseTimespan("2024-01-01T00:00:00.000Z/2024-01-02T00:00:00.000Z", now)).toEqual({
      start: new Date("2024-01-01T00:00:00Z"),
      end: new Date("2024-01-02T00:00:00Z"),
    });
    expect(parseTimespan("2024-01-01T00:00:00.000Z/PT1H", now)?.end).toEqual(new Date("2024-01-01T01:00:00Z"));
    expect(parseTimespan("PT1H/2024-01-02T00:00:00.000Z", now)?.start).toEqual(new Date("2024-01-01T23:00:00Z"));
    expect(parseTimespan("yesterday", now)).toBeUndefined();
    expect(parseTimespan("a/b/c", now)).toBeUndefined();
  });
});

describe("Logs wire encoding", () => {
  it("encodes each type like the service", () => {
    expect(encodeDatetime(new Date("2006-01-02T22:04:05.100Z"))).toBe("2006-01-02T22:04:05.1Z");
    expect(encodeDatetime(new Date("2024-01-01T00:00:00.000Z"))).toBe("2024-01-01T00:00:00Z");
    expect(encodeValue({ person: "Daniel" }, "dynamic")).toBe('{"person":"Daniel"}');
    expect(encodeValue([1, 2], "dynamic")).toBe("[1,2]");
    expect(encodeTimespan(0.0001)).toBe("00:00:00.0000001");
    expect(encodeTimespan(90_061_000)).toBe("1.01:01:01");
    expect(encodeTimespan(-1_500)).toBe("-00:00:01.5000000");
    expect(encodeValue(Number.NaN, "real")).toBe("NaN");
    expect(encodeValue(Number.POSITIVE_INFINITY, "real")).toBe("Infinity");
    expect(encodeValue(2n ** 40n, "long")).toBe(2 ** 40);
    expect(encodeValue(null, "string")).toBeNull();
    expect(encodeValue("1.5", "decimal")).toBe("1.5");
  });
});

describe("watchlist CSV", () => {
  it("reads quoted fields, doubled quotes and CRLF", () => {
    expect(parseCsv('a,b\r\n"x, y","say ""hi"""\n3,\n')).toEqual([
      ["a", "b"],
      ["x, y", 'say "hi"'],
      ["3", ""],
    ]);
  });
});

describe("paging", () => {
  it("pages with $skipToken and caps with $top", () => {
    const items = [1, 2, 3, 4, 5];
    const first = page(items, { listUrl: new URL("https://h/x?api-version=v"), pageSize: 2 });
    expect(first.value).toEqual([1, 2]);
    const next = new URL(first.nextLink ?? "");
    expect(next.searchParams.get("$skipToken")).toBe("2");
    expect(page(items, { listUrl: next, pageSize: 2 }).value).toEqual([3, 4]);
    expect(page(items, { listUrl: new URL("https://h/x?$top=3"), pageSize: 2 })).toMatchObject({ value: [1, 2] });
    expect(page(items, { listUrl: new URL("https://h/x?$top=3&$skipToken=2"), pageSize: 2 })).toEqual({ value: [3] });
  });
});

describe("faults", () => {
  it("match by api, method and path, in push order, for their count", () => {
    const faults = new FaultInjector();
    faults.push(
      { api: "logs", kind: "status", status: 500, count: 2 },
      { method: "put", path: /incidents/, kind: "throttle" },
    );
    const arm = { api: "arm", method: "PUT", path: "/x/incidents/1" } as const;
    const logs = { api: "logs", method: "POST", path: "/v1/workspaces/w/query" } as const;
    expect(faults.take(arm)?.kind).toBe("throttle");
    expect(faults.take(arm)).toBeUndefined();
    expect(faults.take(logs)?.kind).toBe("status");
    expect(faults.take(logs, ["throttle"])).toBeUndefined();
    expect(faults.take(logs)?.kind).toBe("status");
    expect(faults.take(logs)).toBeUndefined();
  });
});

describe("tokens", () => {
  it("verifies its own tokens and refuses others", async () => {
    const credential = new LocalTokenCredential({ key: "k" });
    const token = await credential.getToken("https://api.loganalytics.io/.default");
    const check = verifyBearer(`Bearer ${token.token}`, "k");
    expect(check.ok && check.claims.aud).toBe("https://api.loganalytics.io");
    expect(verifyBearer(`Bearer ${token.token}`, "other")).toEqual({ ok: false, reason: "invalid" });
    expect(verifyBearer(undefined, "k")).toEqual({ ok: false, reason: "missing" });
    expect(verifyBearer(`Bearer ${token.token}`, "k", Date.now() / 1000 + 7200)).toEqual({
      ok: false,
      reason: "expired",
    });
    expect(credential.requestedScopes).toEqual([["https://api.loganalytics.io/.default"]]);
  });
});
