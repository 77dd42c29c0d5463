/**
 * Semantics of the local KQL engine, from the Kusto docs' examples (../shared/reference/kusto-docs) and the
 * documented rules (case, nulls, terms), over inline `datatable` / `print` / `range` data.
 */
import { describe, expect, it } from "vitest";
import { inlineKql } from "../support/inline-kql.js";

const NOW = Date.UTC(2024, 4, 28, 12, 0, 0);

const { rows, column, scalar, failure } = inlineKql(NOW);

describe("string operators and their case rules", () => {
  const cases: [string, boolean][] = [
    ['"North America" has "america"', true],
    ['"North America" has "amer"', false],
    ['"North America" !has "amer"', true],
    ['"North America" has_cs "America"', true],
    ['"North America" has_cs "america"', false],
    ['"North America" !has_cs "amer"', true],
    ['"KustoExplorerQueryRun" has "Explorer"', false],
    ['"KustoExplorerQueryRun" contains "Explorer"', true],
    ['"/dev/shm/x" has "/dev/shm"', true],
    ['"/dev/shmx/y" has "/dev/shm"', false],
    ['"a.b-c_d" has "c_d"', true],
    ['"North America" contains "amer"', true],
    ['"North America" contains_cs "amer"', false],
    ['"North America" !contains "xyz"', true],
    ['"North America" !contains_cs "amer"', true],
    ['"North America" startswith "nor"', true],
    ['"North America" startswith_cs "nor"', false],
    ['"North America" !startswith "ame"', true],
    ['"North America" !startswith_cs "nor"', true],
    ['"North America" endswith "ica"', true],
    ['"North America" endswith_cs "IcA"', false],
    ['"North America" !endswith "ame"', true],
    ['"North America" !endswith_cs "ica"', false],
    ['"abc" == "abc"', true],
    ['"abc" == "ABC"', false],
    ['"abc" =~ "ABC"', true],
    ['"abc" != "ABC"', true],
    ['"abc" !~ "ABC"', false],
    ['"abc" in ("x", "abc")', true],
    ['"abc" in ("ABC")', false],
    ['"abc" in~ ("ABC")', true],
    ['"abc" !in ("ABC")', true],
    ['"abc" !in~ ("ABC")', false],
    ['"abc" in (dynamic(["x", "abc"]))', true],
    ['"North America" has_any ("south", "north")', true],
    ['"North America" has_any ("south", "nor")', false],
    ['"North America" has_all ("north", "america")', true],
    ['"North America" has_all ("north", "europe")', false],
    ['"North America" hasprefix "ame"', true],
    ['"North America" hassuffix "ica"', true],
    ["5 between (1 .. 5)", true],
    ["6 between (1 .. 5)", false],
    ["6 !between (1 .. 5)", true],
    ["datetime(2024-01-01T10:30:00Z) between (datetime(2024-01-01T10:00:00Z) .. 1h)", true],
    ['"" == ""', true],
    ['"" has ""', true],
    ['"aaa" matches regex "a+"', true],
    ['"xaaay" matches regex "^a+$"', false],
    ['"ABC" matches regex "abc"', false],
    ['"ABC" matches regex "(?i)abc"', true],
  ];
  it.each(cases)("%s → %s", async (expr, expected) => {
    expect(await scalar(expr)).toBe(expected);
  });

  it("has on a column filters whole terms", async () => {
    const q = `datatable(s:string)["North America", "Northern", "", "america!"] | where s has "america"`;
    expect(await column(q, "s")).toEqual(["North America", "america!"]);
  });

  it("matches regex uses RE2 (no backreferences, no lookaround)", async () => {
    const e = await failure('datatable(s:string)["aa"] | where s matches regex "(a)\\\\1"');
    expect(e.message).toMatch(/regular expression|backreference|invalid/i);
  });
});

describe("nulls and empty strings", () => {
  it("a null long orders as null (false in where), isnull/isempty tell them apart", async () => {
    const q = `datatable(n:long, s:string)[1, "a", long(null), "", 3, "c"]
      | extend isn = isnull(n), ise = isempty(s), isne = isnotempty(s), gt = n > 1`;
    expect(await rows(q)).toEqual([
      { n: 1, s: "a", isn: false, ise: false, isne: true, gt: false },
      { n: null, s: "", isn: true, ise: true, isne: false, gt: null },
      { n: 3, s: "c", isn: false, ise: false, isne: true, gt: true },
    ]);
    // null-values: "Applying the inequality operator to a null value and a non-null value yields bool(true)", so the
    // null row passes `n != 1` (docs-rules.test.ts holds the page's own example)
    expect(await column(`datatable(n:long)[1, long(null), 3] | where n != 1`, "n")).toEqual([null, 3]);
  });

  it("strings are never null: isnull('') is false, a string column null reads as ''", async () => {
    expect(await scalar('isnull("")')).toBe(false);
    expect(await scalar('isempty("")')).toBe(true);
    expect(await scalar("isempty(long(null))")).toBe(true);
  });

  it("coalesce skips nulls and empty strings", async () => {
    expect(await scalar("coalesce(long(null), 2, 3)")).toBe(2);
    expect(await scalar('coalesce("", "b")')).toBe("b");
  });

  it("and/or use three-valued logic", async () => {
    expect(await scalar("false and bool(null)")).toBe(false);
    expect(await scalar("true and bool(null)")).toBe(null);
    expect(await scalar("true or bool(null)")).toBe(true);
  });
});

