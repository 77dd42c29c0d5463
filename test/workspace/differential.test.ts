/**
 * Differential check of the whole translation (issue 4): Elasticsearch's EQL suite → src/kql (identity mapping
 * onto the suite's own data as one table) → the local workspace engine → the expected event ids. The count of
 * passing queries may only go up (differential-known.json); every query not passed is listed with its reason.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type DiffOutcome, runDifferential } from "./differential.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const known = JSON.parse(readFileSync(path.join(here, "differential-known.json"), "utf8")) as { passed: number };

describe("differential: EQL suite → KQL → local engine", () => {
  it("passes at least as many queries as before, listing the others", async () => {
    const outcomes = await runDifferential();
    const count = (s: DiffOutcome["status"]) => outcomes.filter((o) => o.status === s).length;
    const summary = {
      total: outcomes.length,
      passed: count("passed"),
      refused: count("refused"),
      failed: count("failed"),
      error: count("error"),
      unparsed: count("unparsed"),
    };
    const lines = outcomes
      .filter((o) => o.status !== "passed")
      .map((o) => `  ${o.status.padEnd(8)} ${o.entry.file}:${o.entry.name}: ${o.reason.slice(0, 240)}`);
    console.log(
      [
        "Differential check (EQL suite → KQL → local engine):",
        ...lines,
        `  passed: ${summary.passed}/${summary.total} (refused ${summary.refused}, failed ${summary.failed}, error ${summary.error}, unparsed ${summary.unparsed}; floor ${known.passed})`,
      ].join("\n"),
    );
    expect(summary.total).toBeGreaterThan(150);
    expect(summary.passed).toBeGreaterThanOrEqual(known.passed);
  });
});
