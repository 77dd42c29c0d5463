/**
 * Parser tests: golden files (golden/*.eql → *.ast.json, regenerate on purpose with UPDATE_GOLDEN=1 and review
 * the diff), exact error positions and messages, and every EQL rule of Elastic's Linux rule set.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { getStaticTOMLValue, parseTOML } from "toml-eslint-parser";
import { describe, expect, it } from "vitest";
import { DiagnosticError, formatDiagnostic, type Span } from "../../src/diagnostics/index.js";
import { evaluate, fieldsOf, parseEql, parseEqlExpression, tryParseEql } from "../../src/eql/index.js";

const here = import.meta.dirname;
const goldenDir = path.join(here, "golden");
const sharedDir = path.resolve(here, "../../../shared");

/** The AST as stable JSON: spans as "line:column-line:column". */
function astJson(value: unknown): string {
  return JSON.stringify(
    value,
    (key, v) => {
      if (key === "span") {
        const s = v as Span;
        return `${s.start.line}:${s.start.column}-${s.end.line}:${s.end.column}`;
      }
      return v;
    },
    2,
  );
}

describe("golden parses", () => {
  const inputs = readdirSync(goldenDir).filter((f) => f.endsWith(".eql"));
  it("has golden inputs", () => expect(inputs.length).toBeGreaterThanOrEqual(5));
  it.each(inputs)("%s", (file) => {
    const text = readFileSync(path.join(goldenDir, file), "utf8");
    const actual = `${astJson(parseEql(text))}\n`;
    const goldenPath = path.join(goldenDir, file.replace(/\.eql$/, ".ast.json"));
    if (process.env.UPDATE_GOLDEN === "1" || !existsSync(goldenPath)) writeFileSync(goldenPath, actual);
    expect(actual).toBe(readFileSync(goldenPath, "utf8"));
  });
});

describe("parse details", () => {
  it("gives and higher precedence than or, and not higher than and", () => {
    const e = parseEqlExpression("not a == 1 and b == 2 or c == 3");
    expect(e.kind).toBe("logical");
    if (e.kind !== "logical") return;
    expect(e.op).toBe("or");
    expect(e.left.kind === "logical" && e.left.op === "and" && e.left.left.kind === "not").toBe(true);
  });

  it("binds a predicate to its primary, as Elasticsearch's grammar does", () => {
    const e = parseEqlExpression('a + b : "x"');
    expect(e.kind === "arithmetic" && e.right.kind === "match").toBe(true);
  });

  it("folds a minus sign into number literals and keeps integer/decimal apart", () => {
    expect(parseEqlExpression("-5")).toMatchObject({ kind: "literal", value: -5, numberKind: "integer" });
    expect(parseEqlExpression("5.0")).toMatchObject({ kind: "literal", value: 5, numberKind: "decimal" });
    expect(parseEqlExpression("-x")).toMatchObject({ kind: "negate", operand: { kind: "field", name: "x" } });
  });

  it("reads function names case-insensitively, with ~ variants", () => {
    expect(parseEqlExpression('STARTSWITH~(a, "b")')).toMatchObject({
      kind: "call",
      name: "startswith",
      caseInsensitive: true,
    });
    expect(parseEqlExpression('cidrMatch(a, "10.0.0.0/8")')).toMatchObject({
      name: "cidrmatch",
      caseInsensitive: false,
    });
  });

  it("treats `:` as case-insensitive and like/regex as case-sensitive unless ~", () => {
    expect(parseEqlExpression('a : "x"')).toMatchObject({ op: ":", caseInsensitive: true });
    expect(parseEqlExpression('a like "x"')).toMatchObject({ op: "like", caseInsensitive: false });
    expect(parseEqlExpression('a like~ "x"')).toMatchObject({ op: "like", caseInsensitive: true });
    expect(parseEqlExpression('a regex~ "x"')).toMatchObject({ op: "regex", caseInsensitive: true });
  });

  it("reads durations, runs, missing steps and pipes", () => {
    const q = parseEql("sequence with maxspan=500ms [a where true] with runs=3 ![b where true] | tail 4");
    expect(q.kind).toBe("sequence");
    if (q.kind !== "sequence") return;
    expect(q.maxspan).toMatchObject({ value: 500, unit: "ms", milliseconds: 500 });
    expect(q.steps.map((s) => [s.runs, s.missing])).toEqual([
      [3, false],
      [1, true],
    ]);
    expect(q.pipes).toMatchObject([{ kind: "tail", count: 4 }]);
  });

  it("lists the fields a query reads", () => {
    const q = parseEql('sequence by h [process where a == 1] by p [file where b : "x" and a > 2] by q');
    expect(fieldsOf(q)).toEqual(["h", "a", "p", "b", "q"]);
  });

  it("skips // and nested /* */ comments", () => {
    const q = parseEql("process /* a /* nested */ comment */ where // to the end\n true");
    expect(q).toMatchObject({ kind: "event", filter: { category: "process", condition: { value: true } } });
  });
});