describe("scalar functions", () => {
  it("extract (docs example)", async () => {
    const q = `let _data = datatable(Text: string)
[
"User: James, Email: James@example.com, Age: 29",
"User: David, Age: 35"
];
_data |
extend UserName = extract("User: ([^,]+)", 1, Text),
       EmailId = extract(@"Email: (\\S+),", 1, Text),
       Age = extract(@"\\d+", 0, Text)`;
    expect(await rows(q)).toEqual([
      {
        Text: "User: James, Email: James@example.com, Age: 29",
        UserName: "James",
        EmailId: "James@example.com",
        Age: "29",
      },
      { Text: "User: David, Age: 35", UserName: "David", EmailId: "", Age: "35" },
    ]);
    expect(await scalar('extract("x=(\\\\d+)", 1, "x=12", typeof(long))')).toBe(12);
  });

  it("strcmp compares ordinally: -1, 0, 1 (docs example), upper case before lower case", async () => {
    expect(await scalar('strcmp("ABC", "ABC")')).toBe(0);
    expect(await scalar('strcmp("abc", "ABC")')).toBe(1);
    expect(await scalar('strcmp("ABC", "abc")')).toBe(-1);
    expect(await scalar('strcmp("abcde", "abc")')).toBe(1);
    expect(await scalar('strcmp("", "a")')).toBe(-1);
  });

  it("strlen counts code points (docs examples)", async () => {
    expect(await scalar('strlen("hello")')).toBe(5);
    expect(await scalar('strlen("⒦⒰⒮⒯⒪")')).toBe(5);
  });

  it("substring (docs examples)", async () => {
    expect(await scalar('substring("123456", 1)')).toBe("23456");
    expect(await scalar('substring("123456", 2, 2)')).toBe("34");
    expect(await scalar('substring("ABCD", 0, 2)')).toBe("AB");
    expect(await scalar('substring("123456", -2, 2)')).toBe("56");
  });

  it("split, tolower, toupper, strcat, iff, case", async () => {
    expect(await scalar('split("aa_bb", "_")')).toEqual(["aa", "bb"]);
    expect(await scalar('split("aaa_bbb_ccc", "_", 1)')).toEqual(["bbb"]);
    expect(await scalar('tolower("AbC")')).toBe("abc");
    expect(await scalar('toupper("AbC")')).toBe("ABC");
    expect(await scalar('strcat("a", 1, "b")')).toBe("a1b");
    expect(await scalar('iff(1 > 2, "y", "n")')).toBe("n");
    expect(await scalar('case(1 > 2, "a", 2 > 1, "b", "c")')).toBe("b");
  });

  it("conversions", async () => {
    expect(await scalar('toint("42")')).toBe(42);
    expect(await scalar('tolong("x")')).toBe(null);
    expect(await scalar('todouble("1.5")')).toBe(1.5);
    expect(await scalar("tostring(12)")).toBe("12");
    expect(await scalar("tostring(datetime(2024-01-01))")).toBe("2024-01-01T00:00:00Z");
    expect(await scalar("tostring(1h)")).toBe("01:00:00");
  });

  it("parse_json and dynamic access", async () => {
    const q = `print d = parse_json('{"a":{"b":[10,20]},"s":"x"}')
      | extend b1 = d.a.b[1], s = tostring(d.s), absent = d.nope, br = d["a"]["b"][0]`;
    expect(await rows(q)).toEqual([{ d: { a: { b: [10, 20] }, s: "x" }, b1: 20, s: "x", absent: null, br: 10 }]);
  });

  it("datetime and timespan arithmetic, ago, now, bin", async () => {
    expect(await scalar("now()")).toBe("2024-05-28T12:00:00.000Z");
    expect(await scalar("ago(1h)")).toBe("2024-05-28T11:00:00.000Z");
    expect(await scalar("datetime(2024-01-02) - datetime(2024-01-01)")).toBe("1.00:00:00");
    expect(await scalar("datetime(2024-01-01) + 90m")).toBe("2024-01-01T01:30:00.000Z");
    expect(await scalar("2h / 2")).toBe("01:00:00");
    expect(await scalar("bin(datetime(1970-05-11 13:45:07), 1d)")).toBe("1970-05-11T00:00:00.000Z");
    expect(await scalar("bin(4.5, 1)")).toBe(4);
    expect(await scalar("bin(time(16d), 7d)")).toBe("14.00:00:00");
    expect(await scalar("5 / 2")).toBe(2);
    expect(await scalar("5.0 / 2")).toBe(2.5);
  });

  it("ipv4_is_in_range (docs example)", async () => {
    const q = `datatable(ip_address:string, ip_range:string)
[
 '192.168.1.1',    '192.168.1.1',       // Equal IPs
 '192.168.1.1',    '192.168.1.255/24',  // 24 bit IP-prefix is used for comparison
]
| extend result = ipv4_is_in_range(ip_address, ip_range)`;
    expect(await column(q, "result")).toEqual([true, true]);
    expect(await scalar('ipv4_is_in_range("10.0.0.1", "192.168.0.0/16")')).toBe(false);
  });

  it("ipv4_is_in_any_range (docs examples)", async () => {
    expect(await scalar("ipv4_is_in_any_range('192.168.1.6', '192.168.1.1/24', '10.0.0.1/8', '127.1.0.1/16')")).toBe(
      true,
    );
    expect(await scalar('ipv4_is_in_any_range("127.0.0.1", dynamic(["127.0.0.1", "192.168.1.1"]))')).toBe(true);
    const q = `let LocalNetworks=dynamic([
    "192.168.1.1/16",
    "127.0.0.1/8",
    "10.0.0.1/8"
]);
let IPs=datatable(IP:string) [
    "10.1.2.3",
    "192.168.1.5",
    "123.1.11.21",
    "1.1.1.1"
];
IPs
| extend IsLocal=ipv4_is_in_any_range(IP, LocalNetworks)`;
    expect(await column(q, "IsLocal")).toEqual([true, true, false, false]);
  });

  it("ipv6_is_in_range and ipv6_is_in_any_range (docs examples)", async () => {
    const q = `datatable(ip_address:string, ip_range:string)
[
 'a5e:f127:8a9d:146d:e102:b5d3:c755:abcd',    'a5e:f127:8a9d:146d:e102:b5d3:c755:0000/112',
 'a5e:f127:8a9d:146d:e102:b5d3:c755:abcd',    'a5e:f127:8a9d:146d:e102:b5d3:c755:abcd',
 'a5e:f127:8a9d:146d:e102:b5d3:c755:abcd',    '0:0:0:0:0:ffff:c0a8:ac/60',
]
| extend result = ipv6_is_in_range(ip_address, ip_range)`;
    expect(await column(q, "result")).toEqual([true, true, false]);
    expect(
      await scalar(
        "ipv6_is_in_any_range('a5e:f127:8a9d:146d:e102:b5d3:c755:abcd', 'a5e:f127:8a9d:146d:e102:b5d3:c755:0000/112', 'fe80::/10')",
      ),
    ).toBe(true);
    expect(await scalar("ipv6_is_in_any_range('::1', dynamic(['fe80::/10', '2001:db8::/32']))")).toBe(false);
  });
});

