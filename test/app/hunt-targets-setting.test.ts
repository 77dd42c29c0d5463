/**
 * Settings parsed as docs/service.md, "Settings (environment / app settings)", says.
 */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/app/config.js";
import { DiagnosticError } from "../../src/diagnostics/index.js";

/** The SVC601 lines loadConfig refuses `env` with (none: it accepted it); as test/app/config-bad-values.test.ts. */
function problems(env: Record<string, string>, cwd = "/srv/app"): string[] {
  try {
    loadConfig(env, cwd);
  } catch (error) {
    expect(error).toBeInstanceOf(DiagnosticError);
    return (error as DiagnosticError).diagnostics.map((d) => `${d.code} ${d.field}: ${d.message}`);
  }
  return [];
}

describe("SHMHUNT_HUNT_TARGETS", () => {
  it("refuses a list with no target between two commas", () => {
    // docs/service.md: "targets hunted (comma-separated: `defender`, `asim`, `auditd`; another name, or none
    // between the commas, is an error)". "defender,,asim" has none between its second and third comma.
    expect(problems({ SHMHUNT_HUNT_TARGETS: "defender,,asim" })).toEqual([
      expect.stringMatching(/^SVC601 SHMHUNT_HUNT_TARGETS: /),
    ]);
  });
});
