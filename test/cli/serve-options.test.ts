/**
 * `shmhunt serve --port` / `--host` with a bad value. The brief's rule for the CLI, from README ("exits non-zero on
 * error with a one-line reason on stderr"): the line names what is wrong, the option given. `serve --port 70000`
 * named SHMHUNT_PORT, a setting the user never set.
 */
import { describe, expect, it } from "vitest";
import { collect, shmhunt } from "../support/cli-process.js";
import { tempDirs } from "../support/temp-dirs.js";

const temp = tempDirs("serve-options");

describe("serve option values", () => {
  it("names --port for a port out of range, and SHMHUNT_PORT when the setting is what is wrong", async () => {
    const data = temp();
    const byOption = collect(shmhunt(["serve", "--port", "70000"], { SHMHUNT_DATA_DIR: data }));
    expect(await byOption.exit).toBe(1);
    expect(byOption.err().trim().split("\n")).toEqual([
      expect.stringMatching(/^shmhunt: error SVC601: must be an integer from 0 to 65535, not "70000" \(--port\)$/),
    ]);
    const bySetting = collect(shmhunt(["serve"], { SHMHUNT_DATA_DIR: data, SHMHUNT_PORT: "70000" }));
    expect(await bySetting.exit).toBe(1);
    expect(bySetting.err().trim().split("\n")).toEqual([expect.stringMatching(/\(SHMHUNT_PORT\)$/)]);
  }, 60_000);
});