/** [query, "line:column", message] */
const ERRORS: ReadonlyArray<readonly [string, string, string]> = [
  ["process x == 1", "1:9", 'expected "where" but found identifier "x"'],
  [
    "process where",
    "1:14",
    "expected an expression (field, literal, function call or parenthesis) but found end of query",
  ],
  ["process where a == 'x'", "1:20", "use double quotes [\"] to define string literals, not single quotes [']"],
  ['process where a == ?"x"', "1:20", 'use triple double quotes ["""] to define unescaped string literals, not [?"]'],
  ['process where a == "x', "1:20", 'unterminated string: expected closing " on the same line'],
  ['process where a == "\\u{1}"', "1:21", "unicode sequence should use [2-8] hex digits, [\\u{1}] has [1]"],
  ["process where a = 1", "1:17", 'unexpected "=": use "==" for equality'],
  ["process where a == 1 b", "1:22", 'expected an operator, "|" or end of query but found identifier "b"'],
  ["process where\n  a in (1, 2", "2:13", 'expected "," or ")" but found end of query'],
  ['process where a not like "x"', "1:21", 'expected "in" or "in~" after "not" but found "like"'],
  [
    "process where a : b",
    "1:19",
    'expected a constant (string, number, boolean or null) after ":" but found identifier "b"',
  ],
  ["process where a like 1", "1:22", 'the pattern of "like" must be a string'],
  ["process where foo(a)", "1:15", "unknown function [foo]"],
  ["process where length~(a) > 1", "1:15", "function [length] has no case-insensitive variant [length~]"],
  ["process where length(a, b) > 1", "1:15", "function [length] takes 1 argument, found [2]"],
  ['process where between(a, "x") : "y"', "1:15", "function [between] takes 3 to 4 arguments, found [2]"],
  ['process where substring(a, "1") : "y"', "1:28", "argument 2 of [substring] must be an integer"],
  [
    'process where cidrMatch(a, "300.0.0.0/8")',
    "1:28",
    "argument 2 of [cidrMatch] is not a valid CIDR block [300.0.0.0/8]",
  ],
  ['process where between(a, "x", "y", b) : "y"', "1:36", "argument 4 of [between] must be a constant"],
  ["sequence [a where true]", "1:1", "a sequence requires a minimum of 2 queries, found [1]"],
  [
    "sequence with maxspan=5 [a where true] [b where true]",
    "1:23",
    "no time unit specified, did you mean [s] as in [5s]?",
  ],
  [
    "sequence with maxspan=5y [a where true] [b where true]",
    "1:24",
    "unknown time unit [y]; expected one of ms, s, m, h, d",
  ],
  // names of Object.prototype's members are not units either (they reached the KQL as `5constructor`)
  [
    "sequence with maxspan=5constructor [a where true] [b where true]",
    "1:24",
    "unknown time unit [constructor]; expected one of ms, s, m, h, d",
  ],
  [
    "sequence with maxspan=5__proto__ [a where true] [b where true]",
    "1:24",
    "unknown time unit [__proto__]; expected one of ms, s, m, h, d",
  ],
  [
    "sequence with maxspan=5m by x [a where true] [b where true]",
    "1:26",
    "please specify sequence [by] before [with] not after",
  ],
  [
    "sequence [a where true] ![b where true]",
    "1:1",
    "[with maxspan] is required for sequences with missing events ![...]",
  ],
  [
    "sequence by x [a where true] by y [b where true]",
    "1:35",
    "inconsistent number of join keys specified; expected [2] but found [1]",
  ],
  ["sequence [a where true] [b where true] with runs=0", "1:50", "runs must be between 1 and 100, found [0]"],
  ["sample by x [a where true] ![b where true]", "1:28", "samples cannot have missing events ![...]"],
  ["process where true | count", "1:22", "pipe [count] is not supported by Elasticsearch EQL; use head or tail"],
  ["process where true | head x", "1:27", 'expected a whole number after "head" but found identifier "x"'],
  ["join [a where true] [b where true]", "1:1", "join is not supported by Elasticsearch EQL; use sequence or sample"],
  ['process where a regex "[a-"', "1:23", 'regex "[a-": unterminated character class: expected "]" at character 4'],
  ['process where a regex "[z-a]"', "1:23", 'regex "[z-a]": invalid range z-a in a character class at character 5'],
  ["process where a.b[0] == 1", "1:18", "array indexes in field names are not supported"],
  ["process where a == 1 # x", "1:22", 'unexpected character "#"'],
];

