import { describe, expect, it } from "vitest";
import type { QueryResult } from "../../src/workspace/query.js";
import { recordTexts, toRecords } from "../../src/workspace/result.js";

// recordTexts must print exactly what JSON.stringify prints for the toRecords objects (the `kql --json` lines).
describe("recordTexts", () => {
  const rows = [
    ['a"b\n', 1.5, Date.UTC(2024, 0, 1, 10), 90_061_000, { k: [1, "x"] }, true, null],
    ["", Number.NaN, null, null, null, false, "x"],
  ];
  const columns = [
    { name: "S", type: "string" },
    { name: "R", type: "real" },
    { name: "T", type: "datetime" },
    { name: "D", type: "timespan" },
    { name: "Dyn", type: "dynamic" },
    { name: "B", type: "bool" },
    { name: 'odd "name"', type: "string" },
  ] as const;
  it("matches JSON.stringify of the records", () => {
    const result = { columns, rows } as unknown as QueryResult;
    expect([...recordTexts(result)]).toEqual(toRecords(result).map((r) => JSON.stringify(r)));
  });
  it("matches it where an object reorders or merges keys (index-like and duplicate names)", () => {
    for (const names of [
      ["x", "1", "0"],
      ["x", "x", "y"],
    ]) {
      const result = {
        columns: names.map((name) => ({ name, type: "long" })),
        rows: [[1, 2, 3]],
      } as unknown as QueryResult;
      expect([...recordTexts(result)]).toEqual(toRecords(result).map((r) => JSON.stringify(r)));
    }
  });
});
