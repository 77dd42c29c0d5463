/**
 * The catch-up bound (`maxCatchUp` → SHMHUNT_MAX_CATCH_UP) is checked by the template at deploy time for its form:
 * 0, or a whole number and one unit, s, m, h or d. The app's configuration (src/app/config.ts, `loadConfig`) refuses
 * any other value with SVC601 and the app does not start; such a value must fail the deployment (Bicep's `fail()`,
 * Microsoft Learn "Bicep functions - flow control"), naming the parameter, and a value of this form reach the app
 * setting unchanged. The wrong forms include the durations Azure writes elsewhere: an ISO 8601 duration (`P1D`, as ARM
 * and Logic Apps take them) and a TimeSpan (`1.00:00:00`, host.json's). Each value is also given to the app's own
 * configuration: the template never refuses what the app takes, and refuses everything the app refuses.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/app/config.js";
import { DiagnosticError } from "../../src/diagnostics/index.js";
import { infraDir, loadBicep } from "./bicep.js";
import { appSetting } from "./evaluate.js";

const main = loadBicep(path.join(infraDir, "main.bicep"));

const { settingFor, failureFor, shipped } = appSetting(main, "maxCatchUp", "SHMHUNT_MAX_CATCH_UP");

const TAKEN = ["24h", "0", "1s", "90m", "7d", "90d", "3600s", "48h"];
const REFUSED: readonly (readonly [string, string])[] = [
  ["86400", "bare seconds"],
  ["0h", "zero with a unit"],
  ["024h", "a leading zero"],
  ["1d12h", "two units"],
  ["P1D", "an ISO 8601 duration"],
  ["24H", "an upper-case unit"],
  ["1.00:00:00", "a TimeSpan"],
  ["24 h", "a space before the unit"],
  ["1.5d", "a fraction"],
  ["-1h", "a sign"],
  ["h", "a unit alone"],
  ["", "nothing"],
];

/** What the app's configuration says of the value: undefined when it takes it, else its SVC601 message. */
function appRefusal(value: string): string | undefined {
  try {
    loadConfig({ SHMHUNT_MAX_CATCH_UP: value }, "/srv/app");
    return undefined;
  } catch (error) {
    if (!(error instanceof DiagnosticError)) throw error;
    const mine = error.diagnostics.filter((d) => d.field === "SHMHUNT_MAX_CATCH_UP");
    return mine.length > 0 ? mine.map((d) => `${d.code} ${d.message}`).join("; ") : undefined;
  }
}

describe("maxCatchUp at deploy time", () => {
  it.each(TAKEN)("%j reaches SHMHUNT_MAX_CATCH_UP unchanged", (value) => {
    expect(settingFor(value)).toBe(value);
  });

  it.each(REFUSED)("%j (%s) fails the deployment, naming maxCatchUp and the form it takes", (value) => {
    const message = failureFor(value) ?? `${JSON.stringify(value)} deployed`;
    expect(message).toMatch(/^maxCatchUp /);
    expect(message).toContain(`'${value}'`);
    expect(message).toContain("0, or a whole number and one unit, s, m, h or d");
  });

  it("the template refuses what the app's configuration refuses, and never what it takes", () => {
    for (const value of TAKEN) expect({ value, app: appRefusal(value) }).toEqual({ value, app: undefined });
    // The values refused here that the app takes: empty, which the app reads as unset (its default, 24h), and one
    // with spaces around it, which the app trims (src/app/config.ts reads every setting trimmed). A deployment that
    // gives the parameter either meant something else; the parameter's own default is there for the unset case.
    const takenByTheAppOnly = ["", " 24h", "24h "];
    for (const value of takenByTheAppOnly) {
      expect(failureFor(value)).toMatch(/^maxCatchUp /);
      expect(appRefusal(value)).toBeUndefined();
    }
    expect(loadConfig({ SHMHUNT_MAX_CATCH_UP: "" }, "/srv/app").maxCatchUpMs).toBe(24 * 3_600_000);
    for (const [value] of REFUSED.filter(([v]) => !takenByTheAppOnly.includes(v))) {
      expect({ value, app: appRefusal(value) }).toMatchObject({ value, app: expect.stringMatching(/^SVC601 /) });
    }
  });

  it("the parameter's default and main.parameters.json's value (if any) pass", () => {
    const { fallback, given } = shipped();
    expect(typeof fallback === "string" && settingFor(fallback)).toBe(fallback);
    if (given !== undefined) expect(typeof given === "string" && settingFor(given)).toBe(given);
  });

  it("the parameter's description says the template checks the form", () => {
    const description = main.params.get("maxCatchUp")?.decorators.get("description")?.[0]?.text ?? "";
    expect(description).toMatch(/The template checks that form/);
  });
});
