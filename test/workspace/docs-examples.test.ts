/**
 * The local engine against the Kusto documentation (../shared/reference/kusto-docs): examples and rules stated in
 * prose that docs-rules.test.ts and semantics.test.ts did not cover. Each expectation names its page and line:
 * the page is the oracle.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { inlineKql } from "../support/inline-kql.js";

const { rows, scalar, outcome, failureCode: failure } = inlineKql();

describe("join conditions combined with `and` (join-operator.md)", () => {
  // join-operator.md:36, Parameters, *Conditions*: "To specify multiple conditions, you can either use the "and"
  // keyword or separate them with commas. If you use commas, the conditions are evaluated using the "and" logical
  // operator."
  const X = `datatable(K1:string, K2:long, V1:long)["a", 1, 1, "a", 2, 2, "b", 1, 3]`;
  const Y = `datatable(K1:string, K2:long, V2:long)["a", 1, 10, "a", 3, 30, "b", 2, 20]`;
  const pairs = async (on: string) =>
    (await rows(`${X} | join kind=inner (${Y}) on ${on}`)).map((r) => `${r.V1}/${r.V2}`);

  it("reads `on A and B` as `on A, B`", async () => {
    expect(await pairs("K1, K2")).toEqual(["1/10"]);
    expect(await pairs("K1 and K2")).toEqual(["1/10"]);
  });

  it("reads `$left.A == $right.A and $left.B == $right.B` as both equalities", async () => {
    expect(await pairs("$left.K1 == $right.K1 and $left.K2 == $right.K2")).toEqual(["1/10"]);
    expect(await pairs("$left.K1 == $right.K1 and K2")).toEqual(["1/10"]);
  });
});

describe("indexof null results (indexof-function.md)", () => {
  it("is null when occurrence < 0 or length < -1", async () => {
    // indexof-function.md:40-43: "Returns `null` if: ... *occurrence* is less than 0. *length* is less than -1."
    expect(await scalar('indexof("abcdefg", "cde", 0, -1, -1)')).toBeNull();
    expect(await scalar('indexof("abcdefg", "cde", 0, -2)')).toBeNull();
    expect(await scalar('indexof("abcdefg", "cde", 1, -2, 1)')).toBeNull();
    // the limits themselves are answers: length -1 is "unlimited" (indexof-function.md:33, and idx7 of the example)
    expect(await scalar('indexof("abcdefg", "cde", 2, -1)')).toBe(2);
    expect(await scalar('indexof("abcdefgabcdefg", "cde", 1, -1, 2)')).toBe(9);
  });
});

describe("regex syntax RE2 reads otherwise (regex.md)", () => {
  it("\\w holds every Alphabetic code point, the enclosed Latin letters (So) included", async () => {
    // regex.md:180: "`\w` | Word character (`\p{Alphabetic}` + `\p{M}` + `\d` + `\p{Pc}` + `\p{Join_Control}`)";
    // Ⓐ (U+24B6) and 🅰 (U+1F170) are Other_Alphabetic
    expect(await scalar('"Ⓐ" matches regex @"^\\w$"')).toBe(true);
    expect(await scalar('"🅰" matches regex @"^[\\w]$"')).toBe(true);
    expect(await scalar('"Ⓐ" matches regex @"^\\W$"')).toBe(false);
    expect(await scalar('"²" matches regex @"^\\w$"')).toBe(false); // No, not Alphabetic, not Nd
  });

  it("reads \\U0000007F and \\U{7F} as code points", async () => {
    // regex.md:163-164: "`\U0000007F` Hex character code (exactly eight digits)", "`\U{7F}` Hex character code
    // corresponding to a Unicode code point"
    expect(await scalar('"a" matches regex @"^\\U00000061$"')).toBe(true);
    expect(await scalar('"😀" matches regex @"^\\U0001F600$"')).toBe(true);
    expect(await scalar('"a" matches regex @"^[\\U{61}b]$"')).toBe(true);
    expect(await scalar('"b" matches regex @"^\\U{61}$"')).toBe(false);
  });

  it("refuses the start/end-of-word assertions by name rather than read them as text", async () => {
    // regex.md:97-98 and 154-155: "`\b{start}`, `\<`" and "`\b{end}`, `\>`" are assertions; RE2 read `\<` as a
    // literal `<` ("<" matched) and `\b{start}` as `\b` then the text "{start}"
    expect(await failure('"hello world" matches regex @"\\<world\\>"')).toBe("WS500");
    expect(await failure('"<" matches regex @"\\<"')).toBe("WS500");
    expect(await failure('"abc" matches regex @"\\b{start}abc\\b{end}"')).toBe("WS500");
    expect(await failure('"abc" matches regex @"\\b{start-half}abc"')).toBe("WS500");
  });

  it("refuses an escape left open (`\\x{7F` with no `}`) rather than loop on it", () => {
    // The translation of a pattern walked back to its start when `}` was missing and went on for ever: each
    // pattern runs in a child process with a time limit, so a loop fails the test instead of hanging the suite.
    const engine = pathToFileURL(path.join(import.meta.dirname, "../../src/workspace/index.ts")).href;
    const patterns = ["\\x{7F", "\\p{L", "\\P{L", "\\U{7F"];
    const script = `import { runInline } from ${JSON.stringify(engine)};
      for (const p of ${JSON.stringify(patterns)}) {
        try { await runInline('print r = "a" matches regex @"' + p + '"', { now: 0 }); console.log(p, "ran"); }
        catch (e) { console.log(p, e.diagnostics?.[0]?.code ?? e.message); }
      }`;
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(child.signal, child.stderr).toBeNull();
    expect(child.stdout.trim().split("\n")).toEqual(patterns.map((p) => `${p} WS501`));
  });
});

describe("\\b and \\B are Unicode word boundaries (regex.md)", () => {
  // regex.md:95-96: "`\b` | Unicode word boundary with `\w` on one side and `\W`, `\A`, or `\z` on other.",
  // "`\B` | Not a Unicode word boundary."; regex.md:180: `\w` is "`\p{Alphabetic}` + `\p{M}` + `\d` + `\p{Pc}` +
  // `\p{Join_Control}`", so é and ñ are word characters. RE2's `\b` is an ASCII boundary.
  it("answers as documented on ASCII text", async () => {
    expect(await scalar('"foo bar" matches regex @"\\bbar\\b"')).toBe(true);
    expect(await scalar('"foobar" matches regex @"\\bbar"')).toBe(false);
    expect(await scalar('"foobar" matches regex @"\\Bbar"')).toBe(true);
    expect(await scalar('extract(@"\\b\\w+", 0, "-ab cd")')).toBe("ab");
  });

  it("answers as documented next to a non-ASCII word character, or refuses (WS500), never with RE2's ASCII boundary", async () => {
    // RE2 answered false, true, false and "a"
    expect(["WS500", true]).toContain(await outcome('"é" matches regex @"\\bé\\b"'));
    expect(["WS500", false]).toContain(await outcome('"aé" matches regex @"a\\b"'));
    expect(["WS500", true]).toContain(await outcome('"aé" matches regex @"a\\B"'));
    expect(["WS500", "ña"]).toContain(await outcome('extract(@"\\b\\w+", 0, "ña")'));
  });
});

describe("regex flags RE2 does not have (regex.md)", () => {
  // regex.md:114 "`(?flags)` Set flags within current group." and the flag table, regex.md:121-128: "`R` Enables
  // CRLF mode: when multi-line mode is enabled, `\r\n` is used.", "`u` Unicode support (enabled by default).",
  // "`x` Verbose mode, ignores whitespace and allow line comments (starting with `#`)." RE2 rejects all three, and
  // the engine reported the query as invalid (WS501).
  it("reads (?u) as the default it is", async () => {
    expect(await scalar('"é" matches regex @"(?u)^\\w$"')).toBe(true);
    expect(await scalar('"AB" matches regex @"(?iu)^ab$"')).toBe(true);
    expect(await scalar('"ab" matches regex @"(?u:a)b"')).toBe(true);
    expect(await scalar('"aB" matches regex @"(?u-i:a)(?i:b)"')).toBe(true);
  });

  it("answers as documented with x, R and -u, or refuses them by name (WS500)", async () => {
    // regex.md:137: "`(?-u:\b).+(?-u:\b)` to match `$$abc$$`"
    expect(["WS500", true]).toContain(await outcome('"$$abc$$" matches regex @"(?-u:\\b).+(?-u:\\b)"'));
    // verbose mode ignores the spaces and the comment
    expect(["WS500", true]).toContain(await outcome('"ab" matches regex @"(?x)^a b$ # a, then b"'));
    // regex.md:135: "When both CRLF mode and multi-line mode are enabled, then `^` and `$` match either `\r` and
    // `\n`, but never in the middle of a `\r\n`."
    expect(["WS500", true]).toContain(await outcome('"a\\r\\nb" matches regex @"(?mR)^a$"'));
  });
});

describe("parse kind=regex reads its string constants as KQL regular expressions", () => {
  // regex.md:14: "There are a number of KQL operators and functions that perform string matching, selection, and
  // extraction with regular expressions, such as `matches regex`, `parse`, and `replace_regex()`." The parse page
  // (https://docs.azure.cn/data-explorer/kusto/query/parse-operator, "正则表达式模式", regex mode): parse turns the
  // pattern into a regular expression and matches with numbered capture groups it handles internally;
  // `parse kind=regex Col with * <regex1> var1:string <regex2> var2:long` becomes `.*?<regex1>(.*?)<regex2>(\-\d+)`.
  it("takes the flags and classes regex.md defines", async () => {
    // regex.md:114 "`(?flags)` Set flags within current group.", :123 "`i` Case-insensitive"
    const q = 'print s = "KEY=v" | parse kind=regex s with "(?i)key=" value:string';
    expect((await rows(q))[0]?.value).toBe("v");
    // regex.md:29 "`\d` Digit (`\p{Nd}`)."
    const d = 'print s = "x٣=y" | parse kind=regex s with "x\\\\d=" rest:string';
    expect((await rows(d))[0]?.rest).toBe("y");
  });

  it("fills the columns from its own groups, whatever groups the constants hold", async () => {
    // regex.md:110 "`(exp)` Numbered capture group": a group in a constant is part of <regex1>, not a column
    const q = 'print s = "a=1, b=2" | parse kind=regex s with "(a)=" x:long ", (b)=" y:long';
    expect(await rows(q)).toEqual([{ s: "a=1, b=2", x: 1, y: 2 }]);
  });

  it("does not cross a line end without the s flag", async () => {
    // The parse page, regexFlags: "s for matching new line \n"; regex.md: "`.` Any character except new line
    // (includes new line with s flag)". A string column is `.*?` (above), so its text stops at the line end.
    const q = 'print s = "key=a\\nb" | parse kind=regex s with "key=" v:string';
    expect((await rows(q))[0]?.v).toBe("a");
    const star = 'print s = "x\\nkey=v" | parse kind=regex s with * "key=" v:string';
    // No match (the `*` cannot pass the line end): the column is empty, "" for a string (strings are never null).
    expect((await rows(star))[0]?.v).toBe("");
  });
});

describe("extract_all picks capture groups by name too (extract-all-function)", () => {
  it("reads a name in captureGroups as the group of that name", async () => {
    // https://learn.microsoft.com/en-us/kusto/query/extract-all-function, Parameters, captureGroups: "An array that
    // indicates the capture groups to extract. Valid values are from 1 to the number of capturing groups in the
    // regular expression. Named capture groups are allowed as well." With the groups named, the page's three-group
    // example must give the page's own output for it:
    // extract_all(@"(\w)(\w+)(\w)", Id) → [["8","2b8be2","d"],["d","fa","7"],["4","bd","1"],["8","f6","3"],["2","4ad26d3144","9"]]
    const id = '"82b8be2d-dfa7-4bd1-8f63-24ad26d31449"';
    const expected = [
      ["8", "2b8be2", "d"],
      ["d", "fa", "7"],
      ["4", "bd", "1"],
      ["8", "f6", "3"],
      ["2", "4ad26d3144", "9"],
    ];
    expect(await scalar(`extract_all(@"(\\w)(\\w+)(\\w)", ${id})`)).toEqual(expected);
    const named = `extract_all(@"(?P<first>\\w)(?P<middle>\\w+)(?P<last>\\w)", dynamic(['first', 2, 'last']), ${id})`;
    expect(await scalar(named)).toEqual(expected);
  });
});
