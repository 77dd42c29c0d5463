/**
 * Settings parsed as docs/service.md, "Settings (environment / app settings)", says.
 */
import { describe, expect, it } from "vitest";
import { configProblems } from "../support/config-problems.js";

const problems = configProblems;

describe("SHMHUNT_HUNT_TARGETS", () => {
  it("refuses a list with no target between two commas", () => {
    // docs/service.md: "targets hunted (comma-separated: `defender`, `asim`, `auditd`; another name, or none
    // between the commas, is an error)". "defender,,asim" has none between its second and third comma.
    expect(problems({ SHMHUNT_HUNT_TARGETS: "defender,,asim" })).toEqual([
      expect.stringMatching(/^SVC601 SHMHUNT_HUNT_TARGETS: /),
    ]);
  });
});
