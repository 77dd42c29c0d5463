/**
 * The template's duration parameters (`scanTimeout` → SHMHUNT_SCAN_TIMEOUT, `maxCatchUp` → SHMHUNT_MAX_CATCH_UP) are
 * checked at deploy time for their form, by one user-defined function of main.bicep (`isDuration`): a whole number
 * and one unit, s, m, h or d (and `0` for the catch-up, which the app takes as "no further than each rule's own
 * look-back"; a scan always has a timeout). The app's configuration (src/app/config.ts, `loadConfig`) refuses any
 * other value with SVC601 and the app does not start; such a value must fail the deployment (Bicep's `fail()`,
 * Microsoft Learn "Bicep functions - flow control"), naming the parameter, and a value of this form reach the app
 * setting unchanged. The wrong forms include the durations Azure writes elsewhere: an ISO 8601 duration (`PT60S`,
 * `P1D`, as ARM and Logic Apps take them) and a TimeSpan (`00:01:00`, host.json's `functionTimeout`).
 *
 * The peer is the app's own configuration, given each value: the template never refuses what the app takes, but for
 * the values named (empty, which the app reads as unset, and padded, which it trims: a deployment that gives either
 * meant something else), and refuses everything the app refuses for its form; a bound (a scan timeout of at most
 * 24d) is the app's alone.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/app/config.js";
import { DiagnosticError } from "../../src/diagnostics/index.js";
import { infraDir, loadBicep } from "./bicep.js";
import { appSetting } from "./evaluate.js";

const main = loadBicep(path.join(infraDir, "main.bicep"));

interface DurationParameter {
  readonly parameter: string;
  readonly setting: string;
  /** The form the failure names. */
  readonly form: string;
  readonly taken: readonly string[];
  readonly refused: readonly (readonly [string, string])[];
  /** Values of the form that the app refuses for a bound of its own (the template passes them on). */
  readonly overTheBound: readonly string[];
  /** What its description must say. */
  readonly description: readonly RegExp[];
}

/** Refused by the template, taken by the app: empty (unset: the app's default) and padded (trimmed by the app). */
const TAKEN_BY_THE_APP_ONLY = (value: string) => ["", ` ${value}`, `${value} `];

const PARAMETERS: readonly DurationParameter[] = [
  {
    parameter: "scanTimeout",
    setting: "SHMHUNT_SCAN_TIMEOUT",
    form: "a whole number and one unit, s, m, h or d",
    taken: ["60s", "1s", "30s", "5m", "1h", "24h", "2d", "24d", "3600s", "10m"],
    refused: [
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
      ["1.5m", "a fraction"],
      ["-5s", "a sign"],
      ["s", "a unit alone"],
    ],
    overTheBound: ["25d"],
    description: [/checks that form only/, /at most 24d \(SVC601\)/],
  },
  {
    parameter: "maxCatchUp",
    setting: "SHMHUNT_MAX_CATCH_UP",
    form: "0, or a whole number and one unit, s, m, h or d",
    taken: ["24h", "0", "1s", "90m", "7d", "90d", "3600s", "48h"],
    refused: [
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
    ],
    overTheBound: [],
    description: [/The template checks that form/],
  },
];

/** What the app's configuration says of `value` for `setting`: undefined when it takes it, else its SVC601 line. */
function appRefusal(setting: string, value: string): string | undefined {
  try {
    loadConfig({ [setting]: value }, "/srv/app");
    return undefined;
  } catch (error) {
    if (!(error instanceof DiagnosticError)) throw error;
    const mine = error.diagnostics.filter((d) => d.field === setting);
    return mine.length > 0 ? mine.map((d) => `${d.code} ${d.message}`).join("; ") : undefined;
  }
}

describe.each(PARAMETERS)("$parameter at deploy time", (p) => {
  const { settingFor, failureFor, shipped } = appSetting(main, p.parameter, p.setting);

  it.each(p.taken)(`%j reaches ${p.setting} unchanged`, (value) => {
    expect(settingFor(value)).toBe(value);
  });

  it.each([...p.refused, ...TAKEN_BY_THE_APP_ONLY(p.taken[0]!).map((v) => [v, "empty or padded"] as const)])(
    `%j (%s) fails the deployment, naming ${p.parameter} and the form it takes`,
    (value) => {
      const message = failureFor(value) ?? `${JSON.stringify(value)} deployed`;
      expect(message).toMatch(new RegExp(`^${p.parameter} `));
      expect(message).toContain(`'${value}'`);
      expect(message).toContain(p.form);
    },
  );

  it("the template refuses what the app's configuration refuses, and never what it takes but the values named", () => {
    for (const value of p.taken)
      expect({ value, app: appRefusal(p.setting, value) }).toEqual({ value, app: undefined });
    for (const [value] of p.refused) {
      expect({ value, app: appRefusal(p.setting, value) }).toMatchObject({
        value,
        app: expect.stringMatching(/^SVC601 /),
      });
    }
    for (const value of TAKEN_BY_THE_APP_ONLY(p.taken[0]!)) expect(appRefusal(p.setting, value)).toBeUndefined();
    // Over the app's bound: the form passes, the app refuses it at start (its description says so).
    for (const value of p.overTheBound) {
      expect(failureFor(value)).toBeUndefined();
      expect(appRefusal(p.setting, value)).toMatch(/^SVC601 /);
    }
  });

  it("the parameter's default and main.parameters.json's value (if any) pass", () => {
    const { fallback, given } = shipped();
    expect(typeof fallback === "string" && settingFor(fallback)).toBe(fallback);
    if (given !== undefined) expect(typeof given === "string" && settingFor(given)).toBe(given);
  });

  it("the parameter's description says what the template checks", () => {
    const description = main.params.get(p.parameter)?.decorators.get("description")?.[0]?.text ?? "";
    for (const said of p.description) expect(description).toMatch(said);
  });
});
