/**
 * The local engine on the points where it used to follow RE2 or its own reading instead of the KQL documentation
 * (issue 10: a translator bug must not hide behind the engine). Each expectation cites its documentation line in
 * ../shared/reference/kusto-docs.
 */
import { describe, expect, it } from "vitest";
import { inlineKql } from "../support/inline-kql.js";

const { scalar, rows, failureCode: failure } = inlineKql();

describe("regex classes are Unicode (regex.md)", () => {
  it("reads \\d as \\p{Nd}", async () => {
    // regex.md: "| `\d` | Digit (`\p{Nd}`). |"
    expect(await scalar('"٣" matches regex @"^\\d$"')).toBe(true);
    expect(await scalar('"٣" matches regex @"^[0-9]$"')).toBe(false); // "`[0-9]` Any ASCII digit."
    expect(await scalar('"٣" matches regex @"^[\\d]$"')).toBe(true);
  });

  it("reads \\s and \\w as Unicode classes", async () => {
    // regex.md, "Unicode support (enabled by default)" (`u` flag): the Perl classes are Unicode-aware
    expect(await scalar('"\\u00a0" matches regex @"^\\s$"')).toBe(true);
    expect(await scalar('"é" matches regex @"^\\w$"')).toBe(true);
    expect(await scalar('"é" matches regex @"^\\W$"')).toBe(false);
  });
});

describe("class set operators (regex.md)", () => {
  it("does not read `&&`, `--`, `~~` or a nested class as members: it refuses them by name", async () => {
    // regex.md: "`[a-y&&xyz]` Intersection (matching x or y)", "`[0-9--4]` Direct subtraction", "`[a-g~~b-h]`
    // Symmetric difference"; RE2 would read each as a union of members, so the engine refuses (WS500)
    expect(await failure('"&" matches regex @"[a&&b]"')).toBe("WS500");
    expect(await failure('"-" matches regex @"[0-9--4]"')).toBe("WS500");
    expect(await failure('"~" matches regex @"[a~~b]"')).toBe("WS500");
    expect(await failure('"a" matches regex @"[[a]b]"')).toBe("WS500");
  });

  it("reads escaped operators as members", async () => {
    // regex.md: "`\*` Literal `*`, applies to all ASCII except `[0-9A-Za-z<>]`"
    expect(await scalar('"&" matches regex @"^[a\\&\\&b]$"')).toBe(true);
    expect(await scalar('"-" matches regex @"^[0\\-\\-9]$"')).toBe(true);
    expect(await scalar('"[" matches regex @"^[\\[a]$"')).toBe(true);
    expect(await scalar('"b" matches regex @"^[[:alpha:]]$"')).toBe(true); // "`[[:alpha:]]` ASCII character class"
  });
});

describe("ipv4_is_in_any_range / ipv6_is_in_any_range null rules", () => {
  it("is null when the address does not parse, whatever the number of ranges", async () => {
    // ipv4-is-in-any-range-function.md, Returns: "`null`: If conversion for one of the two IPv4 strings wasn't
    // successful."
    expect(await scalar('ipv4_is_in_any_range("", "10.0.0.0/8", "192.168.0.0/16")')).toBeNull();
    expect(await scalar('ipv4_is_in_any_range("::ffff:10.1.2.3", dynamic(["10.0.0.0/8", "1.0.0.0/8"]))')).toBeNull();
    expect(await scalar('isnull(not(ipv4_is_in_any_range("x", "10.0.0.0/8", "1.0.0.0/8")))')).toBe(true);
    // ipv6-is-in-any-range-function.md: "`null`: If conversion for one of the two IPv6 strings wasn't successful."
    expect(await scalar('ipv6_is_in_any_range("x", "fe80::/10", "::1")')).toBeNull();
  });

  it("answers true and false as documented", async () => {
    // the docs' first example: ipv4_is_in_any_range('192.168.1.6', '192.168.1.1/24', '10.0.0.1/8', '127.1.0.1/16')
    expect(await scalar("ipv4_is_in_any_range('192.168.1.6', '192.168.1.1/24', '10.0.0.1/8', '127.1.0.1/16')")).toBe(
      true,
    );
    expect(await scalar('ipv4_is_in_any_range("1.1.1.1", dynamic(["192.168.1.1/16", "127.0.0.1/8"]))')).toBe(false);
  });
});

describe("== and != with one null operand (null-values)", () => {
  it("is false for ==, true for !=, and null only when both operands are null", async () => {
    // https://learn.microsoft.com/en-us/kusto/query/scalar-data-types/null-values, "Equality and inequality of null
    // values": "Applying the equality operator to two null values yields bool(null). Applying the equality operator
    // to a null value and a non-null value yields bool(false)." and "Applying the inequality operator to two null
    // values yields bool(null). Applying the inequality operator to a null value and a non-null value yields
    // bool(true)." The page's example and its output:
    const q = `datatable(val:int)[5, int(null)]
      | extend IsBiggerThan3 = val > 3
      | extend IsBiggerThan3OrNull = val > 3 or isnull(val)
      | extend IsEqualToNull = val == int(null)
      | extend IsNotEqualToNull = val != int(null)`;
    expect(await rows(q)).toEqual([
      { val: 5, IsBiggerThan3: true, IsBiggerThan3OrNull: true, IsEqualToNull: false, IsNotEqualToNull: true },
      { val: null, IsBiggerThan3: null, IsBiggerThan3OrNull: true, IsEqualToNull: null, IsNotEqualToNull: null },
    ]);
  });
});