describe("tabular operators", () => {
  const T = `datatable(Name:string, Dept:string, Salary:long, Ts:datetime)[
    "ann", "eng", 100, datetime(2024-01-01T10:00:00Z),
    "bob", "eng", 80, datetime(2024-01-01T10:20:00Z),
    "cid", "ops", 70, datetime(2024-01-01T11:05:00Z),
    "dan", "ops", 90, datetime(2024-01-01T11:59:00Z),
    "eve", "sales", 60, datetime(2024-01-01T12:30:00Z)]`;

  it("let, where, extend, project, project-away, project-rename", async () => {
    const q = `let minimum = 75; let t = ${T}; t | where Salary >= minimum
      | extend Double = Salary * 2 | project-away Ts | project-rename Who = Name | project Who, Double`;
    expect(await rows(q)).toEqual([
      { Who: "ann", Double: 200 },
      { Who: "bob", Double: 160 },
      { Who: "dan", Double: 180 },
    ]);
  });

  it("extend replaces an existing column in place", async () => {
    expect(await rows(`datatable(a:long, b:long)[1, 2] | extend a = a + 10, c = b`)).toEqual([{ a: 11, b: 2, c: 2 }]);
  });

  it("summarize: count, countif, dcount, min, max, sum, make_set, make_list by a key", async () => {
    const q = `${T} | summarize n = count(), hi = countif(Salary > 75), d = dcount(Name), lo = min(Salary),
        top = max(Salary), total = sum(Salary), names = make_list(Name), set = make_set(Dept) by Dept | sort by Dept asc`;
    expect(await rows(q)).toEqual([
      { Dept: "eng", n: 2, hi: 2, d: 2, lo: 80, top: 100, total: 180, names: ["ann", "bob"], set: ["eng"] },
      { Dept: "ops", n: 2, hi: 1, d: 2, lo: 70, top: 90, total: 160, names: ["cid", "dan"], set: ["ops"] },
      { Dept: "sales", n: 1, hi: 0, d: 1, lo: 60, top: 60, total: 60, names: ["eve"], set: ["sales"] },
    ]);
  });

  it("summarize by bin() and with no rows", async () => {
    const q = `${T} | summarize count() by bin(Ts, 1h) | sort by Ts asc`;
    expect(await rows(q)).toEqual([
      { Ts: "2024-01-01T10:00:00.000Z", count_: 2 },
      { Ts: "2024-01-01T11:00:00.000Z", count_: 2 },
      { Ts: "2024-01-01T12:00:00.000Z", count_: 1 },
    ]);
    expect(await rows(`${T} | where Salary > 1000 | summarize count()`)).toEqual([{ count_: 0 }]);
    expect(await rows(`${T} | where Salary > 1000 | summarize count() by Dept`)).toEqual([]);
  });

  it("arg_max / arg_min", async () => {
    expect(await rows(`${T} | summarize arg_max(Salary, Name) by Dept | sort by Dept asc`)).toEqual([
      { Dept: "eng", Salary: 100, Name: "ann" },
      { Dept: "ops", Salary: 90, Name: "dan" },
      { Dept: "sales", Salary: 60, Name: "eve" },
    ]);
    expect(await rows(`${T} | summarize arg_min(Salary, *) by Dept | where Dept == "ops"`)).toEqual([
      { Dept: "ops", Salary: 70, Name: "cid", Ts: "2024-01-01T11:05:00.000Z" },
    ]);
  });

  it("take/limit, top, sort/order with nulls", async () => {
    expect((await rows(`${T} | take 2`)).length).toBe(2);
    expect((await rows(`${T} | limit 3`)).length).toBe(3);
    expect(await column(`${T} | top 2 by Salary`, "Name")).toEqual(["ann", "dan"]);
    expect(await column(`${T} | top 2 by Salary asc`, "Name")).toEqual(["eve", "cid"]);
    expect(await column(`${T} | order by Name desc`, "Name")).toEqual(["eve", "dan", "cid", "bob", "ann"]);
    const n = `datatable(x:long)[2, long(null), 1]`;
    expect(await column(`${n} | sort by x asc`, "x")).toEqual([null, 1, 2]);
    expect(await column(`${n} | sort by x desc`, "x")).toEqual([2, 1, null]);
    expect(await column(`${n} | sort by x asc nulls last`, "x")).toEqual([1, 2, null]);
  });

  it("distinct", async () => {
    expect(await column(`${T} | distinct Dept | sort by Dept asc`, "Dept")).toEqual(["eng", "ops", "sales"]);
    expect((await rows(`datatable(a:long, b:string)[1,"x",1,"x",1,"y"] | distinct *`)).length).toBe(2);
  });

  it("union (outer, by column name)", async () => {
    const q = `union (datatable(a:long)[1]), (datatable(a:long, b:string)[2, "x"]) | sort by a asc`;
    expect(await rows(q)).toEqual([
      { a: 1, b: "" },
      { a: 2, b: "x" },
    ]);
    expect(await column(`datatable(a:long)[1] | union (datatable(a:long)[2])`, "a")).toEqual([1, 2]);
  });

  const L = `datatable(k:string, l:long)["a", 1, "a", 2, "b", 3, "c", 4]`;
  const R = `datatable(k:string, r:long)["a", 10, "a", 20, "b", 30, "d", 40]`;

  it("join kinds (innerunique is the default)", async () => {
    const pairs = async (kind: string) =>
      (await rows(`${L} | join ${kind} (${R}) on k | sort by l asc, r asc`)).map((x) => `${x.l}/${x.r ?? "-"}`);
    expect(await pairs("")).toEqual(["1/10", "1/20", "3/30"]);
    expect(await pairs("kind=innerunique")).toEqual(["1/10", "1/20", "3/30"]);
    expect(await pairs("kind=inner")).toEqual(["1/10", "1/20", "2/10", "2/20", "3/30"]);
    expect(await pairs("kind=leftouter")).toEqual(["1/10", "1/20", "2/10", "2/20", "3/30", "4/-"]);
    expect(await column(`${L} | join kind=leftanti (${R}) on k`, "l")).toEqual([4]);
    expect(await column(`${L} | join kind=leftsemi (${R}) on k`, "l")).toEqual([1, 2, 3]);
  });

  it("join schema keeps both key columns ($left/$right syntax)", async () => {
    const q = `${L} | join kind=inner (${R} | project-rename k2 = k) on $left.k == $right.k2 | where l == 3`;
    expect(await rows(q)).toEqual([{ k: "b", l: 3, k2: "b", r: 30 }]);
    const same = await rows(`${L} | join kind=inner (${R}) on k | where l == 3`);
    expect(same).toEqual([{ k: "b", l: 3, k1: "b", r: 30 }]);
  });

  it("time-windowed join (sequence of events within 1h)", async () => {
    const q = `let e = datatable(Host:string, Ts:datetime, Act:string)[
        "h1", datetime(2024-01-01T10:00:00Z), "create",
        "h1", datetime(2024-01-01T10:30:00Z), "exec",
        "h2", datetime(2024-01-01T10:00:00Z), "create",
        "h2", datetime(2024-01-01T12:00:00Z), "exec"];
      e | where Act == "create" | join kind=inner (e | where Act == "exec") on Host
        | where Ts1 between (Ts .. 1h) | project Host`;
    expect(await column(q, "Host")).toEqual(["h1"]);
  });

  it("count, print, range", async () => {
    expect(await rows(`${T} | count`)).toEqual([{ Count: 5 }]);
    expect(await rows(`print x = 1, y = "a"`)).toEqual([{ x: 1, y: "a" }]);
    expect(await column(`range x from 1 to 5 step 2`, "x")).toEqual([1, 3, 5]);
  });

  it("user-defined functions and invoke", async () => {
    const q = `let f = (n:long) { ${T} | where Salary > n };
      let addBonus = (t:(Salary:long), pct:long) { t | extend Bonus = Salary * pct / 100 };
      f(85) | invoke addBonus(10) | project Name, Bonus`;
    expect(await rows(q)).toEqual([
      { Name: "ann", Bonus: 10 },
      { Name: "dan", Bonus: 9 },
    ]);
  });

  it("toscalar and in (subquery)", async () => {
    expect(
      await column(`let top1 = toscalar(${T} | summarize max(Salary)); ${T} | where Salary == top1`, "Name"),
    ).toEqual(["ann"]);
    expect(await column(`${T} | where Dept in ((${T} | where Salary < 65 | project Dept))`, "Name")).toEqual(["eve"]);
  });
});

