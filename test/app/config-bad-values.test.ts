/**
 * Bad values of the SHMHUNT_* settings. docs/service.md, Settings: "A bad value is an error naming the setting
 * (code `SVC601`)"; README, Configuration reference: "A bad value is an error naming the setting."
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/app/config.js";
import { REQUEST_LIMITS } from "../../src/app/requests.js";
import { configProblems } from "../support/config-problems.js";

const problems = configProblems;

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

describe("the Logs query timeout", () => {
  it("refuses more than the Logs API's 600 s (docs/infra.md: 1-600), naming the setting", () => {
    // @azure/monitor-query-logs, serverTimeoutInSeconds: "maximum allowed is 600 seconds (10 minutes)"; the
    // Bicep parameter says @maxValue(600), and the setting itself took 3600 without a word.
    expect(problems({ SHMHUNT_QUERY_TIMEOUT_SECONDS: "601" })).toEqual([
      'SVC601 SHMHUNT_QUERY_TIMEOUT_SECONDS: must be an integer from 1 to 600, not "601"',
    ]);
    expect(problems({ SHMHUNT_QUERY_TIMEOUT_SECONDS: "600" })).toEqual([]);
  });
});

describe("URLs, account names and connection strings", () => {
  it("refuses a URL setting that is not an http(s) URL, naming it (serve used to end with 'Invalid URL' alone)", () => {
    const entra = {
      SHMHUNT_ENTRA_TENANT_ID: "72f988bf-86f1-41af-91ab-2d7cd011db47",
      SHMHUNT_ENTRA_AUDIENCE: "api://x",
    };
    expect(problems({ ...entra, SHMHUNT_ENTRA_JWKS_URL: "not a url" })).toEqual([
      expect.stringMatching(/^SVC601 SHMHUNT_ENTRA_JWKS_URL: .*"not a url"/),
    ]);
    expect(problems({ SHMHUNT_TABLE_URL: "nope" })).toEqual([
      expect.stringMatching(/^SVC601 SHMHUNT_TABLE_URL: .*"nope"/),
    ]);
    expect(problems({ SHMHUNT_BLOB_URL: "ftp://example.org" })).toEqual([
      expect.stringMatching(/^SVC601 SHMHUNT_BLOB_URL: .*"ftp:\/\/example.org"/),
    ]);
    expect(
      problems({ SHMHUNT_SAMPLE_BROKER: "defender", SHMHUNT_DEFENDER_URL: "eu.api.security.microsoft.com" }),
    ).toEqual([expect.stringMatching(/^SVC601 SHMHUNT_DEFENDER_URL: .*"eu.api.security.microsoft.com"/)]);
    expect(
      problems({
        ...entra,
        SHMHUNT_ENTRA_JWKS_URL: "http://127.0.0.1:9999/keys",
        SHMHUNT_TABLE_URL: "http://127.0.0.1:10002/devstoreaccount1",
        SHMHUNT_BLOB_URL: "https://sa.blob.core.windows.net",
        SHMHUNT_SAMPLE_BROKER: "defender",
        SHMHUNT_DEFENDER_URL: "https://eu.api.security.microsoft.com",
      }),
    ).toEqual([]);
  });

  it("refuses a storage account name Azure would not take, naming it", () => {
    // Azure: 3 to 24 characters, digits and lower-case letters only; "my account" made the URL invalid.
    expect(problems({ SHMHUNT_STORAGE_ACCOUNT: "my account" })).toEqual([
      expect.stringMatching(/^SVC601 SHMHUNT_STORAGE_ACCOUNT: .*"my account"/),
    ]);
    expect(problems({ SHMHUNT_STORAGE_ACCOUNT: "shmhuntsa01" })).toEqual([]);
  });

  it("refuses a connection string that is not `Key=Value;…`, naming the setting and not the secret", () => {
    // serve with SHMHUNT_STORAGE_CONNECTION_STRING=garbage ended with the SDK's
    // "Cannot read properties of undefined (reading 'toLowerCase')".
    const found = problems({ SHMHUNT_STORAGE_CONNECTION_STRING: "garbage" });
    expect(found).toEqual([expect.stringMatching(/^SVC601 SHMHUNT_STORAGE_CONNECTION_STRING: /)]);
    expect(found[0]).not.toContain("garbage");
    expect(problems({ SHMHUNT_STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true" })).toEqual([]);
    expect(
      problems({
        SHMHUNT_STORAGE_CONNECTION_STRING:
          "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5PT0=;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;",
      }),
    ).toEqual([]);
  });
});

describe("folder settings", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-config-dirs-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "a-file");
  writeFileSync(file, "not a folder\n");
  mkdirSync(path.join(dir, "rules"));

  it("refuses a folder setting that names a file, naming the setting", () => {
    // `shmhunt hits` with SHMHUNT_STATE_DIR naming a file ended with "EEXIST: file already exists, mkdir '…'", and
    // `hunt --once` with SHMHUNT_DATA_DIR one with "ENOTDIR: not a directory, mkdir '…/state'": neither named the
    // setting.
    for (const name of [
      "SHMHUNT_DATA_DIR",
      "SHMHUNT_STATE_DIR",
      "SHMHUNT_SAMPLES_DIR",
      "SHMHUNT_WORKSPACE_DIR",
      "SHMHUNT_RULES_DIR",
      "SHMHUNT_KQL_DIR",
      "SHMHUNT_TMP_DIR",
    ]) {
      expect(problems({ [name]: file }, dir), name).toEqual([
        expect.stringMatching(new RegExp(`^SVC601 ${name}: .*a-file" is not a folder`)),
      ]);
    }
  });

  it("refuses a rules folder that does not exist (hunt --once hunted nothing and exited 0)", () => {
    expect(problems({ SHMHUNT_RULES_DIR: "no-such-rules" }, dir)).toEqual([
      expect.stringMatching(/^SVC601 SHMHUNT_RULES_DIR: .*no-such-rules" does not exist/),
    ]);
    expect(problems({ SHMHUNT_RULES_DIR: "rules" }, dir)).toEqual([]);
    // The folders the service makes when they are missing stay accepted, and so does the default rules folder.
    expect(
      problems({ SHMHUNT_DATA_DIR: "d", SHMHUNT_STATE_DIR: "s", SHMHUNT_SAMPLES_DIR: "x", SHMHUNT_TMP_DIR: "t" }, dir),
    ).toEqual([]);
    expect(problems({}, path.join(dir, "elsewhere"))).toEqual([]);
  });
});

describe("integer settings", () => {
  it("take decimal digits only: a hex, exponent or signed number is refused, naming the setting", () => {
    // docs/service.md: SHMHUNT_PORT "listen port (0–65535)"; Number() took "0x10" as port 16, "1e3" as 1000 and
    // "+80" as 80, none of them what a reader of the setting would take them for.
    for (const raw of ["0x10", "1e3", "+80", "0b1", "8_0"]) {
      expect(problems({ SHMHUNT_PORT: raw }), raw).toEqual([
        expect.stringMatching(new RegExp(`^SVC601 SHMHUNT_PORT: .*"${raw.replace(/[+]/g, "\\+")}"`)),
      ]);
    }
    expect(problems({ SHMHUNT_PORT: "080", SHMHUNT_RESCAN_BATCH: "0", SHMHUNT_MAX_SAMPLE_BYTES: "1048576" })).toEqual(
      [],
    );
  });
});

describe("ids and lists", () => {
  it("refuses a subscription id that is not a GUID, naming it", () => {
    // ARM's subscriptionId (common-types/resource-management/v5/types.json, SubscriptionIdParameter): "The ID of the
    // target subscription. The value must be an UUID."
    const sentinel = { SHMHUNT_RESOURCE_GROUP: "rg-sentinel", SHMHUNT_WORKSPACE_NAME: "law-sentinel" };
    expect(problems({ ...sentinel, SHMHUNT_SUBSCRIPTION_ID: "my-subscription" })).toEqual([
      expect.stringMatching(/^SVC601 SHMHUNT_SUBSCRIPTION_ID: .*GUID.*"my-subscription"/),
    ]);
    expect(problems({ ...sentinel, SHMHUNT_SUBSCRIPTION_ID: "00000000-0000-0000-0000-000000000000" })).toEqual([]);
  });

  it("refuses SHMHUNT_HUNT_TARGETS set to separators alone (it meant the default, as if unset)", () => {
    expect(problems({ SHMHUNT_HUNT_TARGETS: " , ," })).toEqual([
      expect.stringMatching(/^SVC601 SHMHUNT_HUNT_TARGETS: names no target/),
    ]);
    expect(problems({ SHMHUNT_HUNT_TARGETS: "defender, asim" })).toEqual([]);
  });
});

describe("the sample broker's settings", () => {
  // docs/service.md, Settings: SHMHUNT_SAMPLE_BROKER is `off` by default; the broker's settings have their ranges
  // there (SHMHUNT_BROKER_MAX_STARTS at most 10, SHMHUNT_BROKER_MAX_ACTIVE at most 25, SHMHUNT_DEFENDER_URL a URL).
  // A bad one is refused whether the broker is on or off: not found only on the day it is turned on.
  const bad: ReadonlyArray<readonly [string, string]> = [
    ["SHMHUNT_DEFENDER_URL", "eu.api.security.microsoft.com"],
    ["SHMHUNT_DEFENDER_URL", "ftp://api.securitycenter.microsoft.com"],
    ["SHMHUNT_BROKER_MAX_STARTS", "11"],
    ["SHMHUNT_BROKER_MAX_STARTS", "0"],
    ["SHMHUNT_BROKER_MAX_STARTS", "five"],
    ["SHMHUNT_BROKER_MAX_ACTIVE", "26"],
    ["SHMHUNT_BROKER_MAX_ACTIVE", "1e1"],
    ["SHMHUNT_BROKER_SKIP_SIGNED", "yes"],
    ["SHMHUNT_BROKER_MAX_GLOBAL_PREVALENCE", "many"],
    ["SHMHUNT_BROKER_MAX_ORG_PREVALENCE", "-1"],
  ];

  it.each(bad)("%s=%s is refused naming it, the broker off (unset or `off`) as on", (name, value) => {
    const on = problems({ SHMHUNT_SAMPLE_BROKER: "defender", [name]: value });
    expect(on).toEqual([expect.stringMatching(new RegExp(`^SVC601 ${name}: `))]);
    expect(problems({ [name]: value })).toEqual(on);
    expect(problems({ SHMHUNT_SAMPLE_BROKER: "off", [name]: value })).toEqual(on);
  });

  it("takes good values with the broker off, and builds no broker", () => {
    const env = {
      SHMHUNT_DEFENDER_URL: "https://eu.api.security.microsoft.com",
      SHMHUNT_BROKER_MAX_STARTS: "10",
      SHMHUNT_BROKER_MAX_ACTIVE: "25",
      SHMHUNT_BROKER_SKIP_SIGNED: "false",
      SHMHUNT_BROKER_MAX_GLOBAL_PREVALENCE: "none",
      SHMHUNT_BROKER_MAX_ORG_PREVALENCE: "50",
    };
    expect(problems(env)).toEqual([]);
    expect(loadConfig(env, "/srv/app").broker).toBeUndefined();
    expect(loadConfig({ ...env, SHMHUNT_SAMPLE_BROKER: "defender" }, "/srv/app").broker).toMatchObject({
      defenderUrl: "https://eu.api.security.microsoft.com",
      maxStartsPerTick: 10,
      maxActive: 25,
    });
  });
});

describe("the Functions timer's schedule (SHMHUNT_HUNT_SCHEDULE)", () => {
  // Oracle: Microsoft Learn, "Timer trigger for Azure Functions", NCRONTAB expressions: `{second} {minute} {hour}
  // {day} {month} {day-of-week}`, each field a specific value, `*`, a range (`5-7`), a set (`5,8,10`) or an interval
  // (`*/5`); its examples, all accepted here; and "A `TimeSpan` can be used only for a function app that runs on an
  // App Service Plan" (the app runs on Flex Consumption, infra/modules/function-app.bicep).
  it("accepts the documented NCRONTAB examples and the template's default", () => {
    for (const schedule of [
      "0 */1 * * * *",
      "0 */5 * * * *",
      "0 0 * * * *",
      "0 0 */2 * * *",
      "0 0 9-17 * * *",
      "0 30 9 * * *",
      "0 30 9 * * 1-5",
      "0 30 9 * Jan Mon",
      "5-7 * * * * *",
      "5,8,10 * * * * *",
      "0 * 5 * * *",
    ])
      expect(problems({ SHMHUNT_HUNT_SCHEDULE: schedule }), schedule).toEqual([]);
  });

  it("refuses a five-field cron line, a TimeSpan and fields out of range, naming the setting", () => {
    expect(problems({ SHMHUNT_HUNT_SCHEDULE: "*/5 * * * *" })).toEqual([
      expect.stringMatching(/^SVC601 SHMHUNT_HUNT_SCHEDULE: must be an NCRONTAB schedule of six fields.*five fields/),
    ]);
    expect(problems({ SHMHUNT_HUNT_SCHEDULE: "00:05:00" })).toEqual([
      expect.stringMatching(/^SVC601 SHMHUNT_HUNT_SCHEDULE: .*TimeSpan "00:05:00".*App Service plans only/),
    ]);
    for (const [schedule, field] of [
      ["60 * * * * *", "second"],
      ["0 */5 24 * * *", "hour"],
      ["0 0 0 0 * *", "day"],
      ["0 0 0 * 13 *", "month"],
      ["0 0 0 * * 7", "day-of-week"],
      ["0 */0 * * * *", "minute"],
      ["0 5-2 * * * *", "minute"],
      ["0 x * * * *", "minute"],
      ["0 0 9 * Foo *", "month"],
    ] as const)
      expect(problems({ SHMHUNT_HUNT_SCHEDULE: schedule }), schedule).toEqual([
        expect.stringMatching(
          new RegExp(`^SVC601 SHMHUNT_HUNT_SCHEDULE: must be an NCRONTAB schedule.*its ${field} field`),
        ),
      ]);
  });
});

describe("SHMHUNT_RESCAN_BATCH", () => {
  it("takes 0 (off) to REQUEST_LIMITS.rescanLimit, the bound of POST /hunt/rescan and rescan --limit", () => {
    const most = REQUEST_LIMITS.rescanLimit;
    expect(most).toBe(1000);
    for (const ok of ["0", "1", String(most)]) expect(problems({ SHMHUNT_RESCAN_BATCH: ok }), ok).toEqual([]);
    expect(loadConfig({ SHMHUNT_RESCAN_BATCH: String(most) }, "/srv/app").rescanBatch).toBe(most);
    for (const bad of [String(most + 1), "1000000", "-1"]) {
      expect(problems({ SHMHUNT_RESCAN_BATCH: bad }), bad).toEqual([
        `SVC601 SHMHUNT_RESCAN_BATCH: must be an integer from 0 to ${most}, not "${bad}"`,
      ]);
    }
  });
});
