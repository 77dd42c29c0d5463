/**
 * Rule files as TOML input: what TOML 1.0 (toml.io/en/v1.0.0, and the toml-test suite's cases,
 * github.com/toml-lang/toml-test tests/files-toml-1.0.0) says is valid loads, what it says is invalid is refused
 * with a RULE200 at the offending line and column, and no key crashes the checks. The project's standard: "Bad input
 * gets a clear error naming the file, line and column or the field, and nothing is lost".
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../../src/diagnostics/index.js";
import { loadRuleFile, loadRuleText } from "../../src/rules/index.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const minimalPath = path.join(repo, "test/rules/fixtures/minimal.toml");

/** `line:column code field` of each diagnostic. */
const where = (diagnostics: readonly Diagnostic[]) =>
  diagnostics.map((d) => `${d.span?.start.line}:${d.span?.start.column} ${d.code} ${d.field ?? ""}`.trim());

async function minimal(): Promise<string> {
  return readFile(minimalPath, "utf8");
}

describe("keys that are names of Object.prototype's members", () => {
  // TOML 1.0 "Keys": any bare key of A-Za-z0-9_- is a key; `constructor` is an unknown key like any other.
  it.each(["constructor", "toString", "hasOwnProperty", "valueOf"])(
    "%s in [rule], [metadata] and [shmhunt] is an unknown key at its line, not a crash",
    async (key) => {
      const base = await minimal();
      const source = base
        .replace("risk_score = 21", `risk_score = 21\n${key} = 1`)
        .replace('maturity = "production"', `maturity = "production"\n${key} = 1`)
        .concat(`\n[shmhunt]\n${key} = 1\n`);
      const { rule, diagnostics } = loadRuleText("proto-keys.toml", source);
      expect(rule).toBeUndefined();
      expect(where(diagnostics)).toEqual([
        `4:1 RULE201 metadata.${key}`,
        `15:1 RULE201 rule.${key}`,
        `35:1 RULE201 shmhunt.${key}`,
      ]);
    },
  );
});

describe("TOML 1.0, not 1.1", () => {
  // toml-test's invalid cases for TOML 1.0 (tests/files-toml-1.0.0) that TOML 1.1 made valid: newlines and a
  // trailing comma in inline tables, times without seconds, the \x escape. The parser defaults to 1.1; Elastic's
  // tooling and every TOML 1.0 reader refuse them, so a rule file using them must fail validation.
  it.each([
    [
      "invalid/inline-table/linebreak-01",
      "# No newlines are allowed between the curly braces\nsimple = { a = 1 \n}\n",
      "3:1",
    ],
    ["invalid/inline-table/linebreak-02", "t = {a=1,\nb=2}\n", "2:1"],
    ["invalid/inline-table/linebreak-03", "t = {a=1\n,b=2}\n", "2:1"],
    ["invalid/inline-table/linebreak-04", 'json_like = {\n          first = "Tom",\n}\n', "2:11"],
    ["invalid/inline-table/trailing-comma", "abc = { abc = 123, }\n", "1:20"],
    ["invalid/datetime/no-secs", "no-secs = 1987-07-05T17:45Z\n", "1:27"],
    ["invalid/local-datetime/no-secs", "no-secs = 1987-07-05T17:45\n", "1:27"],
    ["invalid/local-time/no-secs", "no-secs = 17:45\n", "1:16"],
    ["invalid/string/basic-byte-escapes", 'answer = "\\x33"\n', "1:12"],
  ])("%s is a TOML syntax error at its line and column", (_case, source, at) => {
    const { rule, diagnostics } = loadRuleText("case.toml", source);
    expect(rule).toBeUndefined();
    expect(where(diagnostics)).toEqual([`${at} RULE200`]);
  });

  it("a rule whose [shmhunt] uses a multi-line inline table is refused at the line break", async () => {
    const source = `${await minimal()}\n[shmhunt.entities]\nHost = {\n  HostName = "host.hostname" }\n`;
    const { rule, diagnostics } = loadRuleText("multi-line-inline.toml", source);
    expect(rule).toBeUndefined();
    expect(where(diagnostics)).toEqual(["34:3 RULE200"]);
  });
});

