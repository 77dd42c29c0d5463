/** The SVC601 lines loadConfig refuses a set of settings with (none: it accepted them), for the settings tests. */
import { expect } from "vitest";
import { loadConfig } from "../../src/app/config.js";
import { DiagnosticError } from "../../src/diagnostics/index.js";

export function configProblems(env: Record<string, string>, cwd = "/srv/app"): string[] {
  try {
    loadConfig(env, cwd);
  } catch (error) {
    expect(error).toBeInstanceOf(DiagnosticError);
    return (error as DiagnosticError).diagnostics.map((d) => `${d.code} ${d.field}: ${d.message}`);
  }
  return [];
}