describe("scan (docs examples)", () => {
  it("cumulative sum", async () => {
    const q = `range x from 1 to 5 step 1
| scan declare (cumulative_x:long=0) with 
(
    step s1: true => cumulative_x = x + s1.cumulative_x;
)`;
    expect(await column(q, "cumulative_x")).toEqual([1, 3, 6, 10, 15]);
  });

  it("cumulative sum on multiple columns with a reset condition", async () => {
    const q = `range x from 1 to 5 step 1
| extend y = 2 * x
| scan declare (cumulative_x:long=0, cumulative_y:long=0) with 
(
    step s1: true => cumulative_x = iff(s1.cumulative_x >= 10, x, x + s1.cumulative_x), 
                     cumulative_y = iff(s1.cumulative_y >= 10, y, y + s1.cumulative_y);
)`;
    const r = await rows(q);
    expect(r.map((x) => [x.cumulative_x, x.cumulative_y])).toEqual([
      [1, 2],
      [3, 6],
      [6, 12],
      [10, 8],
      [5, 18],
    ]);
  });

  it("fill forward", async () => {
    const q = `let Events = datatable (Ts: timespan, Event: string) [
    0m, "A", 1m, "", 2m, "B", 3m, "", 4m, "", 6m, "C", 8m, "", 11m, "D", 12m, ""
];
Events
| sort by Ts asc
| scan declare (Event_filled: string="") with 
(
    step s1: true => Event_filled = iff(isempty(Event), s1.Event_filled, Event);
)`;
    expect(await column(q, "Event_filled")).toEqual(["A", "A", "B", "B", "B", "C", "C", "D", "D"]);
  });

  it("sessions (with_match_id, output=none)", async () => {
    const q = `let Events = datatable (Ts: timespan, Event: string) [
    0m, "A", 1m, "A", 2m, "B", 3m, "D", 32m, "B", 36m, "C", 38m, "D", 41m, "E", 75m, "A"
];
Events
| sort by Ts asc
| scan with_match_id=session_id declare (sessionStart: timespan) with 
(
    step inSession: true => sessionStart = iff(isnull(inSession.sessionStart), Ts, inSession.sessionStart);
    step endSession output=none: Ts - inSession.sessionStart > 30m;
)`;
    const r = await rows(q);
    expect(r.map((x) => [x.Ts, x.sessionStart, x.session_id])).toEqual([
      ["00:00:00", "00:00:00", 0],
      ["00:01:00", "00:00:00", 0],
      ["00:02:00", "00:00:00", 0],
      ["00:03:00", "00:00:00", 0],
      ["00:32:00", "00:32:00", 1],
      ["00:36:00", "00:32:00", 1],
      ["00:38:00", "00:32:00", 1],
      ["00:41:00", "00:32:00", 1],
      ["01:15:00", "01:15:00", 2],
    ]);
  });

  it("events between Start and Stop within 5 minutes", async () => {
    const q = `let Events = datatable (Ts: timespan, Event: string) [
    0m, "A", 1m, "Start", 2m, "B", 3m, "D", 4m, "Stop", 6m, "C", 8m, "Start", 11m, "E", 12m, "Stop"
];
Events
| sort by Ts asc
| scan with_match_id=m_id with 
(
    step s1: Event == "Start";
    step s2: Event != "Start" and Event != "Stop" and Ts - s1.Ts <= 5m;
    step s3: Event == "Stop" and Ts - s1.Ts <= 5m;
)`;
    const r = await rows(q);
    expect(r.map((x) => [x.Ts, x.Event, x.m_id])).toEqual([
      ["00:01:00", "Start", 0],
      ["00:02:00", "B", 0],
      ["00:03:00", "D", 0],
      ["00:04:00", "Stop", 0],
      ["00:08:00", "Start", 1],
      ["00:11:00", "E", 1],
      ["00:12:00", "Stop", 1],
    ]);
  });
});

