/**
 * The scan timeout (`scanTimeout` → SHMHUNT_SCAN_TIMEOUT) is checked by the template at deploy time, as far as Bicep
 * checks it cheaply: its form, a whole number and one unit, s, m, h or d. The app's reader of the setting
 * (src/app/setting-duration.ts, `readDuration` with SCAN_TIMEOUT_BOUNDS) refuses any other form and the app does not
 * start; a value of another form must fail the deployment (Bicep's `fail()`, Microsoft Learn "Bicep functions - flow
 * control"), naming the parameter, and a value of this form reach the app setting unchanged. The wrong forms are the
 * durations Azure writes elsewhere: an ISO 8601 duration (`PT60S`, as ARM and Logic Apps take them) and a TimeSpan
 * (`00:01:00`, host.json's `functionTimeout`). Each value is also read by the app's reader: the template never refuses
 * what the app takes, and refuses everything the app refuses for its form (the upper bound, 24d, is the app's alone).
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readDuration, SCAN_TIMEOUT_BOUNDS } from "../../src/app/setting-duration.js";
import { infraDir, loadBicep } from "./bicep.js";
import { appSetting } from "./evaluate.js";

const main = loadBicep(path.join(infraDir, "main.bicep"));

const { settingFor, failureFor, shipped } = appSetting(main, "scanTimeout", "SHMHUNT_SCAN_TIMEOUT");

const TAKEN = ["60s", "1s", "30s", "5m", "1h", "24h", "2d", "24d", "3600s", "10m"];
const REFUSED: readonly (readonly [string, string])[] = [
  ["60", "bare seconds (or milliseconds)"],
  ["60000", "bare milliseconds"],
  ["0", "zero: a scan always has a timeout"],
  ["0s", "zero seconds"],
  ["060s", "a leading zero"],
  ["1m30s", "two units"],
  ["500ms", "milliseconds as a unit"],
  ["PT60S", "an ISO 8601 duration"],
  ["60S", "an upper-case unit"],
  ["00:01:00", "a TimeSpan"],
  ["60 s", "a space before the unit"],
  [" 60s", "a leading space"],
  ["1.5m", "a fraction"],
  ["-5s", "a sign"],
  ["s", "a unit alone"],
  ["", "nothing"],
];

describe("scanTimeout at deploy time", () => {
  it.each(TAKEN)("%j reaches SHMHUNT_SCAN_TIMEOUT unchanged", (timeout) => {
    expect(settingFor(timeout)).toBe(timeout);
  });

  it.each(REFUSED)("%j (%s) fails the deployment, naming scanTimeout and the form it takes", (timeout) => {
    const message = failureFor(timeout) ?? `${JSON.stringify(timeout)} deployed`;
    expect(message).toMatch(/^scanTimeout /);
    expect(message).toContain(`'${timeout}'`);
    expect(message).toContain("a whole number and one unit, s, m, h or d");
  });

  it("the template refuses what the app's reader refuses for its form, and never what it takes", () => {
    for (const timeout of TAKEN)
      expect({ timeout, read: readDuration(timeout, SCAN_TIMEOUT_BOUNDS) }).toMatchObject({
        read: { ms: expect.any(Number) },
      });
    for (const [timeout] of REFUSED) {
      expect({ timeout, read: readDuration(timeout, SCAN_TIMEOUT_BOUNDS) }).toMatchObject({
        read: { problem: expect.any(String) },
      });
    }
    // Over the bound: the form passes, the app refuses it at start (its description says so).
    expect(failureFor("25d")).toBeUndefined();
    expect(readDuration("25d", SCAN_TIMEOUT_BOUNDS)).toMatchObject({ problem: expect.stringMatching(/at most 24d/) });
  });

  it("the parameter's default and main.parameters.json's value pass", () => {
    const { fallback, given } = shipped();
    expect(typeof fallback === "string" && settingFor(fallback)).toBe(fallback);
    expect(typeof given === "string" && settingFor(given)).toBe(given);
  });

  it("the parameter's description says the template checks the form and the app the bound", () => {
    const description = main.params.get("scanTimeout")?.decorators.get("description")?.[0]?.text ?? "";
    expect(description).toMatch(/checks that form only/);
    expect(description).toMatch(/at most 24d \(SVC601\)/);
  });
});
