/**
 * Evaluator semantics: the seed rule, Elasticsearch's null handling (query leaves vs scripts), case rules,
 * wildcards, Lucene regex translation, field paths, ordering, sequences and pipes.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { getStaticTOMLValue, parseTOML } from "toml-eslint-parser";
import { describe, expect, it } from "vitest";
import { DiagnosticError } from "../../src/diagnostics/index.js";
import { type EvaluateOptions, evaluate, parseEql } from "../../src/eql/index.js";
import { luceneToRegExp, wildcardMatches } from "../../src/eql/patterns.js";
import { cpuTime } from "../support/cpu-time.js";

const sharedDir = path.resolve(import.meta.dirname, "../../../shared");

/** Indexes of the matching events (first event of each match). */
function run(query: string, events: unknown[], options: EvaluateOptions = {}): number[] {
  return evaluate(parseEql(query), events, options).map((m) => m.indexes[0] as number);
}
const where = (condition: string, events: unknown[]) => run(`any where ${condition}`, events);

describe("seed rule: binary executed from a shared memory directory", () => {
  const rule = getStaticTOMLValue(
    parseTOML(
      readFileSync(
        path.join(
          sharedDir,
          "corpus/elastic-rules-linux/rules_linux/execution_process_started_in_shared_memory_directory.toml",
        ),
        "utf8",
      ),
    ),
  ) as { rule: { query: string } };
  const query = parseEql(rule.rule.query);
  const exec = (overrides: Record<string, unknown>) => ({
    "@timestamp": "2026-11-23T10:00:00Z",
    host: { os: { type: "linux" } },
    event: { category: ["process"], type: ["start"], action: "exec" },
    user: { id: "0" },
    process: { executable: "/dev/shm/x", parent: { command_line: "/bin/bash" } },
    ...overrides,
  });
  const matches = (event: unknown) => evaluate(query, [event]).length === 1;

  it("parses", () => expect(query.kind).toBe("event"));

  it("matches a root exec of /dev/shm/x", () => {
    expect(matches(exec({}))).toBe(true);
  });

  it("matches with dotted keys and without a parent command line (not ... matches a missing field)", () => {
    expect(
      matches({
        "@timestamp": 1,
        "host.os.type": "linux",
        "event.category": "process",
        "event.type": "start",
        "event.action": "exec_event",
        "user.id": "0",
        "process.executable": "/run/shm/payload",
      }),
    ).toBe(true);
  });

  it("does not match /var/run/docker/x, a non-root user, or a runc init parent", () => {
    expect(matches(exec({ process: { executable: "/var/run/docker/x" } }))).toBe(false);
    expect(matches(exec({ process: { executable: "/VAR/RUN/DOCKER/x" } }))).toBe(false); // `:` is case-insensitive
    expect(matches(exec({ user: { id: "1000" } }))).toBe(false);
    expect(
      matches(exec({ process: { executable: "/dev/shm/x", parent: { command_line: "/usr/bin/runc init" } } })),
    ).toBe(false);
  });

  it("does not match other paths, other actions or other categories", () => {
    expect(matches(exec({ process: { executable: "/tmp/x" } }))).toBe(false);
    expect(matches(exec({ process: { executable: "/DEV/SHM/x" } }))).toBe(false); // like is case-sensitive
    expect(matches(exec({ event: { category: ["process"], type: ["end"], action: "exec" } }))).toBe(false);
    expect(matches(exec({ event: { category: ["file"], type: ["start"], action: "exec" } }))).toBe(false);
  });
});