describe("errors", () => {
  it("a query Kusto.Language rejects is KQL310 with a position", async () => {
    const e = await failure("datatable(a:long)[1] | where nope == 1");
    expect(e.diagnostics[0]?.code).toBe("KQL310");
    expect(e.diagnostics[0]?.span?.start.column).toBe(30);
  });

  it("an unsupported operator is WS500 naming it, with its position", async () => {
    // (parse is supported since Microsoft's ASIM parsers need it; sample is not.)
    const e = await failure('datatable(a:string)["x1"]\n| sample 1');
    expect(e.diagnostics[0]?.code).toBe("WS500");
    expect(e.diagnostics[0]?.message).toContain("sample");
    expect(e.diagnostics[0]?.span?.start).toMatchObject({ line: 2, column: 3 });
  });

  it("an unsupported function is WS500 naming it", async () => {
    const e = await failure("print x = base64_encode_tostring('a')");
    expect(e.diagnostics[0]?.code).toBe("WS500");
    expect(e.diagnostics[0]?.message).toContain("base64_encode_tostring");
    expect(e.diagnostics[0]?.span?.start.column).toBe(11);
  });

  it("an unsupported aggregate is WS500", async () => {
    const e = await failure("datatable(a:long)[1] | summarize percentile(a, 50)");
    expect(e.diagnostics[0]?.message).toContain("percentile");
  });
});

describe("user-defined scalar functions", () => {
  it("binds parameters to row values", async () => {
    const q = `let norm = (p:string, suffix:string = "!") { strcat(tolower(p), suffix) };
      datatable(a:string)["X", "Y"] | extend n = norm(a), m = norm(a, "?")`;
    expect(await rows(q)).toEqual([
      { a: "X", n: "x!", m: "x?" },
      { a: "Y", n: "y!", m: "y?" },
    ]);
  });
});

