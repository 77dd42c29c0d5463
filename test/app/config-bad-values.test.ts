/**
 * Bad values of the SHMHUNT_* settings. docs/service.md, Settings: "A bad value is an error naming the setting
 * (code `SVC601`)"; README, Configuration reference: "A bad value is an error naming the setting."
 */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/app/config.js";
import { DiagnosticError } from "../../src/diagnostics/index.js";

/** The SVC601 lines loadConfig refuses `env` with (none: it accepted it). */
function problems(env: Record<string, string>, cwd = "/srv/app"): string[] {
  try {
    loadConfig(env, cwd);
  } catch (error) {
    expect(error).toBeInstanceOf(DiagnosticError);
    return (error as DiagnosticError).diagnostics.map((d) => `${d.code} ${d.field}: ${d.message}`);
  }
  return [];
}

describe("duration settings", () => {
  it("refuses a timer's duration Node cannot keep (over 2^31-1 ms, ~24.8 days), naming the setting", () => {
    // Node's timers take at most 2^31-1 ms and set a longer one to 1 ms (TimeoutOverflowWarning):
    // SHMHUNT_HUNT_TICK=25d made `shmhunt hunt` run the hunts back to back, every 1 ms, instead of every 25 days.
    for (const name of [
      "SHMHUNT_HUNT_TICK",
      "SHMHUNT_SCAN_TIMEOUT",
      "SHMHUNT_ENTRA_JWKS_TIMEOUT",
      "SHMHUNT_HEADERS_TIMEOUT",
      "SHMHUNT_REQUEST_TIMEOUT",
      "SHMHUNT_IDLE_TIMEOUT",
      "SHMHUNT_KEEP_ALIVE_TIMEOUT",
    ]) {
      expect(problems({ [name]: "25d" }), name).toEqual([
        expect.stringMatching(new RegExp(`^SVC601 ${name}: .*24d.*"25d"`)),
      ]);
      expect(problems({ [name]: "24d", SHMHUNT_REQUEST_TIMEOUT: "24d" }), name).toEqual([]);
    }
    // Not timers: a catch-up reach and a retry delay are date arithmetic, so longer ones stay accepted.
    expect(problems({ SHMHUNT_MAX_CATCH_UP: "90d", SHMHUNT_SCAN_RETRY_BACKOFF: "30d" })).toEqual([]);
  });

  it("refuses a headers timeout longer than the request timeout, naming both (Node refused it with its own words)", () => {
    // `shmhunt serve` with SHMHUNT_HEADERS_TIMEOUT=5m (the request timeout's default is 2m) ended with Node's
    // 'The value of "headersTimeout" is out of range. It must be <= requestTimeout', naming no setting.
    expect(problems({ SHMHUNT_HEADERS_TIMEOUT: "5m" })).toEqual([
      expect.stringMatching(/^SVC601 SHMHUNT_HEADERS_TIMEOUT: .*SHMHUNT_REQUEST_TIMEOUT/),
    ]);
    expect(problems({ SHMHUNT_HEADERS_TIMEOUT: "5m", SHMHUNT_REQUEST_TIMEOUT: "0" })).toEqual([]);
    expect(problems({ SHMHUNT_HEADERS_TIMEOUT: "2m" })).toEqual([]);
  });
});