describe("the project's own rules (rules/*.toml)", () => {
  const rulesDir = path.resolve(import.meta.dirname, "../../rules");
  const load = (name: string) =>
    (getStaticTOMLValue(parseTOML(readFileSync(path.join(rulesDir, name), "utf8"))) as { rule: { query: string } }).rule
      .query;

  it("parses every EQL query", () => {
    const files = readdirSync(rulesDir).filter((f) => f.endsWith(".toml"));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) expect(() => parseEql(load(f)), f).not.toThrow();
  });

  it("shm-creation: files created under /dev/shm and shmget with the Derusbi key match; others do not", () => {
    const query = parseEql(load("shm-creation.toml"));
    const base = { "@timestamp": 1, host: { os: { type: "linux" } } };
    const file = (path: string, type = "creation") => ({ ...base, event: { category: "file", type }, file: { path } });
    const shmget = (a0: string) => ({
      ...base,
      event: { category: "process" },
      auditd: { data: { syscall: "shmget", a0 } },
    });
    const hits = (e: unknown) => evaluate(query, [e]).length === 1;
    expect(hits(file("/dev/shm/.x"))).toBe(true);
    expect(hits(file("/run/shm/payload", "change"))).toBe(true);
    expect(hits(shmget("82015F0D"))).toBe(true);
    expect(hits(file("/tmp/x"))).toBe(false);
    expect(hits(file("/dev/shm/x", "deletion"))).toBe(false);
    expect(hits(shmget("1234"))).toBe(false);
  });
});

describe("null handling as Elasticsearch (query leaves vs scripts)", () => {
  const events = [{ a: "x" }, { a: "y" }, {}, { a: null }];

  it("== and comparisons on a missing field do not match", () => {
    expect(where('a == "x"', events)).toEqual([0]);
    expect(where('a < "z"', events)).toEqual([0, 1]);
  });

  it("!=, not and not in match events where the field is missing (bool must_not)", () => {
    expect(where('a != "x"', events)).toEqual([1, 2, 3]);
    expect(where('not a : "X"', events)).toEqual([1, 2, 3]);
    expect(where('a not in ("x")', events)).toEqual([1, 2, 3]);
  });

  it("pushes not down first: a negated ordering comparison flips and still needs the field", () => {
    expect(where('not (a < "y")', events)).toEqual([1]);
    expect(where('not (a < "y" and a != "q")', events)).toEqual([1]);
    expect(where('not (a >= "y" or a == "x")', events)).toEqual([]); // a < "y" and a != "x"
    expect(where('not not a == "x"', events)).toEqual([0]);
    expect(where('startsWith(a, "x") == false', events)).toEqual([1, 2, 3]); // not startsWith(a, "x")
    expect(where('startsWith(a, "x") != false', events)).toEqual([0]);
    const ranges = [{ n: [1, 10] }, { n: 3 }, {}];
    expect(where("not n > 5", ranges)).toEqual([0, 1]);
  });

  it("scripts use three-valued logic: null never matches, negated or not", () => {
    expect(where("length(a) == 1", events)).toEqual([0, 1]);
    expect(where("length(a) != 1", events)).toEqual([]);
    expect(where("not length(a) == 1", events)).toEqual([]);
    expect(where('not startsWith(concat(a, ""), "x")', events)).toEqual([1]);
  });

  it("== null and != null are existence checks", () => {
    expect(where("a == null", events)).toEqual([2, 3]);
    expect(where("a != null", events)).toEqual([0, 1]);
    expect(where("length(a) == null", events)).toEqual([2, 3]);
    expect(where("null == (length(a) > 0)", events)).toEqual([2, 3]);
  });

  it("treats an absent optional field as the literal null", () => {
    expect(where("?b == ?c", events)).toEqual([0, 1, 2, 3]);
    expect(where("?a == ?c", events)).toEqual([2, 3]);
    expect(where("?zz", events)).toEqual([]);
  });

  it("runs startsWith, endsWith, stringContains and cidrMatch on a field as queries (not matches a missing field)", () => {
    expect(where('not endsWith(a, "x")', events)).toEqual([1, 2, 3]);
    expect(where('not stringContains(a, "x")', events)).toEqual([1, 2, 3]);
    expect(where('not startsWith(a, "x")', events)).toEqual([1, 2, 3]);
    expect(where('not cidrMatch(a, "10.0.0.0/8")', events)).toEqual([0, 1, 2, 3]);
  });

  it("tries scripts value by value on multi-valued fields", () => {
    const args = [{ args: ["a", "abcdefg"] }, { args: ["a"] }, {}];
    expect(where("length(args) > 5", args)).toEqual([0]);
    expect(where("not length(args) > 5", args)).toEqual([0, 1]);
    expect(where('concat(args, "!") == "a!"', args)).toEqual([0, 1]);
  });

  it("matches a multi-valued field when any value does, and != when none does", () => {
    const tags = [{ t: ["a", "b"] }, { t: "c" }];
    expect(where('t == "b"', tags)).toEqual([0]);
    expect(where('t != "b"', tags)).toEqual([1]);
    expect(where('t in ("c", "a")', tags)).toEqual([0, 1]);
  });
});