describe("regex_quote, parse_command_line, parse_path (docs examples)", () => {
  it("regex_quote", async () => {
    expect(await scalar("regex_quote('(so$me.Te^xt)')")).toBe("\\(so\\$me\\.Te\\^xt\\)");
    expect(await scalar("'a.b(c)' matches regex strcat('^', regex_quote('a.b(c)'), '$')")).toBe(true);
  });

  it("parse_command_line", async () => {
    expect(await scalar('parse_command_line("echo \\"hello world!\\"", "windows")')).toEqual(["echo", "hello world!"]);
    expect(await scalar('parse_command_line("/dev/shm/x -a  \\"b c\\" d\\\\\\"e", "windows")')).toEqual([
      "/dev/shm/x",
      "-a",
      "b c",
      'd"e',
    ]);
  });

  it("parse_path", async () => {
    const q = `datatable(p:string) 
[
    @"C:\\temp\\file.txt",
    @"temp\\file.txt",
    "file://C:/temp/file.txt:some.exe",
    @"\\\\shared\\users\\temp\\file.txt.gz",
    "/usr/lib/temp/file.txt"
]
| extend path_parts = parse_path(p)`;
    expect(await column(q, "path_parts")).toEqual([
      {
        Scheme: "",
        RootPath: "C:",
        DirectoryPath: "C:\\temp",
        DirectoryName: "temp",
        Filename: "file.txt",
        Extension: "txt",
        AlternateDataStreamName: "",
      },
      {
        Scheme: "",
        RootPath: "",
        DirectoryPath: "temp",
        DirectoryName: "temp",
        Filename: "file.txt",
        Extension: "txt",
        AlternateDataStreamName: "",
      },
      {
        Scheme: "file",
        RootPath: "C:",
        DirectoryPath: "C:/temp",
        DirectoryName: "temp",
        Filename: "file.txt",
        Extension: "txt",
        AlternateDataStreamName: "some.exe",
      },
      {
        Scheme: "",
        RootPath: "",
        DirectoryPath: "\\\\shared\\users\\temp",
        DirectoryName: "temp",
        Filename: "file.txt.gz",
        Extension: "gz",
        AlternateDataStreamName: "",
      },
      {
        Scheme: "",
        RootPath: "",
        DirectoryPath: "/usr/lib/temp",
        DirectoryName: "temp",
        Filename: "file.txt",
        Extension: "txt",
        AlternateDataStreamName: "",
      },
    ]);
  });
});

describe("indexof (docs example)", () => {
  it("finds occurrences within the searched range", async () => {
    const q = `print
 idx1 = indexof("abcdefg","cde")    // lookup found in input string
 , idx2 = indexof("abcdefg","cde",1,4) // lookup found in researched range 
 , idx3 = indexof("abcdefg","cde",1,2) // search starts from index 1, but stops after 2 chars, so full lookup can't be found
 , idx4 = indexof("abcdefg","cde",3,4) // search starts after occurrence of lookup
 , idx5 = indexof("abcdefg","cde",-5)  // negative start index
 , idx6 = indexof(1234567,5,1,4)       // two first parameters were forcibly casted to strings "12345" and "5"
 , idx7 = indexof("abcdefg","cde",2,-1)  // lookup found in input string
 , idx8 = indexof("abcdefgabcdefg", "cde", 1, 10, 2)   // lookup found in input range
 , idx9 = indexof("abcdefgabcdefg", "cde", 1, -1, 3)   // the third occurrence of lookup is not in researched range`;
    expect(await rows(q)).toEqual([
      { idx1: 2, idx2: 2, idx3: -1, idx4: -1, idx5: 2, idx6: 4, idx7: 2, idx8: 9, idx9: -1 },
    ]);
  });
});

describe("time-window join with mv-expand and range() (join-time-window.md)", () => {
  const T = `let T = datatable(SessionId:string, EventType:string, Timestamp:datetime)
[
    '0', 'A', datetime(2017-10-01 00:00:00),
    '0', 'B', datetime(2017-10-01 00:01:00),
    '1', 'B', datetime(2017-10-01 00:02:00),
    '1', 'A', datetime(2017-10-01 00:03:00),
    '3', 'A', datetime(2017-10-01 00:04:00),
    '3', 'B', datetime(2017-10-01 00:10:00),
];`;
  const expected = [{ SessionId: "0", Start: "2017-10-01T00:00:00.000Z", End: "2017-10-01T00:01:00.000Z" }];

  it("plain join then a time filter", async () => {
    const q = `${T}
T
| where EventType == 'A'
| project SessionId, Start=Timestamp
| join kind=inner
    (
    T 
    | where EventType == 'B'
    | project SessionId, End=Timestamp
    ) on SessionId
| where (End - Start) between (0min .. 1min)
| project SessionId, Start, End `;
    expect(await rows(q)).toEqual(expected);
  });

  it("binned time keys", async () => {
    const q = `${T}
let lookupWindow = 1min;
let lookupBin = lookupWindow / 2.0;
T 
| where EventType == 'A'
| project SessionId, Start=Timestamp, TimeKey = bin(Timestamp, lookupBin)
| join kind=inner
    (
    T 
    | where EventType == 'B'
    | project SessionId, End=Timestamp,
              TimeKey = range(bin(Timestamp-lookupWindow, lookupBin),
                              bin(Timestamp, lookupBin),
                              lookupBin)
    | mv-expand TimeKey to typeof(datetime)
    ) on SessionId, TimeKey 
| where (End - Start) between (0min .. lookupWindow)
| project SessionId, Start, End `;
    expect(await rows(q)).toEqual(expected);
  });

  it("mv-expand: arrays in step, bags, scalars, empty and null, with_itemindex, limit", async () => {
    const q = `datatable(a:long, b:dynamic, c:dynamic)[
      1, dynamic([10, 20]), dynamic(["x"]),
      2, dynamic({"k":"v"}), dynamic(null),
      3, dynamic([]), dynamic([]),
      4, dynamic(7), dynamic(null)]
      | mv-expand with_itemindex=i b, c`;
    expect(await rows(q)).toEqual([
      { a: 1, b: 10, c: "x", i: 0 },
      { a: 1, b: 20, c: null, i: 1 },
      { a: 2, b: { k: "v" }, c: null, i: 0 },
      { a: 4, b: 7, c: null, i: 0 },
    ]);
    expect(await rows("print b = dynamic([1, 2, 3]) | mv-expand b to typeof(string) limit 2")).toEqual([
      { b: "1" },
      { b: "2" },
    ]);
  });
});

