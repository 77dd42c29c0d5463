/**
 * `shmhunt rescan --limit` has the bound of POST /hunt/rescan's `limit` (docs/service.md, Limits: 1–1,000,
 * `REQUEST_LIMITS.rescanLimit`): the CLI took any number, so one batch could scan every stored sample.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REQUEST_LIMITS } from "../../src/app/requests.js";
import { collect, shmhunt } from "../support/cli-process.js";
import { tempDirs } from "../support/temp-dirs.js";

const temp = tempDirs("rescan-options");

describe("rescan --limit", () => {
  it.each([String(REQUEST_LIMITS.rescanLimit + 1), "0", "ten"])(
    "refuses --limit %s, naming the option and the API's bound",
    async (value) => {
      const run = collect(shmhunt(["rescan", "--limit", value], { SHMHUNT_DATA_DIR: path.join(temp(), "data") }));
      expect(await run.exit).toBe(1);
      expect(run.out()).toBe("");
      expect(run.err().trim().split("\n")).toEqual([
        `shmhunt: --limit must be a whole number from 1 to ${REQUEST_LIMITS.rescanLimit}, not "${value}"`,
      ]);
    },
    60_000,
  );

  it("takes the most the API takes", async () => {
    const run = collect(
      shmhunt(["rescan", "--json", "--limit", String(REQUEST_LIMITS.rescanLimit)], {
        SHMHUNT_DATA_DIR: path.join(temp(), "data"),
      }),
    );
    expect(await run.exit).toBe(0);
    expect(JSON.parse(run.out())).toMatchObject({ type: "rescan" });
  }, 60_000);
});
