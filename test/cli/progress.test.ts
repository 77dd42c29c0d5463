import { describe, expect, it } from "vitest";
import { showsProgress, startProgress } from "../../src/cli/progress.js";

const stream = (isTTY: boolean) => ({ isTTY, write: () => true }) as unknown as NodeJS.WriteStream;

describe("progress on stderr", () => {
  it("shows only on a terminal, and never with --json", () => {
    expect(showsProgress(undefined, stream(true))).toBe(true);
    expect(showsProgress(true, stream(true))).toBe(false);
    expect(showsProgress(undefined, stream(false))).toBe(false);
  });
  it("is absent when piped, so commands stay quiet", () => {
    expect(startProgress(undefined, { label: "translating", unit: "rules" }, stream(false))).toBeUndefined();
    expect(startProgress(true, { label: "translating", unit: "rules" }, stream(true))).toBeUndefined();
  });
});
