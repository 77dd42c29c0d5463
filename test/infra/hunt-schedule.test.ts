/**
 * The hunt schedule (`huntSchedule` → SHMHUNT_HUNT_SCHEDULE) is checked by the template at deploy time, as far as
 * Bicep can check it cheaply: its number of fields. Microsoft Learn, "Timer trigger for Azure Functions": an NCRONTAB
 * expression is `{second} {minute} {hour} {day} {month} {day-of-week}`, six fields, the first the seconds; the app
 * asks for exactly six (src/app/ncrontab.ts, SVC601) and refuses to start otherwise. A value of another count must
 * fail the deployment (Bicep's `fail()`, Microsoft Learn "Bicep functions - flow control"), naming the parameter; a
 * six-field one reaches the app setting unchanged. The examples are the Learn page's, not shmhunt's.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { infraDir, loadBicep, property } from "./bicep.js";
import { DeploymentFailure, evaluate } from "./evaluate.js";

const main = loadBicep(path.join(infraDir, "main.bicep"));

/** The value main.bicep gives SHMHUNT_HUNT_SCHEDULE when deployed with `huntSchedule`. */
function settingFor(huntSchedule: string): unknown {
  const settings = main.variables.get("serviceSettings")?.value;
  const value = property(settings, "SHMHUNT_HUNT_SCHEDULE");
  if (!value) throw new Error("main.bicep sets no SHMHUNT_HUNT_SCHEDULE in serviceSettings");
  return evaluate(value, main, { huntSchedule });
}

function failureFor(huntSchedule: string): string {
  try {
    settingFor(huntSchedule);
  } catch (error) {
    if (error instanceof DeploymentFailure) return error.message;
    throw error;
  }
  throw new Error(`${JSON.stringify(huntSchedule)} deployed`);
}

describe("huntSchedule at deploy time", () => {
  it.each([
    "0 */5 * * * *", // every five minutes
    "0 0 * * * *", // at the top of every hour
    "0 0 */2 * * *", // every two hours
    "0 30 9 * Jan Mon", // 9:30 every Monday in January
    "0 0 9-17 * * *", // once an hour from 9 to 17
  ])("the six-field NCRONTAB %j reaches SHMHUNT_HUNT_SCHEDULE unchanged", (schedule) => {
    expect(settingFor(schedule)).toBe(schedule);
  });

  it("spaces beyond one between fields are not fields (the app splits on whitespace too)", () => {
    expect(settingFor("0  */5 * * * *")).toBe("0  */5 * * * *");
  });

  it("the parameter's default and main.parameters.json's value pass", () => {
    const defaultValue = main.params.get("huntSchedule")?.defaultValue;
    const fallback = defaultValue && evaluate(defaultValue, main, {});
    expect(typeof fallback === "string" && settingFor(fallback)).toBe(fallback);
    const file = JSON.parse(readFileSync(path.join(infraDir, "main.parameters.json"), "utf8")) as {
      parameters: { huntSchedule?: { value?: unknown } };
    };
    const given = file.parameters.huntSchedule?.value;
    expect(typeof given === "string" && settingFor(given)).toBe(given);
  });

  it.each([
    ["*/5 * * * *", 5, "a cron line of five fields, without the seconds"],
    ["00:05:00", 1, "a TimeSpan, for App Service plans only"],
    ["0 0 0 * * * *", 7, "seven fields"],
    ["", 0, "nothing"],
  ])("%j (%d fields: %s) fails the deployment, naming huntSchedule and the six fields", (schedule, count) => {
    const message = failureFor(schedule);
    expect(message).toMatch(/^huntSchedule /);
    expect(message).toContain(`has ${count} field(s)`);
    expect(message).toContain("six");
    expect(message).toContain("{second} {minute} {hour} {day} {month} {day-of-week}");
  });

  it("the parameter's description says the template counts the fields and the app checks each", () => {
    const description = main.params.get("huntSchedule")?.decorators.get("description")?.[0]?.text ?? "";
    expect(description).toMatch(/checks the number of fields only/);
    expect(description).toMatch(/SVC601/);
  });
});