describe("the bytes around the TOML", () => {
  // toml-test valid/utf8-bom-01 and valid/utf8-bom-02: a file may start with a UTF-8 byte order mark (editors on
  // Windows write one). It is not part of the document, and editors do not count it as a column.
  it("a rule file starting with a byte order mark loads (toml-test valid/utf8-bom-01, -02)", async () => {
    expect(loadRuleText("bom-01.toml", "\ufeff# This file starts with a UTF-8 BOM\n").diagnostics).not.toContainEqual(
      expect.objectContaining({ code: "RULE200" }),
    );
    expect(loadRuleText("bom-02.toml", "\ufeffa=1 # starts with a BOM\n").diagnostics).not.toContainEqual(
      expect.objectContaining({ code: "RULE200" }),
    );
    const { rule, diagnostics } = loadRuleText("bom.toml", `\ufeff${await minimal()}`);
    expect(diagnostics).toEqual([]);
    expect(rule?.name).toBe("Minimal");
  });

  it("positions on the first line of a file with a byte order mark do not count the mark", () => {
    const { diagnostics } = loadRuleText("bom.toml", "\ufeffa = 1 x\n");
    expect(where(diagnostics)).toEqual(["1:7 RULE200"]);
  });

  // toml-test invalid/control/bare-cr: TOML 1.0's newline is LF or CRLF; a CR alone is allowed nowhere (not in a
  // comment, not in a string unescaped), and editors disagree on whether it breaks the line.
  it("a carriage return that does not end a CRLF line is refused where it is (toml-test invalid/control/bare-cr)", () => {
    const source = "# The following line contains a single carriage return control character\r\n\r";
    const { rule, diagnostics } = loadRuleText("bare-cr.toml", source);
    expect(rule).toBeUndefined();
    expect(where(diagnostics)).toEqual(["2:1 RULE200"]);
    expect(diagnostics[0]?.message).toMatch(/carriage return/);
  });
});

describe("a file that is not UTF-8", () => {
  // TOML 1.0: "A TOML file must be a valid UTF-8 encoded Unicode document." toml-test invalid/encoding/*: each is
  // refused. Reading with Node's "utf8" replaced each bad byte by U+FFFD and the rule loaded with its text changed.
  const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");
  it.each([
    ["invalid/encoding/bad-utf8-in-comment", Buffer.concat([Buffer.from("# "), hex("c3"), Buffer.from("\n")]), "1:3"],
    [
      "invalid/encoding/bad-utf8-in-string",
      Buffer.concat([Buffer.from('# x\nbad = "'), hex("c3"), Buffer.from('"\n')]),
      "2:8",
    ],
    [
      "invalid/encoding/bad-utf8-in-string-literal",
      Buffer.concat([Buffer.from("bad = '"), hex("c3"), Buffer.from("'\n")]),
      "1:8",
    ],
    [
      "invalid/encoding/bad-utf8-in-multiline",
      Buffer.concat([Buffer.from('bad = """'), hex("c3"), Buffer.from('"""\n')]),
      "1:10",
    ],
    [
      "invalid/encoding/bad-codepoint",
      Buffer.concat([Buffer.from("# Invalid codepoint U+D800 : "), hex("eda080"), Buffer.from("\n")]),
      "1:30",
    ],
    ["a truncated sequence at the end", Buffer.concat([Buffer.from("a = 1\n# é"), hex("e2")]), "2:4"],
  ])("%s is a RULE200 at the first bad byte", async (_case, bytes, at) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "shmhunt-utf8-"));
    try {
      const file = path.join(dir, "case.toml");
      await writeFile(file, bytes);
      const { rule, diagnostics } = await loadRuleFile(file);
      expect(rule).toBeUndefined();
      expect(where(diagnostics)).toEqual([`${at} RULE200`]);
      expect(diagnostics[0]?.message).toMatch(/UTF-8/);
      expect(diagnostics[0]?.file).toBe(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a rule saved as Latin-1 is refused at its first non-UTF-8 byte, not loaded with U+FFFD in its text", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "shmhunt-utf8-"));
    try {
      const file = path.join(dir, "latin1.toml");
      const text = (await minimal()).replace('description = "A minimal valid rule."', 'description = "Règle"');
      await writeFile(file, Buffer.from(text, "latin1"));
      const { rule, diagnostics } = await loadRuleFile(file);
      expect(rule).toBeUndefined();
      expect(where(diagnostics)).toEqual(["8:17 RULE200"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("EQL errors in a CRLF file", () => {
  // TOML 1.0 "String": a multi-line string's newlines may be normalised; the parser gives the query with LF, while the
  // file has CRLF. The error must still be at the offending token's line and column in the file (and its offset).
  const query = (open: string, close: string) =>
    [`query = ${open}`, "process where", '  process.name == "a" and', '  process.args == "b" and', "and", close].join(
      "\r\n",
    );
  it.each([
    ["basic", '"""'],
    ["literal", "'''"],
  ])("a multi-line %s query: the error is at its line and column in the file", async (_style, quote) => {
    const source = (await minimal())
      .replace(`query = '''\nprocess where process.name == "true"\n'''`, query(quote, quote))
      .replace(/\n/g, "\r\n")
      .replace(/\r\r\n/g, "\r\n");
    const { diagnostics } = loadRuleText("crlf.toml", source);
    expect(where(diagnostics)).toEqual(["21:1 EQL101 rule.query"]);
    const offset = diagnostics[0]?.span?.start.offset ?? -1;
    expect(source.slice(offset, offset + 3)).toBe("and");
  });
});