describe("types", () => {
  it("compares numbers with numeric text as numbers (Elasticsearch coerces literals to the field type)", () => {
    const events = [{ user: { id: 0 } }, { user: { id: "0" } }, { user: { id: "root" } }];
    expect(where('user.id == "0"', events)).toEqual([0, 1]);
    expect(where("user.id == 0", events)).toEqual([0, 1]);
    expect(where("user.id < 1", events)).toEqual([0, 1]);
  });

  it("divides integers as integers and decimals as decimals", () => {
    const events = [{ n: 7 }];
    expect(where("n / 2 == 3", events)).toEqual([0]);
    expect(where("n / 2.0 == 3.5", events)).toEqual([0]);
    expect(where("divide(n, 2) == 3 and modulo(n, 4) == 3", events)).toEqual([0]);
  });

  it("compares dates as instants and versions by version order when the field types say so", () => {
    const events = [
      { at: "2026-01-01T00:00:00Z", v: "1.10.0" },
      { at: "1767225600001", v: "1.9.9" },
    ];
    const options: EvaluateOptions = { fields: { at: { type: "date" }, v: { type: "version" } } };
    expect(run('any where at == "2026-01-01T00:00:00.000Z"', events, options)).toEqual([0]);
    expect(run('any where at > "2026-01-01T00:00:00Z"', events, options)).toEqual([1]);
    expect(run('any where v > "1.9.10"', events, options)).toEqual([0]);
    expect(run('any where v > "1.9.10"', events)).toEqual([1]); // plain strings compare as text
  });
});

/**
 * Functions against Elastic's EQL function reference (docs/reference/query-languages/eql/eql-function-ref.md in
 * elastic/elasticsearch); each expectation is the reference's own example, quoted.
 */
describe("functions as the EQL function reference states", () => {
  it("number() reads a string beginning with 0x as hexadecimal when no base (or a null one) is given", () => {
    // "Strings that begin with `0x` are auto-detected as hexadecimal and use a default `<base_num>` of `16`."
    //   number("0xdeadbeef")        // returns 3735928559
    //   number("0xdeadbeef", 16)    // returns 3735928559
    //   number("0xdeadbeef", null) // returns 3735928559
    //   number("1337", null)        // returns 1337
    const events = [{ pid: "0xdeadbeef" }];
    expect(where('number("0xdeadbeef") == 3735928559', events)).toEqual([0]);
    expect(where('number("0xdeadbeef", 16) == 3735928559', events)).toEqual([0]);
    expect(where('number("0xdeadbeef", null) == 3735928559', events)).toEqual([0]);
    expect(where('number("1337", null) == 1337', events)).toEqual([0]);
    expect(where("number(pid) == 3735928559", events)).toEqual([0]);
  });
});

