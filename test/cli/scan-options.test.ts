/**
 * `shmhunt scan` refuses option values it cannot honour. README, Command line: every command "exits non-zero on error
 * with a one-line reason on stderr"; docs/yara.md, Exit codes: 1 "on … a bad option".
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/app/config.js";
import { DiagnosticError } from "../../src/diagnostics/index.js";
import { collect, shmhunt } from "../support/cli-process.js";
import { tempDirs } from "../support/temp-dirs.js";

const temp = tempDirs("scan-options");

/** A folder with one sample and a rule every sample reaches a worker for (no prefilter can rule it out). */
function setUp(): { sample: string; rules: string } {
  const dir = temp();
  writeFileSync(path.join(dir, "sample.bin"), "hello\n");
  writeFileSync(path.join(dir, "t.yar"), "rule t { condition: filesize > 0 }\n");
  return { sample: path.join(dir, "sample.bin"), rules: path.join(dir, "t.yar") };
}

describe("scan option values", () => {
  it.each([
    [
      "--workers over the most it starts, before starting any (1000 used to fork 1000 processes)",
      "--workers",
      "65",
      /^shmhunt: --workers: .*64.*'65'/,
    ],
    // 2^32 ms: the scan's kill timer fired after 1 ms, again and again, and YARA-X's own timeout wrapped to 0.
    [
      "a --timeout no timer can hold, as a duration too (SHMHUNT_SCAN_TIMEOUT's bound, SCAN_POOL_LIMITS)",
      "--timeout",
      "25d",
      /^shmhunt: --timeout: .*24d.*"25d"/,
    ],
    [
      "a --timeout that is not a duration, naming the option and what it takes",
      "--timeout",
      "often",
      /^shmhunt: --timeout: must be whole milliseconds or a duration such as "5m" or "24h", not "often"$/,
    ],
    [
      "a --timeout no timer can hold (it made every scan time out, with a TimeoutOverflowWarning flood)",
      "--timeout",
      "4294967296",
      /^shmhunt: --timeout: .*24d.*"4294967296"/,
    ],
    // 0 turns other timeouts off (docs/service.md); a scan's it made 1 s (YARA-X's shortest), the kill 5 s later.
    [
      "a --timeout of 0, saying a scan always has a timeout",
      "--timeout",
      "0",
      /^shmhunt: --timeout: must be more than 0: a scan always has a timeout .*"0"$/,
    ],
    // YARA-X's scan timeout counts whole seconds (its CLI: `--timeout <SECONDS>`; its scanner checks the timeout on
    // a heartbeat that ticks once a second): 500 ms was run as 1 s and 1500 ms as 2 s, without a word.
    [
      "a --timeout under a second, naming YARA-X's whole seconds",
      "--timeout",
      "500",
      /^shmhunt: --timeout: must be whole seconds: YARA-X counts a scan's timeout in whole seconds .*"500"$/,
    ],
    [
      "a --timeout that is not whole seconds, naming YARA-X's whole seconds",
      "--timeout",
      "1500",
      /^shmhunt: --timeout: must be whole seconds: YARA-X counts a scan's timeout in whole seconds .*"1500"$/,
    ],
  ] as const)(
    "refuses %s",
    async (_what, option, value, message) => {
      const { sample, rules } = setUp();
      const run = collect(shmhunt(["scan", sample, "--rules", rules, option, value], {}));
      expect(await run.exit).toBe(1);
      expect(run.out()).toBe("");
      expect(run.err().trim().split("\n")).toEqual([expect.stringMatching(message)]);
    },
    60_000,
  );

  // The option takes what SHMHUNT_SCAN_TIMEOUT takes (docs/yara.md: `--timeout 60s`): `5m` was refused, as the
  // option read only milliseconds or an `s` suffix; whole milliseconds, which it took first, still work.
  it.each(["5m", "1h", "60s", "30000", "1000", "1s"])(
    "takes --timeout %s (a duration SHMHUNT_SCAN_TIMEOUT takes, or whole milliseconds)",
    async (value) => {
      const { sample, rules } = setUp();
      const run = collect(shmhunt(["scan", sample, "--rules", rules, "--json", "--timeout", value], {}));
      expect(await run.exit).toBe(0);
      expect(run.err()).toBe("");
      expect(JSON.parse(run.out())).toMatchObject({ verdict: "match", matches: [{ rule: "t" }] });
    },
    60_000,
  );

  // docs: --timeout stands for SHMHUNT_SCAN_TIMEOUT; the scan ignored the setting and took 60s without the option.
  it.each([
    ["0", /^shmhunt: SHMHUNT_SCAN_TIMEOUT: must be more than 0: a scan always has a timeout .*"0"$/],
    ["25d", /^shmhunt: SHMHUNT_SCAN_TIMEOUT: .*24d.*"25d"$/],
    ["often", /^shmhunt: SHMHUNT_SCAN_TIMEOUT: must be a duration such as "5m" or "24h", not "often"$/],
  ] as const)(
    "reads SHMHUNT_SCAN_TIMEOUT without --timeout: refuses %s naming the setting",
    async (value, message) => {
      const { sample, rules } = setUp();
      const run = collect(shmhunt(["scan", sample, "--rules", rules], { SHMHUNT_SCAN_TIMEOUT: value }));
      expect(await run.exit).toBe(1);
      expect(run.out()).toBe("");
      expect(run.err().trim().split("\n")).toEqual([expect.stringMatching(message)]);
    },
    60_000,
  );

  it("takes SHMHUNT_SCAN_TIMEOUT without --timeout, and --timeout over it", async () => {
    const { sample, rules } = setUp();
    for (const [args, env] of [
      [[], { SHMHUNT_SCAN_TIMEOUT: "5m" }],
      [["--timeout", "60s"], { SHMHUNT_SCAN_TIMEOUT: "0" }],
    ] as const) {
      const run = collect(shmhunt(["scan", sample, "--rules", rules, "--json", ...args], env));
      expect(await run.exit).toBe(0);
      expect(run.err()).toBe("");
      expect(JSON.parse(run.out())).toMatchObject({ verdict: "match", matches: [{ rule: "t" }] });
    }
  }, 60_000);

  it("refuses SHMHUNT_SCAN_TIMEOUT=0 in the configuration, naming it", () => {
    expect(() => loadConfig({ SHMHUNT_SCAN_TIMEOUT: "0" }, "/srv/app")).toThrow(
      expect.objectContaining({
        diagnostics: [expect.objectContaining({ code: "SVC601", field: "SHMHUNT_SCAN_TIMEOUT" })],
      }),
    );
    expect(loadConfig({ SHMHUNT_SCAN_TIMEOUT: "1s" }, "/srv/app").scanTimeoutMs).toBe(1000);
  });

  it("refuses SHMHUNT_SCAN_WORKERS over the same most, naming it", () => {
    // docs/service.md, Settings: "A bad value is an error naming the setting (code `SVC601`)".
    const refused = () => loadConfig({ SHMHUNT_SCAN_WORKERS: "65" }, "/srv/app");
    expect(refused).toThrow(DiagnosticError);
    try {
      refused();
    } catch (error) {
      expect((error as DiagnosticError).diagnostics.map((d) => `${d.field}: ${d.message}`)).toEqual([
        expect.stringMatching(/^SHMHUNT_SCAN_WORKERS: .*64.*"65"/),
      ]);
    }
    expect(loadConfig({ SHMHUNT_SCAN_WORKERS: "64" }, "/srv/app").scanWorkers).toBe(64);
  });
});
