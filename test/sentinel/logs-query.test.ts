import { describe, expect, it } from "vitest";
import { rowsOf, withRetry } from "../../src/sentinel/logs-query.js";

const noSleep = { attempts: 3, baseDelayMs: 10, maxDelayMs: 15 };

describe("withRetry", () => {
  it("retries a partial result and returns the full one, with every attempt reported", async () => {
    const slept: number[] = [];
    const answers = [{ partial: "PartialError: timeout" }, { rows: [{ a: 1 }] }];
    const outcome = await withRetry(async () => answers.shift()!, {
      ...noSleep,
      sleep: async (ms) => void slept.push(ms),
    });
    expect(outcome).toMatchObject({ ok: true, rows: [{ a: 1 }] });
    expect(outcome.attempts.map((a) => a.outcome)).toEqual(["partial", "success"]);
    expect(slept).toEqual([10]);
  });

  it("fails the window when partial results persist, never returning partial rows", async () => {
    const outcome = await withRetry(async () => ({ partial: "still partial" }), { ...noSleep, sleep: async () => {} });
    expect(outcome.ok).toBe(false);
    expect(outcome.attempts).toHaveLength(3);
    if (!outcome.ok) expect(outcome.error).toMatch(/still partial/);
  });

  it("backs off exponentially up to the cap on retriable errors and stops at once on a 400", async () => {
    const slept: number[] = [];
    const throttled = Object.assign(new Error("throttled"), { statusCode: 429 });
    const outcome = await withRetry(
      async () => {
        throw throttled;
      },
      { attempts: 3, baseDelayMs: 10, maxDelayMs: 15, sleep: async (ms) => void slept.push(ms) },
    );
    expect(outcome.ok).toBe(false);
    expect(slept).toEqual([10, 15]);

    let calls = 0;
    const bad = await withRetry(
      async () => {
        calls++;
        throw Object.assign(new Error("BadArgumentError: unknown table"), { statusCode: 400 });
      },
      { ...noSleep, sleep: async () => {} },
    );
    expect(calls).toBe(1);
    expect(bad.ok).toBe(false);
  });
});

describe("rowsOf", () => {
  it("keys each row by column name and keeps nulls", () => {
    const rows = rowsOf({
      name: "PrimaryResult",
      columnDescriptors: [
        { name: "A", type: "string" },
        { name: "B", type: "long" },
      ],
      rows: [["x", 1], ["y"]],
    });
    expect(rows).toEqual([
      { A: "x", B: 1 },
      { A: "y", B: null },
    ]);
    expect(rowsOf(undefined)).toEqual([]);
  });
});