describe("syntax errors: line, column and what was expected", () => {
  it.each(ERRORS)("%s", (query, where, message) => {
    const { query: parsed, diagnostics } = tryParseEql(query);
    expect(parsed).toBeNull();
    const d = diagnostics[0];
    expect(d?.code).toMatch(/^EQL1\d\d$/);
    expect(`${d?.span?.start.line}:${d?.span?.start.column}`).toBe(where);
    expect(d?.message).toBe(message);
  });

  it("throws a DiagnosticError from parseEql, formatted on one line", () => {
    try {
      parseEql("process where\n  a ==");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DiagnosticError);
      const d = (error as DiagnosticError).diagnostics[0];
      expect(d && formatDiagnostic(d)).toBe(
        "2:7: error EQL101: expected an expression (field, literal, function call or parenthesis) but found end of query",
      );
    }
  });
});

describe("Elastic's Linux detection rules", () => {
  const root = path.join(sharedDir, "corpus/elastic-rules-linux");
  const rules = readdirSync(root)
    .filter((d) => d.startsWith("rules"))
    .flatMap((d) => readdirSync(path.join(root, d)).map((f) => path.join(root, d, f)))
    .filter((f) => f.endsWith(".toml"))
    .map((file) => ({
      file,
      doc: getStaticTOMLValue(parseTOML(readFileSync(file, "utf8"))) as { rule?: Record<string, unknown> },
    }))
    .filter(({ doc }) => doc.rule?.language === "eql");

  it("parses every EQL rule", () => {
    expect(rules.length).toBeGreaterThan(250);
    const failures = rules.flatMap(({ file, doc }) => {
      const { diagnostics } = tryParseEql(String(doc.rule?.query));
      return diagnostics.map((d) => `${path.basename(file)}: ${formatDiagnostic(d)}`);
    });
    expect(failures).toEqual([]);
  });

  it("evaluates every rule over varied events (nulls, arrays, numbers, text) without error", () => {
    const shapes: unknown[] = [null, "x", ["a", "b"], 5, "/dev/shm/x", "bash", true, "", [1, null], { nested: 1 }];
    for (const { file, doc } of rules) {
      const query = parseEql(String(doc.rule?.query));
      const fields = fieldsOf(query);
      const events = Array.from({ length: 30 }, (_, i) => {
        const event: Record<string, unknown> = { "@timestamp": i * 1000 };
        fields.forEach((f, j) => {
          event[f] = shapes[(i + j) % shapes.length];
        });
        event["event.category"] = ["process", "file", "network"][i % 3];
        return event;
      });
      expect(() => evaluate(query, events), path.basename(file)).not.toThrow();
    }
  });

  it("never crashes on mutated rules: each gives a query or a diagnostic positioned inside the text", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const problems: string[] = [];
    for (const { doc } of rules) {
      const query = String(doc.rule?.query);
      for (let k = 0; k < 5; k++) {
        const cut = Math.floor(random() * query.length);
        const noise = "\"'()[]|~?!`"[Math.floor(random() * 12)] as string;
        for (const variant of [query.slice(0, cut), query.slice(0, cut) + noise + query.slice(cut)]) {
          const { query: parsed, diagnostics } = tryParseEql(variant);
          const span = diagnostics[0]?.span;
          if (!parsed && (!span || span.start.offset > variant.length)) problems.push(JSON.stringify(variant));
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
