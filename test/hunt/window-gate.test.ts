import { describe, expect, it } from "vitest";
import { confirms, decide, type GatePolicy, isDue, planWindow, type StoredVerdict } from "../../src/hunt/index.js";

const MIN = 60_000;
const rule = { intervalMs: 5 * MIN, lookbackMs: 9 * MIN };
const t = (iso: string) => new Date(iso);

describe("windows", () => {
  it("runs first over the lookback, and then every interval with overlapping windows", () => {
    const now = t("2026-03-01T10:00:00Z");
    // On ingestion time [09:51, 10:00]; rows kept from one lookback before the start (event time 09:42).
    expect(planWindow(rule, undefined, now, 24 * 60 * MIN).window).toEqual({
      start: t("2026-03-01T09:51:00Z"),
      end: now,
      eventStart: t("2026-03-01T09:42:00Z"),
    });
    const checkpoint = { end: "2026-03-01T10:00:00.000Z", completedAt: "2026-03-01T10:00:02.000Z" };
    expect(isDue(rule, checkpoint, t("2026-03-01T10:04:00Z"))).toBe(false);
    // A timer firing a few seconds early still runs.
    expect(isDue(rule, checkpoint, t("2026-03-01T10:04:55Z"))).toBe(true);
    const next = planWindow(rule, checkpoint, t("2026-03-01T10:05:00Z"), 24 * 60 * MIN);
    expect(next.window.start).toEqual(t("2026-03-01T09:56:00Z"));
    expect(next.gap).toBeUndefined();
  });

  it("reaches back over missed runs so no range is skipped", () => {
    const checkpoint = { end: "2026-03-01T10:00:00.000Z", completedAt: "x" };
    const late = planWindow(rule, checkpoint, t("2026-03-01T11:00:00Z"), 24 * 60 * MIN);
    expect(late.window).toEqual({
      start: t("2026-03-01T09:56:00Z"),
      end: t("2026-03-01T11:00:00Z"),
      eventStart: t("2026-03-01T09:47:00Z"),
    });
    expect(late.gap).toBeUndefined();
  });

  it("clamps at the catch-up limit and reports the uncovered range", () => {
    const checkpoint = { end: "2026-03-01T00:00:00.000Z", completedAt: "x" };
    const clamped = planWindow(rule, checkpoint, t("2026-03-03T00:00:00Z"), 24 * 60 * MIN);
    expect(clamped.window.start).toEqual(t("2026-03-02T00:00:00Z"));
    expect(clamped.gap).toEqual({ start: t("2026-02-28T23:56:00Z"), end: t("2026-03-02T00:00:00Z") });
  });
});

const verdict = (rules: string[], file = "shm-creation.yar"): StoredVerdict => ({
  sha256: "ab".repeat(32),
  size: 10,
  matches: rules.map((rule) => ({ rule, file })),
  scannedAt: "2026-03-01T10:00:00Z",
});
const requirePolicy: GatePolicy = { mode: "require", yaraRules: ["shm-creation.yar"], pendingTimeoutMs: 60 * MIN };
const annotate: GatePolicy = { mode: "annotate", yaraRules: [], pendingTimeoutMs: 0 };
const firstSeen = t("2026-03-01T10:00:00Z");
const soon = t("2026-03-01T10:05:00Z");
const later = t("2026-03-01T11:00:00Z");
const sha = "ab".repeat(32);

describe("gate", () => {
  it("names gate rules by identifier or by file, with or without path and extension", () => {
    expect(confirms(requirePolicy, verdict(["Derusbi_shm"]))).toBe(true);
    expect(confirms({ ...requirePolicy, yaraRules: ["rules/shm-creation"] }, verdict(["x"]))).toBe(true);
    expect(confirms({ ...requirePolicy, yaraRules: ["Derusbi_shm"] }, verdict(["Derusbi_shm"], "other.yar"))).toBe(
      true,
    );
    expect(confirms(requirePolicy, verdict(["other"], "other.yar"))).toBe(false);
    expect(confirms(annotate, verdict([]))).toBe(false);
    expect(confirms(annotate, verdict(["any"]))).toBe(true);
  });

  it("require: alerts on a match, closes benign on a clean sample, waits, then gives up", () => {
    const base = { policy: requirePolicy, sha256: sha, firstSeen, now: soon };
    expect(decide({ ...base, verdict: verdict(["Derusbi_shm"]) })).toMatchObject({ action: "alert", confirmed: true });
    expect(decide({ ...base, verdict: verdict([]) })).toMatchObject({ action: "benign" });
    expect(decide({ ...base, verdict: verdict(["other"], "other.yar") })).toMatchObject({ action: "benign" });
    expect(decide({ ...base, verdict: undefined })).toEqual({ action: "pending" });
    expect(decide({ ...base, verdict: undefined, now: later })).toMatchObject({ action: "unverified" });
    expect(decide({ ...base, sha256: undefined, verdict: undefined })).toMatchObject({ action: "unverified" });
  });

  it("annotate: alerts on behaviour and carries the verdict when there is one", () => {
    const base = { policy: annotate, sha256: sha, firstSeen, now: later };
    expect(decide({ ...base, verdict: undefined })).toEqual({ action: "alert", confirmed: false });
    const v = verdict([]);
    expect(decide({ ...base, verdict: v })).toEqual({ action: "alert", verdict: v, confirmed: false });
  });
});