describe("case rules and wildcards", () => {
  const events = [{ p: "C:\\Windows\\CMD.exe" }, { p: "c:\\windows\\cmd.exe" }, { p: "x*y" }];

  it("== and in are case-sensitive; : and in~ are not", () => {
    expect(where('p == "c:\\\\windows\\\\cmd.exe"', events)).toEqual([1]);
    expect(where('p : "c:\\\\windows\\\\cmd.exe"', events)).toEqual([0, 1]);
    expect(where('p in ("C:\\\\Windows\\\\CMD.exe")', events)).toEqual([0]);
    expect(where('p in~ ("C:\\\\Windows\\\\CMD.exe")', events)).toEqual([0, 1]);
  });

  it("* and ? are wildcards only for : and like; backslash is literal there", () => {
    expect(where('p : "*\\\\cmd.???"', events)).toEqual([0, 1]);
    expect(where('p like "*\\\\cmd.exe"', events)).toEqual([1]);
    expect(where('p like~ "*\\\\cmd.exe"', events)).toEqual([0, 1]);
    expect(where('p == "x*y"', events)).toEqual([2]);
    expect(where('p == "x*"', events)).toEqual([]);
    expect(where('p in ("x*")', events)).toEqual([]);
  });

  it("functions are case-sensitive unless ~", () => {
    expect(where('endsWith(p, "CMD.exe")', events)).toEqual([0]);
    expect(where('endsWith~(p, "CMD.exe")', events)).toEqual([0, 1]);
    expect(where('stringContains~(p, "windows")', events)).toEqual([0, 1]);
  });

  it("matches wildcards against the whole text", () => {
    expect(wildcardMatches("a?c*", "abcdef", false)).toBe(true);
    expect(wildcardMatches("a?c*", "xabc", false)).toBe(false);
    expect(wildcardMatches("a.c", "abc", false)).toBe(false);
    expect(wildcardMatches("A(B)", "a(b)", true)).toBe(true);
    expect(wildcardMatches("A(B)", "a(b)", false)).toBe(false);
    expect(wildcardMatches("*", "", false)).toBe(true);
    expect(wildcardMatches("?", "", false)).toBe(false);
    expect(wildcardMatches("?", "😀", false)).toBe(true); // one code point
    expect(wildcardMatches("a*b*c", "aXbYbZc", false)).toBe(true);
    expect(wildcardMatches("a*b*c", "aXbYbZ", false)).toBe(false);
    expect(wildcardMatches("C:\\Windows\\*", "C:\\Windows\\x.exe", false)).toBe(true); // backslash literal
  });
});

describe("Lucene regular expressions", () => {
  const cases: ReadonlyArray<readonly [string, string, boolean]> = [
    [".*?net1.*?", "cmd /c net1 user", true],
    ["net1", "cmd net1", false], // whole string only
    ["a{2,3}", "aaa", true],
    ["a{2,3}", "aaaa", false],
    ["(ab)+c", "ababc", true],
    ["[^a-c]x", "dx", true],
    ["[^a-c]x", "bx", false],
    ["@", "anything at all\n", true],
    ["#|a", "a", true],
    ["#", "", false],
    ['"a.b"c', "a.bc", true],
    ['"a.b"c', "axbc", false],
    ["()a", "a", true],
    ["<1-10>", "7", true],
    ["<1-10>", "10", true],
    ["<1-10>", "11", false],
    ["<1-10>", "007", true],
    ["<01-10>", "07", true],
    ["<01-10>", "7", false],
    ["<95-123>", "100", true],
    ["<95-123>", "94", false],
    ["^a$", "^a$", true],
    ["^a$", "a", false],
    ["\\d+x", "123x", true],
    ["\\.", ".", true],
    [".", "\n", true],
    ["a.c", "a\u{1F600}c", true],
  ];
  it.each(cases)("%s on %j → %s", (pattern, input, expected) => {
    expect(luceneToRegExp(pattern, false).test(input)).toBe(expected);
  });

  it("regex~ is case-insensitive", () => {
    expect(luceneToRegExp("ABC", true).test("abc")).toBe(true);
    expect(luceneToRegExp("ABC", false).test("abc")).toBe(false);
  });

  it("refuses intersection and complement with a clear error", () => {
    expect(() => luceneToRegExp("a&b", false)).toThrow(/intersection \(&\) cannot be translated/);
    expect(() => luceneToRegExp("~a", false)).toThrow(/complement \(~\) cannot be translated/);
    expect(() => luceneToRegExp("a{x}", false)).toThrow(DiagnosticError);
  });

  it("runs regex and regex~ in queries", () => {
    const events = [{ c: "cmd.exe /c NET1 localgroup" }, { c: "net1  localgroup" }];
    expect(where('c regex ".*net1[ ]+localgroup"', events)).toEqual([1]);
    expect(where('c regex~ ".*net1[ ]+localgroup"', events)).toEqual([0, 1]);
  });
});

