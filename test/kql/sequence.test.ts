/**
 * Sequences and head/tail: the KQL (`scan` over rows sorted by key, time and tiebreaker) returns exactly what the
 * evaluator (src/eql, Elasticsearch's state machine) returns, on small event sets built to tell the semantics
 * apart: same-millisecond steps, the most recent sequence waiting per key, maxspan, until, runs, one event
 * matching two steps; and a few scalar translations (dates, negative substring offsets, `where false`). The
 * events are one table through an identity mapping (as in the differential check).
 */
import { describe, expect, it } from "vitest";
import { evaluate, parseEql } from "../../src/eql/index.js";
import { emitQuery } from "../../src/kql/index.js";
import { runQuery } from "../../src/workspace/index.js";
import { harness } from "../workspace/differential.js";

const T0 = Date.UTC(2026, 0, 1);

/** `[id, ms after T0, name, pid]`: process events with serial ids as tiebreaker. */
function events(rows: readonly (readonly [number, number, string, number?])[]): Record<string, unknown>[] {
  return rows.map(([id, ms, name, pid]) => ({
    serial_event_id: id,
    "@timestamp": T0 + ms,
    event_type: "process",
    name,
    ...(pid === undefined ? {} : { pid }),
  }));
}

async function viaKql(eql: string, data: Record<string, unknown>[]): Promise<number[][]> {
  const h = harness({ events: data, fields: {}, idField: "serial_event_id", tiebreaker: "serial_event_id" });
  const query = parseEql(eql);
  const { kql } = emitQuery({ query, mapping: h.mapping, columnsOf: () => h.columnTypes });
  const result = await runQuery(kql, h.globals, h.source, { now: T0 });
  const names = result.columns.map((c) => c.name);
  if (query.kind === "event") {
    const id = names.indexOf("serial_event_id");
    return result.rows.map((r) => [r[id] as number]);
  }
  const steps = names.filter((n) => /^ShmhuntEvent\d+$/.test(n)).map((n) => names.indexOf(n));
  return result.rows.map((r) => steps.map((i) => (r[i] as { serial_event_id: number }).serial_event_id));
}

function viaEvaluator(eql: string, data: Record<string, unknown>[]): number[][] {
  return evaluate(parseEql(eql), data, { categoryField: "event_type", tiebreakerField: "serial_event_id" }).map((m) =>
    m.events.map((e) => (e as { serial_event_id: number }).serial_event_id),
  );
}

/** Both, in Elasticsearch's order (sequences as they complete), and not trivially empty. */
async function agree(eql: string, data: Record<string, unknown>[], expected: number[][]): Promise<void> {
  const byEnd = (a: number[], b: number[]) => (a.at(-1) as number) - (b.at(-1) as number);
  expect(viaEvaluator(eql, data)).toEqual(expected);
  expect((await viaKql(eql, data)).sort(byEnd)).toEqual(expected);
}

