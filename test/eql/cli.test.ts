/** `shmhunt eql` through main(), with stdout and stderr captured. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { runCli } from "../support/cli-in-process.js";
import { corpusDir } from "./es-suite.js";

let dir: string;
let ndjson: string;

const events = [
  {
    "@timestamp": "2026-11-23T10:00:02Z",
    event: { category: "process" },
    host: "a",
    user: { id: "0" },
    p: "/dev/shm/x",
  },
  {
    "@timestamp": "2026-11-23T10:00:01Z",
    event: { category: "process" },
    host: "a",
    user: { id: "1000" },
    p: "/tmp/y",
  },
  { "@timestamp": "2026-11-23T10:00:03Z", event: { category: "file" }, host: "a", p: "/dev/shm/x" },
];

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "shmhunt-eql-"));
  ndjson = path.join(dir, "events.ndjson");
  writeFileSync(ndjson, `${events.map((e) => JSON.stringify(e)).join("\n")}\n`);
  writeFileSync(path.join(dir, "events.json"), JSON.stringify(events));
  writeFileSync(path.join(dir, "bad.ndjson"), '{"a": 1}\n{"a": \n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

const shmhunt = (...args: string[]) => runCli(args);

const lines = (s: string) =>
  s
    .trim()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("shmhunt eql", () => {
  it("prints matching events as NDJSON, in time order", async () => {
    const r = await shmhunt("eql", "process where true", "--events", ndjson, "--json");
    expect(r.code).toBe(0);
    expect(lines(r.stdout).map((e) => e.p)).toEqual(["/tmp/y", "/dev/shm/x"]);
    expect(r.stderr).toBe("");
  });

  it("reads JSON arrays too and prints a summary on stderr without --json", async () => {
    const r = await shmhunt("eql", 'process where user.id == "0"', "--events", path.join(dir, "events.json"));
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([events[0]]);
    expect(r.stderr).toBe("1 event matched\n");
  });

  it("prints one line per sequence with its join keys", async () => {
    const r = await shmhunt(
      "eql",
      "sequence by host, p [process where true] [file where true]",
      "--events",
      ndjson,
      "--json",
    );
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([{ sequence: [events[0], events[2]], join_keys: ["a", "/dev/shm/x"] }]);
  });

  it("honours --size, --category-field and --timestamp-field", async () => {
    const r = await shmhunt("eql", "any where true", "--events", ndjson, "--size", "1", "--json");
    expect(lines(r.stdout).map((e) => e.p)).toEqual(["/tmp/y"]);
    const byHost = await shmhunt("eql", "a where true", "--events", ndjson, "--category-field", "host", "--json");
    expect(lines(byHost.stdout)).toHaveLength(3);
  });

  it("runs the Elasticsearch suite's own data as it is", async () => {
    const suiteArgs = ["--category-field", "event_type", "--tiebreaker-field", "sequence", "--json"];
    const missing = await shmhunt(
      "eql",
      'sequence with maxspan=1s [test1 where tag == "normal"] ![test1 where tag == "missing"] [test1 where tag == "normal"]',
      "--events",
      path.join(corpusDir, "data/missing-events.data"),
      ...suiteArgs,
    );
    expect(missing.code).toBe(0);
    const ids = lines(missing.stdout).map((m) =>
      (m.sequence as (Record<string, unknown> | null)[]).map((e) => (e ? e.sequence : -1)),
    );
    expect(ids).toEqual([[1, -1, 2]]);
    const joined = await shmhunt(
      "eql",
      "sequence by transID [REQUEST where true] [ERROR where true]",
      "--events",
      path.join(corpusDir, "data/extra.data"),
      ...suiteArgs,
    );
    expect(lines(joined.stdout).map((m) => m.join_keys)).toEqual([[1234], [1235]]);
  });

  it("exits non-zero with a one-line reason naming line and column on a syntax error", async () => {
    const r = await shmhunt("eql", "process where\n  a ==", "--events", ndjson);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "shmhunt: 2:7: error EQL101: expected an expression (field, literal, function call or parenthesis) but found end of query\n",
    );
  });

  it("names the file and line of bad events", async () => {
    const bad = path.join(dir, "bad.ndjson");
    const r = await shmhunt("eql", "any where true", "--events", bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^shmhunt: ${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:2:6: error EQL100: not valid JSON: unexpected end of input`,
      ),
    );
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("reads events from standard input with --events -", async () => {
    const { Readable } = await import("node:stream");
    const { readEvents } = await import("../../src/eql/event-file.js");
    const stdin = Readable.from([Buffer.from('{"a": 1}\n'), Buffer.from('{"a": 2}\n')]);
    expect(await readEvents("-", stdin)).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it("rejects a bad --size", async () => {
    const r = await shmhunt("eql", "any where true", "--events", ndjson, "--size", "x");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('shmhunt: --size must be a whole number, got "x"\n');
  });
});
