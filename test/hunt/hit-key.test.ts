import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonical, eventTimeOf, hitKey, sampleHashOf } from "../../src/hunt/index.js";

const row = {
  Timestamp: "2026-03-01T10:00:01.1234567Z",
  DeviceId: "dev-1",
  DeviceName: "web-01",
  ProcessId: 4242,
  SHA256: "AB".repeat(32),
  FolderPath: "/dev/shm/x",
  ProcessCommandLine: "/dev/shm/x -d",
};

describe("hit keys", () => {
  it("gives the same event the same key whatever the column order or window", () => {
    const reordered = Object.fromEntries(Object.entries(row).reverse());
    expect(hitKey("r1", "defender", reordered)).toBe(hitKey("r1", "defender", row));
    // Columns outside the identity (e.g. a count computed per window) do not change the key.
    expect(hitKey("r1", "defender", { ...row, WindowCount: 3 })).toBe(hitKey("r1", "defender", row));
    expect(hitKey("r1", "defender", row)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("reads one instant the same in every encoding of a datetime", () => {
    const base = { ...row, Timestamp: "2026-03-01T10:00:01.123Z" };
    const key = hitKey("r1", "defender", base);
    expect(hitKey("r1", "defender", { ...base, Timestamp: new Date("2026-03-01T10:00:01.123Z") })).toBe(key);
    expect(hitKey("r1", "defender", { ...base, Timestamp: "2026-03-01T10:00:01.1230000Z" })).toBe(key);
    expect(hitKey("r1", "defender", { ...base, Timestamp: "2026-03-01T11:00:01.123+01:00" })).toBe(key);
    expect(hitKey("r1", "defender", { ...base, Timestamp: "2026-03-01T10:00:01.124Z" })).not.toBe(key);
    expect(canonical("2026-03-01T10:00:01.1234567Z")).toBe("2026-03-01T10:00:01.1234567Z");
    expect(canonical("2026-03-01 10:00:01")).toBe("2026-03-01T10:00:01.0000000Z");
  });

  it("keeps the keys of stored hits: the SHA-256 of the JSON text the module's documentation gives", () => {
    // Written out here as documented (not by the module's code): a changed key would alert a stored hit again.
    const documented = (parts: unknown[]) =>
      createHash("sha256")
        .update(JSON.stringify(["shmhunt-hit-v1", "r1", "defender", parts]))
        .digest("hex");
    const rowWithObject = { ...row, AdditionalFields: { b: 1, a: ["x", null] } };
    const key = hitKey("r1", "defender", rowWithObject, { identityColumns: ["Timestamp", "AdditionalFields", "Nope"] });
    expect(key).toBe(
      documented([
        ["Timestamp", "2026-03-01T10:00:01.1234567Z"],
        ["AdditionalFields", { a: ["x", null], b: 1 }],
      ]),
    );
    const odd = { when: "x", host: 'h\u00e9"', n: 3, empty: "" };
    expect(hitKey("r1", "defender", odd)).toBe(
      documented([
        ["host", 'h\u00e9"'],
        ["n", 3],
        ["when", "x"],
      ]),
    );
  });

  it("keys a value JSON has no text for (a function, a symbol) as the documented text does: null in its array", () => {
    // JSON.stringify writes null for such a value inside an array; the key's text is that JSON.
    const documented = (parts: unknown[]) =>
      createHash("sha256")
        .update(JSON.stringify(["shmhunt-hit-v1", "r1", "defender", parts]))
        .digest("hex");
    const options = { identityColumns: ["Timestamp", "DeviceId"] };
    for (const odd of [() => 1, Symbol("s")]) {
      const key = hitKey("r1", "defender", { Timestamp: "2026-03-01T10:00:01.123Z", DeviceId: odd }, options);
      expect(key).toBe(
        documented([
          ["Timestamp", "2026-03-01T10:00:01.1230000Z"],
          ["DeviceId", null],
        ]),
      );
    }
  });

  it("keeps the documented text of a key whose rule id, identity columns and values are not ASCII", () => {
    // The key's text is written as UTF-8 bytes piece by piece: each piece must be the bytes JSON.stringify gives.
    const documented = (ruleId: string, parts: unknown[]) =>
      createHash("sha256")
        .update(JSON.stringify(["shmhunt-hit-v1", ruleId, "defender", parts]))
        .digest("hex");
    const when = "2026-03-01T10:00:01.123Z";
    const odd = { Zeït: when, "h\u00f4te \u{1f980}": 'caf\u00e9 "\\\n', n: -0, big: 1.5e300, tab: "a\tb" };
    const identityColumns = ["Zeït", "h\u00f4te \u{1f980}", "n", "big", "tab"];
    const key = hitKey(
      "r\u00e8gle",
      "defender",
      { ...odd, Timestamp: when },
      { identityColumns: ["Timestamp", ...identityColumns] },
    );
    expect(key).toBe(
      documented("r\u00e8gle", [
        ["Timestamp", "2026-03-01T10:00:01.1230000Z"],
        ["Zeït", "2026-03-01T10:00:01.1230000Z"],
        ["h\u00f4te \u{1f980}", 'caf\u00e9 "\\\n'],
        ["n", 0],
        ["big", 1.5e300],
        ["tab", "a\tb"],
      ]),
    );
  });

  it("separates different events, rules and targets", () => {
    const key = hitKey("r1", "defender", row);
    expect(hitKey("r1", "defender", { ...row, ProcessId: 4243 })).not.toBe(key);
    expect(hitKey("r1", "defender", { ...row, DeviceId: "dev-2" })).not.toBe(key);
    expect(hitKey("r2", "defender", row)).not.toBe(key);
    expect(hitKey("r1", "asim", row)).not.toBe(key);
  });

  it("falls back to the whole row when no known time column is there", () => {
    const odd = { host: "h", when: "x", exe: "/dev/shm/a" };
    expect(hitKey("r1", "auditd", odd)).toBe(hitKey("r1", "auditd", { exe: "/dev/shm/a", when: "x", host: "h" }));
    expect(hitKey("r1", "auditd", odd)).not.toBe(hitKey("r1", "auditd", { ...odd, exe: "/dev/shm/b" }));
  });

  it("finds the sample hash and the event time in a row", () => {
    expect(sampleHashOf(row)).toBe("ab".repeat(32));
    expect(sampleHashOf({ SHA256: "", TargetFileSHA256: "cd".repeat(32) })).toBe("cd".repeat(32));
    expect(sampleHashOf({ SHA256: "not-a-hash" })).toBeUndefined();
    expect(eventTimeOf(row)?.toISOString()).toBe("2026-03-01T10:00:01.123Z");
    expect(eventTimeOf({ TimeGenerated: new Date(0) })?.getTime()).toBe(0);
    expect(eventTimeOf({})).toBeUndefined();
  });
});

describe("per-target columns", () => {
  it("takes the sample hash from the plan's columns when it names them", () => {
    const r = { SHA256: "ab".repeat(32), InitiatingProcessSHA256: "cd".repeat(32) };
    expect(sampleHashOf(r)).toBe("ab".repeat(32));
    expect(sampleHashOf(r, ["InitiatingProcessSHA256"])).toBe("cd".repeat(32));
    expect(sampleHashOf(r, ["Missing"])).toBeUndefined();
  });

  it("keys on the plan's identity columns when it names them", () => {
    const a = { Timestamp: "2026-03-01T10:00:00Z", EventId: 1, Noise: "x" };
    const b = { ...a, Noise: "y" };
    expect(hitKey("r", "t", a, { identityColumns: ["Timestamp", "EventId"] })).toBe(
      hitKey("r", "t", b, { identityColumns: ["Timestamp", "EventId"] }),
    );
    expect(hitKey("r", "t", a, { identityColumns: ["Timestamp", "Noise"] })).not.toBe(
      hitKey("r", "t", b, { identityColumns: ["Timestamp", "Noise"] }),
    );
  });
});
