/**
 * Elasticsearch's own EQL QA suite (../shared/corpus/es-eql) through the evaluator. Every query without sequences
 * or samples must pass; a sequence or sample that does not is listed with its reason in es-suite-known.json, and
 * the number passing per file may only go up.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadEntries, type Outcome, runEntry, SUITE_FILES } from "./es-suite.js";

interface KnownList {
  readonly known: Readonly<Record<string, string>>;
  readonly minimumPassing: Readonly<Record<string, number>>;
}

const knownList = JSON.parse(readFileSync(path.join(import.meta.dirname, "es-suite-known.json"), "utf8")) as KnownList;
const outcomes: Outcome[] = [];

describe("Elasticsearch EQL QA suite", () => {
  for (const { file, data } of SUITE_FILES) {
    describe(file, () => {
      const entries = loadEntries(file);
      const dataset = data();

      it("has entries", () => {
        expect(entries.length).toBeGreaterThan(0);
      });

      it.each(entries.map((e) => [e.name, e] as const))("%s", (_name, entry) => {
        const outcome = runEntry(entry, dataset);
        outcomes.push(outcome);
        const id = `${file}:${entry.name}`;
        const known = knownList.known[id];
        if (outcome.kind === "event") {
          expect(known, `${id} is a query without sequences or samples: it must pass, not be listed`).toBeUndefined();
        }
        if (known) {
          expect(outcome.passed, `${id} passes now: remove it from es-suite-known.json and raise the minimum`).toBe(
            false,
          );
        } else {
          expect(outcome.reason).toBe("");
          expect(outcome.passed).toBe(true);
        }
      });

      it("passes at least the recorded number of entries", () => {
        const passed = entries.filter((e) => runEntry(e, dataset).passed).length;
        expect(passed).toBeGreaterThanOrEqual(knownList.minimumPassing[file] ?? Number.POSITIVE_INFINITY);
      });
    });
  }

  afterAll(() => {
    const lines = SUITE_FILES.map(({ file }) => {
      const mine = outcomes.filter((o) => o.entry.file === file);
      return `  ${file}: ${mine.filter((o) => o.passed).length}/${mine.length} passed`;
    });
    const total = outcomes.filter((o) => o.passed).length;
    console.log(`ES EQL QA suite:\n${lines.join("\n")}\n  total: ${total}/${outcomes.length}`);
  });
});