describe("sequences as Elasticsearch's state machine (scan)", () => {
  it("chains events with the same timestamp in tiebreaker order", async () => {
    const data = events([
      [1, 0, "a"],
      [2, 0, "b"],
      [3, 0, "c"],
    ]);
    await agree('sequence [process where name == "a"] [process where name == "b"] [process where name == "c"]', data, [
      [1, 2, 3],
    ]);
  });

  it("extends the most recent sequence waiting at a step, once", async () => {
    const data = events([
      [1, 0, "a"],
      [2, 10, "a"],
      [3, 20, "b"],
      [4, 30, "b"],
    ]);
    await agree('sequence [process where name == "a"] [process where name == "b"]', data, [[2, 3]]);
  });

  it("does not let a later event replace a step already taken (no scan 'Check 2')", async () => {
    const data = events([
      [1, 0, "a"],
      [2, 10, "b"],
      [3, 20, "b"],
      [4, 30, "c"],
    ]);
    await agree('sequence [process where name == "a"] [process where name == "b"] [process where name == "c"]', data, [
      [1, 2, 4],
    ]);
  });

  it("keeps one state per join key", async () => {
    const data = events([
      [1, 0, "a", 1],
      [2, 5, "a", 2],
      [3, 10, "b", 2],
      [4, 15, "b", 1],
      [5, 20, "b", 3],
    ]);
    await agree('sequence by pid [process where name == "a"] [process where name == "b"]', data, [
      [2, 3],
      [1, 4],
    ]);
  });

  it("counts maxspan from the first event, inclusively", async () => {
    const data = events([
      [1, 0, "a"],
      [2, 1000, "b"],
      [3, 5000, "a"],
      [4, 7000, "b"],
    ]);
    await agree('sequence with maxspan=1s [process where name == "a"] [process where name == "b"]', data, [[1, 2]]);
  });

  it("drops the sequences in progress of a key at its until event", async () => {
    const data = events([
      [1, 0, "a", 1],
      [2, 1, "a", 2],
      [3, 2, "stop", 1],
      [4, 3, "b", 1],
      [5, 4, "b", 2],
      [6, 5, "a", 1],
      [7, 6, "b", 1],
    ]);
    await agree(
      'sequence by pid [process where name == "a"] [process where name == "b"] until [process where name == "stop"]',
      data,
      [
        [2, 5],
        [6, 7],
      ],
    );
  });

  it("repeats a step with runs, and lets one event end one sequence and start the next", async () => {
    const data = events([
      [1, 0, "x"],
      [2, 0, "x"],
      [3, 1, "x"],
      [4, 2, "x"],
    ]);
    await agree("sequence [process where true] [process where true]", data, [
      [1, 2],
      [2, 3],
      [3, 4],
    ]);
    await agree("sequence [process where true] with runs=3", data, [
      [1, 2, 3],
      [2, 3, 4],
    ]);
  });
});

describe("head and tail order by time, then tiebreaker", () => {
  const data = events([
    [1, 0, "a"],
    [2, 5, "a"],
    [3, 5, "a"],
    [4, 5, "a"],
  ]);

  it("takes the first and last events as Elasticsearch does", async () => {
    expect(await viaKql("process where true | tail 2", data)).toEqual([[3], [4]]);
    expect(await viaKql("process where true | head 2", data)).toEqual([[1], [2]]);
    expect(viaEvaluator("process where true | tail 2", data)).toEqual([[3], [4]]);
  });

  it("takes the sequences in the order they complete", async () => {
    const seq = events([
      [1, 0, "a", 1],
      [2, 1, "a", 2],
      [3, 2, "b", 2],
      [4, 3, "b", 1],
    ]);
    const eql = 'sequence by pid [process where name == "a"] [process where name == "b"] | head 1';
    await agree(eql, seq, [[2, 3]]);
  });
});

describe("scalars against the evaluator", () => {
  const data = events([
    [1, 0, "abc"],
    [2, 5, "xbc"],
    [3, 10, "b"],
    [4, 15, ""],
  ]);
  const same = async (eql: string, expected: number[]) => {
    const ids = (m: number[][]) => m.map((x) => x[0] as number);
    expect(ids(viaEvaluator(eql, data))).toEqual(expected);
    expect(ids(await viaKql(eql, data)).sort((a, b) => a - b)).toEqual(expected);
  };

  it("slices with negative substring offsets as Elasticsearch (Python) does", async () => {
    await same('process where substring(name, -2) == "bc"', [1, 2]);
    await same('process where substring(name, -3, -1) == "ab"', [1]);
    await same('process where substring(name, -5) == "b"', [3]);
  });

  it("compares @timestamp with ISO dates and epoch milliseconds", async () => {
    await same(`process where @timestamp >= "${new Date(T0 + 5).toISOString()}"`, [2, 3, 4]);
    await same(`process where @timestamp == ${T0 + 10}`, [3]);
  });

  it("matches nothing for a condition false in the EQL itself, and folds number() of constants", async () => {
    await same("process where false", []);
    await same('process where serial_event_id == number("0x3", 16)', [3]);
  });
});

describe("join keys", () => {
  it("drops events without a required key, and joins a missing optional key as null", async () => {
    const data = events([
      [1, 0, "a", 1],
      [2, 1, "a"],
      [3, 2, "b"],
      [4, 3, "b", 1],
    ]);
    await agree('sequence by pid [process where name == "a"] [process where name == "b"]', data, [[1, 4]]);
    await agree('sequence by ?pid [process where name == "a"] [process where name == "b"]', data, [
      [2, 3],
      [1, 4],
    ]);
  });
});
