/**
 * Places where the local KQL engine answered differently from Microsoft's Kusto documentation until 8 December 2026
 * (`in` with a datetime or timespan column in its list, sum()/sumif() over no rows, todatetime() of an impossible
 * date), and one where it was right and a review first thought it wrong (isempty of an empty array). Each expected
 * value is taken from the docs (quoted above each test), not from the engine.
 */
import { describe, expect, it } from "vitest";
import { inlineKql } from "../support/inline-kql.js";

const { rows, scalar } = inlineKql(Date.UTC(2024, 4, 28, 12, 0, 0));

describe("in / !in with a column of datetime or timespan in the list", () => {
  // in-cs-operator.md, Parameters: "*expression* | scalar or tabular | An expression that specifies the values for
  // which to search. Each expression can be a scalar value or a tabular expression that produces a set of values."
  // datatypes-string-operators.md: "`in` | Equals to any of the elements".
  it("a datetime equal to the datetime column in the list is in it", async () => {
    const q = `datatable(a:datetime, b:datetime)[datetime(2024-01-01), datetime(2024-01-01)]
      | extend r = a in (b), nr = a !in (b)`;
    expect(await rows(q)).toEqual([
      { a: "2024-01-01T00:00:00.000Z", b: "2024-01-01T00:00:00.000Z", r: true, nr: false },
    ]);
  });

  it("a timespan equal to the timespan column in the list is in it", async () => {
    const q = "datatable(a:timespan, b:timespan)[1h, 1h] | project r = a in (b, 2h)";
    expect(await rows(q)).toEqual([{ r: true }]);
  });
});

describe("default value of sum()/sumif() over no rows", () => {
  // summarize-operator.md (https://learn.microsoft.com/en-us/kusto/query/summarize-operator), "Default values of
  // aggregations": "`count()`, `countif()`, `dcount()`, `dcountif()`, `count_distinct()`, `sum()`, `sumif()`,
  // `variance()`, `varianceif()`, `stdev()`, `stdevif()` | 0"; "All others | null". Its example
  // `range x from 1 to 10 step 1 | where 1 == 2 | summarize ... sum(x), sumif(x, x > 0) ...` outputs 0 for both.
  it("is 0, not null", async () => {
    const q = "range x from 1 to 10 step 1 | where 1 == 2 | summarize sum(x), sumif(x, x > 0), count()";
    expect(await rows(q)).toEqual([{ sum_x: 0, sumif_x: 0, count_: 0 }]);
  });
});

describe("isempty() of an empty dynamic array or property bag", () => {
  // isempty-function (learn.microsoft.com/kusto/query/isempty-function; the same table on docs.azure.cn), "Returns
  // true if the argument is an empty string or is null", and its table of x and isempty(x): `""` → true, `"x"` →
  // false, `parsejson("")` → true, `parsejson("[]")` → false, `parsejson("{}")` → false. (The review that wrote this
  // test first expected true for the last two, from another product's page of the same name; Microsoft's says false.)
  it("is false for parse_json('[]') and parse_json('{}'), true for '' and parse_json('')", async () => {
    expect(await scalar('isempty("")')).toBe(true);
    expect(await scalar('isempty("x")')).toBe(false);
    expect(await scalar('isempty(parse_json(""))')).toBe(true);
    expect(await scalar('isempty(parse_json("[]"))')).toBe(false);
    expect(await scalar('isempty(parse_json("{}"))')).toBe(false);
  });
});

describe("todatetime() of a text that names no real calendar date", () => {
  // todatetime-function.md (https://learn.microsoft.com/en-us/kusto/query/todatetime-function), Returns: "If the
  // conversion is successful, the result will be a datetime value. Else, the result will be null." February 30th,
  // February 29th of 2023 (not a leap year), month 13 and hour 25 are no datetime, so the conversion fails.
  it("is null, not a date rolled over into the next month/day", async () => {
    const q = `print a = todatetime("2024-02-30"), b = todatetime("2023-02-29T00:00:00Z"),
      c = todatetime("2024-13-01"), d = todatetime("2024-01-01T25:00:00Z")`;
    expect(await rows(q)).toEqual([{ a: null, b: null, c: null, d: null }]);
  });
});
