/**
 * docs/service.md lists every limit and timeout with the code's own figures (one owner: the code; issue 12, "Done
 * when"). Settings: loading the configuration with a setting at its documented default changes nothing, and every
 * SHMHUNT_ setting the configuration reads is documented. Constants: each one a table names has the figure written
 * beside it, and every key of the limit tables (REQUEST_LIMITS, ENTRA_KEY_LIMITS, WORKSPACE_LIMITS,
 * EQL_FILE_LIMITS) is named.
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, type ServiceConfig } from "../../src/app/config.js";
import { incidentParams, REQUEST_LIMITS, sampleQuery, sha256Param } from "../../src/app/requests.js";
import { MAX_EXPRESSION_DEPTH } from "../../src/eql/index.js";
import { EQL_FILE_LIMITS } from "../../src/eql/limits.js";
import { ALERT_CONCURRENCY } from "../../src/hunt/raise-alerts.js";
import { BATCH_SIZE, LEASE_MS } from "../../src/hunt/run.js";
import { DEFAULT_MAX_SIGNALS } from "../../src/rules/durations.js";
import { CLOCK_SKEW_SECONDS, ENTRA_KEY_LIMITS } from "../../src/server/entra.js";
import { TRANSACTION_LIMIT } from "../../src/store/table-state-store.js";
import { TEMP_LEASE_MS, TEMP_LEASE_RENEW_MS } from "../../src/store/temp-folder.js";
import { WORKSPACE_LIMITS } from "../../src/workspace/limits.js";
import { MAX_MATCH_BYTES, MAX_STRINGS_PER_RULE } from "../../src/yara/verdict.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const doc = readFileSync(path.join(repoRoot, "docs", "service.md"), "utf8");

/** The cells of every table row of the document. */
const rows = doc
  .split("\n")
  .filter((line) => line.startsWith("| ") && !line.startsWith("| ---"))
  .map((line) =>
    line
      .slice(2, -2)
      .split(" | ")
      .map((cell) => cell.trim()),
  );

/** The constants a table may name, by the name it uses. */
const constants: Record<string, unknown> = {
  REQUEST_LIMITS,
  ENTRA_KEY_LIMITS,
  CLOCK_SKEW_SECONDS,
  MAX_EXPRESSION_DEPTH,
  incidentParams,
  sampleQuery,
  sha256Param,
  DEFAULT_MAX_SIGNALS,
  LEASE_MS,
  BATCH_SIZE,
  ALERT_CONCURRENCY,
  MAX_MATCH_BYTES,
  MAX_STRINGS_PER_RULE,
  TRANSACTION_LIMIT,
  TEMP_LEASE_MS,
  TEMP_LEASE_RENEW_MS,
  WORKSPACE_LIMITS,
  EQL_FILE_LIMITS,
};

function resolve(reference: string): unknown {
  const [root, ...keys] = reference.split(".");
  let value: unknown = constants[root ?? ""];
  for (const key of keys) value = (value as Record<string, unknown> | undefined)?.[key];
  return value;
}

/** Rows naming a constant in backticks (`REQUEST_LIMITS.eqlChars`), with the row's figure: its first number. */
const cited = rows.flatMap((cells) =>
  cells.flatMap((cell) =>
    [...cell.matchAll(/`([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)`/g)]
      .map((m) => m[1] ?? "")
      .filter((name) => (name.split(".")[0] ?? "") in constants)
      .map((name) => ({ name, row: cells })),
  ),
);

