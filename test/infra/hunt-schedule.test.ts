/**
 * The hunt schedule (`huntSchedule` → SHMHUNT_HUNT_SCHEDULE) is checked by the template at deploy time, as far as
 * Bicep can check it cheaply: its number of fields. Microsoft Learn, "Timer trigger for Azure Functions": an NCRONTAB
 * expression is `{second} {minute} {hour} {day} {month} {day-of-week}`, six fields, the first the seconds; the app
 * asks for exactly six (src/app/ncrontab.ts, SVC601) and refuses to start otherwise. A value of another count must
 * fail the deployment (Bicep's `fail()`, Microsoft Learn "Bicep functions - flow control"), naming the parameter; a
 * six-field one reaches the app setting unchanged. The examples are the Learn page's, not shmhunt's.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { infraDir, loadBicep } from "./bicep.js";
import { appSetting } from "./evaluate.js";

const main = loadBicep(path.join(infraDir, "main.bicep"));

const { settingFor, failureFor, shipped } = appSetting(main, "huntSchedule", "SHMHUNT_HUNT_SCHEDULE");

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
    const { fallback, given } = shipped();
    expect(typeof fallback === "string" && settingFor(fallback)).toBe(fallback);
    expect(typeof given === "string" && settingFor(given)).toBe(given);
  });

  it.each([
    ["*/5 * * * *", 5, "a cron line of five fields, without the seconds"],
    ["00:05:00", 1, "a TimeSpan, for App Service plans only"],
    ["0 0 0 * * * *", 7, "seven fields"],
    ["", 0, "nothing"],
  ])("%j (%d fields: %s) fails the deployment, naming huntSchedule and the six fields", (schedule, count) => {
    const message = failureFor(schedule) ?? `${JSON.stringify(schedule)} deployed`;
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