describe("replace_regex, extract_all, strcat_array, url_decode, mv-apply", () => {
  it("rewrites with capture groups and decodes", async () => {
    expect(await scalar('replace_regex("a1b22", @"(\\d)", @"<\\1>")')).toBe("a<1>b<2><2>");
    expect(await scalar('url_decode(replace_regex("2f6465762f73686d", @"([0-9A-Fa-f]{2})", @"%\\1"))')).toBe(
      "/dev/shm",
    );
  });

  it("extract_all: one group → strings, several → arrays, no match → null", async () => {
    expect(await scalar('extract_all(@"x=(\\d)", "x=1 x=2")')).toEqual(["1", "2"]);
    expect(await scalar('extract_all(@"(\\w)=(\\d)", "x=1 y=2")')).toEqual([
      ["x", "1"],
      ["y", "2"],
    ]);
    expect(await scalar('extract_all(@"q", "x")')).toBe(null);
    expect(await scalar('strcat_array(dynamic(["a", 1, "b"]), "-")')).toBe("a-1-b");
  });

  it("mv-apply runs the subquery per row", async () => {
    const q = `datatable(a:long, s:string)[1, "x=1 x=2 x=3", 2, "none"]
      | mv-apply Arg = extract_all(@"x=(\\d)", s) to typeof(long) on (where Arg != 2 | summarize Args = make_list(Arg), n = count())`;
    expect(await rows(q)).toEqual([
      { a: 1, s: "x=1 x=2 x=3", Args: [1, 3], n: 2 },
      { a: 2, s: "none", Args: [], n: 0 },
    ]);
  });
});

describe("pack_all", () => {
  it("packs the row, datetimes as ISO text; ignore_null_empty drops nulls and empty strings", async () => {
    const q = `datatable(a:long, s:string, t:datetime)[1, "", datetime(2024-01-01), long(null), "x", datetime(null)]
      | project b = pack_all(), c = pack_all(true)`;
    expect(await rows(q)).toEqual([
      { b: { a: 1, s: "", t: "2024-01-01T00:00:00.000Z" }, c: { a: 1, t: "2024-01-01T00:00:00.000Z" } },
      { b: { a: null, s: "x", t: null }, c: { s: "x" } },
    ]);
  });
});

describe("union of columns whose types differ", () => {
  it("splits them as Name_type, as Kusto does", async () => {
    const q = `union (datatable(a:long, k:string)[1, "x"]), (datatable(a:string, k:string)["s", "y"]) | sort by k asc`;
    expect(await rows(q)).toEqual([
      { a_long: 1, k: "x", a_string: "" },
      { a_long: null, k: "y", a_string: "s" },
    ]);
  });
});

describe("materialize", () => {
  it("evaluates its argument once and replays it", async () => {
    const q = `let m = materialize(datatable(a:long)[1, 2, 3] | where a > 1); m | join kind=inner (m | project a, b = a * 10) on a | project a, b`;
    expect(await rows(q)).toEqual([
      { a: 2, b: 20 },
      { a: 3, b: 30 },
    ]);
  });
});