describe("docs/service.md: limits the code owns", () => {
  it("names constants, each with its figure in the row", () => {
    expect(cited.length).toBeGreaterThan(15);
    for (const { name, row } of cited) {
      const value = resolve(name);
      expect(typeof value, `${name} is not a number in the code`).toBe("number");
      // The row's limit cell: the one before the cell naming the constant (or the figure in the same row).
      const figures = row
        .join(" | ")
        .replace(/`[^`]*`/g, "")
        .match(/\d[\d,]*/g)
        ?.map((f) => Number(f.replaceAll(",", "")));
      expect(figures ?? [], `${name} = ${value}: ${row.join(" | ")}`).toContain(value);
    }
  });

  it("names every key of REQUEST_LIMITS, ENTRA_KEY_LIMITS, WORKSPACE_LIMITS and EQL_FILE_LIMITS", () => {
    const names = new Set(cited.map((c) => c.name));
    for (const key of Object.keys(REQUEST_LIMITS)) expect(names).toContain(`REQUEST_LIMITS.${key}`);
    for (const key of Object.keys(ENTRA_KEY_LIMITS)) expect(names).toContain(`ENTRA_KEY_LIMITS.${key}`);
    for (const key of Object.keys(WORKSPACE_LIMITS)) expect(names).toContain(`WORKSPACE_LIMITS.${key}`);
    for (const key of Object.keys(EQL_FILE_LIMITS)) expect(names).toContain(`EQL_FILE_LIMITS.${key}`);
  });
});

describe("docs/service.md: settings", () => {
  /** Rows whose first cell is one setting, with the default cell's value when it is one literal in backticks. */
  const settings = rows
    .filter((cells) => /^`SHMHUNT_[A-Z0-9_]+`$/.test(cells[0] ?? ""))
    .map((cells) => ({ name: (cells[0] ?? "").slice(1, -1), literal: /^`([^`<]+)`/.exec(cells[1] ?? "")?.[1] }));

  // The broker's and Entra's settings take effect only when those are on. The local workspace's tables choose the
  // default targets (SHMHUNT_HUNT_TARGETS: `defender` when it holds none): the bases name one that is not there, so a
  // developer's own `.shmhunt` (the demo's, after `npm start`) does not change what is checked.
  const noWorkspace = path.join(os.tmpdir(), `shmhunt-limits-doc-no-workspace-${process.pid}`);
  const bases: ReadonlyArray<Record<string, string>> = [
    { SHMHUNT_WORKSPACE_DIR: noWorkspace },
    {
      SHMHUNT_WORKSPACE_DIR: noWorkspace,
      SHMHUNT_SAMPLE_BROKER: "defender",
      SHMHUNT_ENTRA_TENANT_ID: "72f988bf-86f1-41af-91ab-2d7cd011db47",
      SHMHUNT_ENTRA_AUDIENCE: "api://shmhunt",
    },
  ];
  /** The configuration as it acts: Entra's fetch limits default in src/server/entra.ts. */
  const effective = (config: ServiceConfig) => ({
    ...config,
    ...(config.entra
      ? {
          entra: {
            jwksTimeoutMs: ENTRA_KEY_LIMITS.jwksTimeoutMs,
            keysRetryMs: ENTRA_KEY_LIMITS.keysRetryMs,
            ...config.entra,
          },
        }
      : {}),
  });

  it("each documented default is the code's: setting it changes nothing", () => {
    const checked = settings.filter((s) => s.literal !== undefined);
    expect(checked.length).toBeGreaterThan(25);
    for (const { name, literal } of checked) {
      for (const base of bases) {
        if (name in base) continue;
        const env = { ...base, [name]: literal };
        expect(effective(loadConfig(env, repoRoot)), `${name}=${literal}`).toEqual(
          effective(loadConfig(base, repoRoot)),
        );
      }
    }
  });

  it("a limit table naming a setting shows its documented default", () => {
    const defaults = new Map(settings.map((s) => [s.name, s.literal]));
    let checked = 0;
    for (const cells of rows) {
      if (/^`SHMHUNT_/.test(cells[0] ?? "")) continue;
      const named = cells.slice(2).flatMap((cell) => [...cell.matchAll(/`(SHMHUNT_[A-Z0-9_]+)`/g)].map((m) => m[1]));
      const shown = /^`([^`]+)`/.exec(cells[1] ?? "")?.[1];
      if (named.length !== 1 || shown === undefined) continue;
      expect(shown, cells.join(" | ")).toBe(defaults.get(named[0] ?? ""));
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(9);
  });

  it("every SHMHUNT_ setting the configuration reads is documented", () => {
    const source = readFileSync(path.join(repoRoot, "src", "app", "config.ts"), "utf8");
    const read = new Set([...source.matchAll(/"(SHMHUNT_[A-Z0-9_]+)"/g)].map((m) => m[1]));
    const documented = new Set(settings.map((s) => s.name));
    // Grouped rows (`SHMHUNT_TABLE_URL`, `SHMHUNT_BLOB_URL` | …) name several.
    for (const cells of rows)
      for (const m of (cells[0] ?? "").matchAll(/`(SHMHUNT_[A-Z0-9_]+)`/g)) documented.add(m[1] ?? "");
    expect([...read].filter((name) => !documented.has(name ?? ""))).toEqual([]);
  });
});
