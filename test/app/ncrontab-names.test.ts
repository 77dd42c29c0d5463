/**
 * SHMHUNT_HUNT_SCHEDULE against Microsoft's NCRONTAB format (src/app/ncrontab.ts, called by loadConfig).
 *
 * Oracle: Microsoft Learn, "Timer trigger for Azure Functions", NCRONTAB expressions:
 *   "To specify months or days you can use numeric values, names, or abbreviations of names:
 *    * For days, the numeric values are 0 to 6 where 0 starts with Sunday.
 *    * Names are in English. For example: Monday, January.
 *    * Names are case-insensitive.
 *    * Names can be abbreviated. Three letters is the recommended abbreviation length. For example: Mon, Jan."
 *   and "Azure Functions uses the NCronTab library to interpret NCRONTAB expressions", whose documentation
 *   (NCrontab wiki, "Crontab Expression") says: "A single expression is composed of 5 space-delimited fields"
 *   (six with seconds, as the timer reads it). docs/service.md: a schedule the host cannot start is "refused
 *   (SVC601) when the settings are loaded, as the host would only fail to start the timer".
 */
import { describe, expect, it } from "vitest";
import { configProblems } from "../support/config-problems.js";

const problems = configProblems;

describe("NCRONTAB names of months and days", () => {
  it("accepts full English names (Monday, January), as Microsoft's docs give them", () => {
    // "Names are in English. For example: Monday, January." — the documented example "0 30 9 * Jan Mon" written
    // with the names in full.
    for (const schedule of ["0 30 9 * January Monday", "0 30 9 * * Monday-Friday", "0 0 12 * December,JANUARY *"])
      expect(problems({ SHMHUNT_HUNT_SCHEDULE: schedule }), schedule).toEqual([]);
  });

  it("accepts abbreviations other than three letters (Tues, Thurs, Sept): 'Names can be abbreviated'", () => {
    // Three letters is only "the recommended abbreviation length".
    for (const schedule of ["0 0 9 * * Tues", "0 0 9 * * Thurs", "0 0 9 * Sept *"])
      expect(problems({ SHMHUNT_HUNT_SCHEDULE: schedule }), schedule).toEqual([]);
  });
});