describe("fields, ordering and pipes", () => {
  it("finds fields in nested objects, dotted keys, mixes and arrays of objects", () => {
    const events = [
      { process: { parent: { name: "a" } } },
      { "process.parent.name": "a" },
      { process: { "parent.name": "a" } },
      { process: { parent: [{ name: "b" }, { name: "a" }] } },
      { process: { parent: { name: "b" } } },
    ];
    expect(where('process.parent.name == "a"', events)).toEqual([0, 1, 2, 3]);
  });

  it("orders by timestamp, then tiebreaker, then input order; head, tail and size", () => {
    const events = [
      { "@timestamp": "2026-01-01T00:00:02Z", n: 1 },
      { "@timestamp": "2026-01-01T00:00:01Z", n: 3 },
      { "@timestamp": "2026-01-01T00:00:01Z", n: 2 },
      { "@timestamp": 1767225600000, n: 4 },
    ];
    expect(run("any where true", events)).toEqual([3, 1, 2, 0]);
    expect(run("any where true", events, { tiebreakerField: "n" })).toEqual([3, 2, 1, 0]);
    expect(run("any where true | head 3 | tail 2", events)).toEqual([1, 2]);
    expect(run("any where true | tail 3", events, { size: 2 })).toEqual([2, 0]);
    expect(run("any where true", events, { size: 1 })).toEqual([3]);
  });

  it("uses the configured category field", () => {
    const events = [{ kind: "proc" }, { kind: "file" }];
    expect(run("proc where true", events, { categoryField: "kind" })).toEqual([0]);
    expect(run('"file" where true', events, { categoryField: "kind" })).toEqual([1]);
  });
});

describe("sequences", () => {
  const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
  const events = [
    { "@timestamp": t(0), event: { category: "process" }, host: "h1", pid: 1, step: "start" },
    { "@timestamp": t(1), event: { category: "process" }, host: "h2", pid: 2, step: "start" },
    { "@timestamp": t(2), event: { category: "file" }, host: "h1", pid: 1, step: "write" },
    { "@timestamp": t(30), event: { category: "file" }, host: "h2", pid: 2, step: "write" },
    { "@timestamp": t(31), event: { category: "process" }, host: "h1", pid: 1, step: "end" },
    { "@timestamp": t(32), event: { category: "network" }, host: "h1", pid: 1, step: "connect" },
  ];
  const seq = (q: string, options: EvaluateOptions = {}) =>
    evaluate(parseEql(q), events, options).map((m) => ({ indexes: m.indexes, keys: m.joinKeys }));

  it("joins per key and reports the join keys", () => {
    expect(seq("sequence by host [process where true] [file where true]")).toEqual([
      { indexes: [0, 2], keys: ["h1"] },
      { indexes: [1, 3], keys: ["h2"] },
    ]);
  });

  it("measures maxspan from the first event", () => {
    expect(seq("sequence by host with maxspan=10s [process where true] [file where true]")).toEqual([
      { indexes: [0, 2], keys: ["h1"] },
    ]);
    expect(
      seq('sequence by host with maxspan=30s [process where step == "start"] [file where true] [network where true]'),
    ).toEqual([]);
    expect(
      seq('sequence by host with maxspan=32s [process where step == "start"] [file where true] [network where true]'),
    ).toEqual([{ indexes: [0, 2, 5], keys: ["h1"] }]);
  });

  it("drops sequences in progress when until matches for the same key", () => {
    expect(
      seq('sequence by host [process where step == "start"] [network where true] until [process where step == "end"]'),
    ).toEqual([]);
    expect(
      seq('sequence by host [process where step == "start"] [network where true] until [file where pid == 2]'),
    ).toEqual([{ indexes: [0, 5], keys: ["h1"] }]);
  });

  it("repeats a step with runs and reports missing events as -1 / null", () => {
    expect(seq("sequence by host [any where true] with runs=3")).toEqual([
      { indexes: [0, 2, 4], keys: ["h1"] },
      { indexes: [2, 4, 5], keys: ["h1"] },
    ]);
    const m = evaluate(
      parseEql(
        'sequence by host with maxspan=1m [process where true] ![file where step == "delete"] [file where true]',
      ),
      events,
    );
    expect(m.map((x) => x.indexes)).toEqual([
      [0, -1, 2],
      [1, -1, 3],
    ]);
    expect(m[0]?.events[1]).toBeNull();
  });

  it("stays linear on many events", () => {
    const many = Array.from({ length: 20_000 }, (_, i) => ({
      "@timestamp": i,
      event: { category: i % 2 === 0 ? "process" : "file" },
      k: Math.floor(i / 2) % 100,
    }));
    const result = evaluate(parseEql("sequence by k [process where true] [file where true]"), many);
    expect(result.length).toBe(10_000);
  });
});