describe("% is never negative (numerical operators)", () => {
  it("gives 0 <= N % D < abs(D)", async () => {
    // https://learn.microsoft.com/zh-cn/azure/data-explorer/kusto/query/numerical-operators (also docs.azure.cn
    // .../kusto/query/numoperators), "Comment about the modulo operator": the modulo of two numbers always returns
    // a "small non-negative number", 0 <= (N % D) < abs(D); its example
    // `print plusPlus = 14 % 12, minusPlus = -14 % 12, plusMinus = 14 % -12, minusMinus = -14 % -12`
    // outputs 2, 10, 2, 10.
    const q = "print plusPlus = 14 % 12, minusPlus = -14 % 12, plusMinus = 14 % -12, minusMinus = -14 % -12";
    expect(await rows(q)).toEqual([{ plusPlus: 2, minusPlus: 10, plusMinus: 2, minusMinus: 10 }]);
  });
});

describe("parse_json of an empty string (isnull, isempty)", () => {
  it("is null, not an empty dynamic string", async () => {
    // https://learn.microsoft.com/en-us/kusto/query/isnull-function, Returns, the table of x and isnull(x):
    // `parse_json("")` → true, `parse_json("[]")` → false, `parse_json("{}")` → false, `""` → false
    expect(await scalar('isnull(parse_json(""))')).toBe(true);
    expect(await scalar('isnull(parse_json("[]"))')).toBe(false);
    expect(await scalar('isnull(parse_json("{}"))')).toBe(false);
    expect(await scalar('isnull("")')).toBe(false);
    // https://learn.microsoft.com/en-us/kusto/query/isempty-function, Example: `parsejson("")` → true
    expect(await scalar('isempty(parse_json(""))')).toBe(true);
  });
});

describe("datetimes without a zone are UTC, whatever the machine's zone (datetime data type)", () => {
  it("reads an RFC 822 date with no zone as UTC", async () => {
    // https://learn.microsoft.com/en-us/kusto/query/scalar-data-types/datetime: "A datetime value in Kusto is always
    // in the UTC time zone."; "Supported formats" lists for todatetime(), under RFC 822, `%w, %e %b %r %H:%M:%s`
    // ("Sat, 8 Nov 14 15:05:02"), `%w, %e %b %r %H:%M` ("Sat, 8 Nov 14 15:05"), `%e %b %r %H:%M:%s`
    // ("8 Nov 14 15:05:02") and `%w, %e %b %r %H:%M:%s %Z` ("Sat, 8 Nov 14 15:05:02 GMT").
    const zone = process.env.TZ;
    process.env.TZ = "America/New_York";
    try {
      expect(await scalar('todatetime("Sat, 8 Nov 14 15:05:02")')).toBe("2014-11-08T15:05:02.000Z");
      expect(await scalar('todatetime("Sat, 8 Nov 14 15:05")')).toBe("2014-11-08T15:05:00.000Z");
      expect(await scalar('todatetime("8 Nov 14 15:05:02")')).toBe("2014-11-08T15:05:02.000Z");
      expect(await scalar('todatetime("Sat, 8 Nov 14 15:05:02 GMT")')).toBe("2014-11-08T15:05:02.000Z");
      // A zone given as an offset is applied, not replaced by UTC: RFC 822 §5.1, zone = ... / ( ("+" / "-") 4DIGIT )
      // ("Local differential hours+min. (HHMM)"); the same with no space before it, and GMT with a signed hour.
      expect(await scalar('todatetime("Sat, 8 Nov 14 15:05:02 +0100")')).toBe("2014-11-08T14:05:02.000Z");
      expect(await scalar('todatetime("Sat, 8 Nov 14 15:05:02+0100")')).toBe("2014-11-08T14:05:02.000Z");
      expect(await scalar('todatetime("Sat, 8 Nov 14 15:05:02 GMT-5")')).toBe("2014-11-08T20:05:02.000Z");
      // the parse operator converts a datetime column the same way
      const q = 'print s = "at Sat, 8 Nov 14 15:05:02." | parse s with "at " d:datetime "."';
      expect((await rows(q))[0]?.d).toBe("2014-11-08T15:05:02.000Z");
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });
});

describe("summarize never makes a null string", () => {
  it("gives arg_max's string columns a string when no row has a value to maximize", async () => {
    // https://learn.microsoft.com/en-us/kusto/query/scalar-data-types/null-values: "The string data type doesn't
    // support null values."; https://learn.microsoft.com/en-us/kusto/query/isnull-function: "String values can't be
    // null", isnull() of a string is false. Which string arg_max gives here, the docs do not say.
    const q = `datatable(k:string, r:long, v:string)["a", long(null), "z", "b", 1, "y"]
      | summarize arg_max(r, v) by k
      | extend vIsNull = isnull(v)
      | project k, vIsNull`;
    expect(await rows(q)).toEqual([
      { k: "a", vIsNull: false },
      { k: "b", vIsNull: false },
    ]);
  });
});

describe("timespan(n) is n days (timespan data type)", () => {
  it("reads a bare number in a timespan literal as days", async () => {
    // https://learn.microsoft.com/azure/kusto/query/scalar-data-types/timespan, timespan literals: "timespan(n) | A
    // time interval in days. | timespan(2) | 2 days"; `timespan` and `time` are equivalent
    expect(await scalar("timespan(2) == 2d")).toBe(true);
    expect(await scalar("time(2) / 1h")).toBe(48);
    expect(await scalar("time(0.5) == 12h")).toBe(true);
    // and the page's other forms, which the engine already read
    expect(await scalar("timespan(15 seconds) == 15s")).toBe(true);
    expect(await scalar("timespan(0.12:34:56.7) == 12h + 34m + 56.7s")).toBe(true);
  });
});