describe("docs query shapes over a small StormEvents", () => {
  const data = `let StormEvents = datatable(State:string, EventType:string, EpisodeNarrative:string)[
    "NORTH CAROLINA", "Hail", "cold strong afternoon hail storm",
    "SOUTH DAKOTA", "Lightning", "warm",
    "NEW YORK", "Lightning", "Cold, strong AFTERNOON; hail!",
    "FLORIDA", "Hail", "hot",
    "GEORGIA", "Lightning", "cold",
    "KANSAS", "Flood", "x",
    "TEXAS", "Lightning", "y"];
let PopulationData = datatable(State:string, Population:long)["NEW YORK", 19000000, "FLORIDA", 21000000, "KANSAS", 2900000];
`;
  const states = async (q: string) => (await column(`${data}${q}`, "State")).sort();

  it("has_any with a list, a dynamic array, a let array, a subquery and a let table (has-any-operator.md)", async () => {
    const carolina = ["NEW YORK", "NORTH CAROLINA", "SOUTH DAKOTA"];
    expect(
      await states(`StormEvents | where State has_any ("CAROLINA", "DAKOTA", "NEW") | summarize count() by State`),
    ).toEqual(carolina);
    expect(
      await states(`StormEvents | where State has_any (dynamic(['south', 'north'])) | summarize count() by State`),
    ).toEqual(["NORTH CAROLINA", "SOUTH DAKOTA"]);
    expect(
      await states(`let areas = dynamic(['south', 'north']);
StormEvents | where State has_any (areas) | summarize count() by State`),
    ).toEqual(["NORTH CAROLINA", "SOUTH DAKOTA"]);
    expect(
      await states(
        `StormEvents | where State has_any ((PopulationData | where Population > 5000000 | project State)) | summarize count() by State`,
      ),
    ).toEqual(["FLORIDA", "NEW YORK"]);
    expect(
      await states(`let large_states = PopulationData | where Population > 5000000 | project State;
StormEvents | where State has_any (large_states) | summarize count() by State`),
    ).toEqual(["FLORIDA", "NEW YORK"]);
  });

  it("has_all (has-all-operator.md)", async () => {
    const q = `${data}let criteria = dynamic(["cold", "strong", "afternoon", "hail"]);
StormEvents | where EpisodeNarrative has_all (criteria) | summarize Count=count() by EventType | top 3 by Count`;
    expect((await rows(q)).sort((a, b) => String(a.EventType).localeCompare(String(b.EventType)))).toEqual([
      { EventType: "Hail", Count: 1 },
      { EventType: "Lightning", Count: 1 },
    ]);
  });

  it("in~, !in~, in with a let array (in-operator.md, not-in-operator.md, in-cs-operator.md)", async () => {
    const count = async (q: string) => (await rows(`${data}${q}`))[0]?.Count;
    expect(await count(`StormEvents | where State in~ ("FLORIDA", "georgia", "NEW YORK") | count`)).toBe(3);
    expect(await count(`StormEvents | where State in~ (dynamic(["FLORIDA", "georgia", "NEW YORK"])) | count`)).toBe(3);
    expect(await count(`StormEvents | where State !in~ ("Florida", "Georgia", "New York") | count`)).toBe(4);
    expect(await count(`StormEvents | where State in ("FLORIDA", "georgia", "NEW YORK") | count`)).toBe(2);
    expect(
      await count(`let states = dynamic(['FLORIDA', 'ATLANTIC SOUTH', 'GEORGIA']);
StormEvents | where State in (states) | count`),
    ).toBe(2);
    expect(
      await count(
        `StormEvents | where State !in~ (PopulationData | where Population > 5000000 | project State) | count`,
      ),
    ).toBe(5);
  });

  it("matches regex, =~, has, contains, startswith after summarize", async () => {
    const by = (filter: string) =>
      states(`StormEvents | summarize event_count=count() by State | where ${filter} | project State, event_count`);
    expect(await by(`State matches regex "K.*S"`)).toEqual(["KANSAS"]);
    expect(await by(`State =~ "kansas"`)).toEqual(["KANSAS"]);
    expect(await by(`State has "New"`)).toEqual(["NEW YORK"]);
    expect(await by(`State contains "ans"`)).toEqual(["KANSAS"]);
    expect(await by(`State startswith "fl"`)).toEqual(["FLORIDA"]);
    expect(await by(`State startswith_cs "fl"`)).toEqual([]);
  });
});

describe("lookup and union withsource", () => {
  it("lookup adds the right side's non-key columns (leftouter by default, inner on request)", async () => {
    const L = `datatable(k:string, a:long)["x", 1, "y", 2, "z", 3]`;
    const R = `datatable(k:string, b:long, a:long)["x", 10, 100, "y", 20, 200]`;
    expect(await rows(`${L} | lookup (${R}) on k`)).toEqual([
      { k: "x", a: 1, b: 10, a1: 100 },
      { k: "y", a: 2, b: 20, a1: 200 },
      { k: "z", a: 3, b: null, a1: null },
    ]);
    expect(await column(`${L} | lookup kind=inner (${R}) on k`, "k")).toEqual(["x", "y"]);
  });

  it("union withsource names each row's table", async () => {
    const q = `let A = datatable(a:long)[1]; let B = datatable(a:long)[2]; union withsource=Src A, B | sort by a asc`;
    expect(await rows(q)).toEqual([
      { Src: "A", a: 1 },
      { Src: "B", a: 2 },
    ]);
  });
});

describe("window functions over a serialized row set", () => {
  const T = `datatable(u:string, t:long)["a", 1, "a", 5, "b", 2, "a", 9] | sort by u asc, t asc`;

  it("prev, next (offset, default), row_number with restart, row_cumsum", async () => {
    const q = `${T} | extend p = prev(t), n = next(t, 1, -1), p2 = prev(u, 2),
        rn = row_number(), rk = row_number(1, prev(u) != u), cs = row_cumsum(t), csr = row_cumsum(t, u != prev(u))`;
    expect(await rows(q)).toEqual([
      { u: "a", t: 1, p: null, n: 5, p2: "", rn: 1, rk: 1, cs: 1, csr: 1 },
      { u: "a", t: 5, p: 1, n: 9, p2: "", rn: 2, rk: 2, cs: 6, csr: 6 },
      { u: "a", t: 9, p: 5, n: 2, p2: "a", rn: 3, rk: 3, cs: 15, csr: 15 },
      { u: "b", t: 2, p: 9, n: -1, p2: "a", rn: 4, rk: 1, cs: 17, csr: 2 },
    ]);
  });

  it("in where: gaps between consecutive events of the same user", async () => {
    const q = `${T} | where u == prev(u) and t - prev(t) > 3 | project u, t`;
    expect(await rows(q)).toEqual([
      { u: "a", t: 5 },
      { u: "a", t: 9 },
    ]);
  });
});