describe("a long arithmetic chain", () => {
  // `1 + 1 + …` parses left-deep (up to MAX_EXPRESSION_DEPTH); the evaluator walks each arithmetic node's subtree.
  // A recursive generator walk cost the depth per node, cubic over the chain: 31 chains of 245 terms (15.8 KB, under
  // the API's 16 KiB) took 8 s to compile before the first event was looked at.
  const chain = `process.pid == ${Array(245).fill("1").join("+")}`;
  const query = `process where ${Array(31).fill(chain).join(" or ")}`;

  it("compiles and evaluates in time linear in the walk", () => {
    expect(query.length).toBeLessThan(16_384);
    const parsed = parseEql(query);
    const events = [
      { event: { category: "process" }, process: { pid: 245 } },
      { event: { category: "process" }, process: { pid: 2 } },
    ];
    // about 160 ms of CPU; the cubic walk took 8 s. CPU time, not the wall clock (1 s at load 10 on 2 cores).
    const { ms, result } = cpuTime(() => evaluate(parsed, events));
    expect(result.map((m) => m.indexes[0])).toEqual([0]);
    expect(ms).toBeLessThan(2000);
  });

  it("walks fields in the order written (pre-order)", async () => {
    const { fieldsOf } = await import("../../src/eql/ast.js");
    const parsed = parseEql("process where a + b * c == d and e in (f, g) and length(h) > i - -j");
    expect(fieldsOf(parsed)).toEqual(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]);
  });
});

describe("a field of many segments", () => {
  // Each object level built every dotted key the rest of the path could spell: a field of 4,000 segments (8 KB,
  // under the API's 16 KiB) cost 150 ms an event, quadratic in its length. Keys longer than any of the object's
  // cannot be there.
  it("is looked up in time linear in its length, and dotted keys still resolve", () => {
    const field = `process.${Array(4000).fill("a").join(".")}`;
    const events = Array.from({ length: 100 }, () => ({ event: { category: "process" }, process: { a: { a: 1 } } }));
    // a few ms of CPU; quadratic, it was 150 ms an event (15 s here). CPU time, not the wall clock.
    const { ms, result } = cpuTime(() => run(`process where ${field} == 1`, events));
    expect(result).toEqual([]);
    expect(ms).toBeLessThan(2000);
    const mixed = [{ event: { category: "process" }, process: { "a.a": { a: { "a.a": 5 } } } }];
    expect(run("process where process.a.a.a.a.a == 5", mixed)).toEqual([0]);
  });
});
