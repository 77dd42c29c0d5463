/**
 * ASIM filtering parameters (issue 10, "Emitted KQL that runs well on the real service"): when a query's condition
 * requires one event type, the asim target passes it to the unifying parser as `eventtype`, so that each source
 * parser filters before it parses. Microsoft's parser files are the oracle: imProcessEvent.yaml declares
 * `eventtype` (string, default '*'), and every process source parser keeps its rows only when
 * `eventtype=='*' or eventtype=='<its EventType>'` (vimProcessEventMicrosoft365D.yaml,
 * vimProcessCreateLinuxSysmon.yaml). The argument only narrows what the parsers read; run through those parsers
 * over the paired Defender corpus, the query finds the same rows with and without it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseEql } from "../../src/eql/index.js";
import { translateQuery } from "../../src/kql/index.js";
import { toRecords } from "../../src/workspace/index.js";
import { ASIM_PARSERS } from "./asim.js";
import { pairedPresent } from "./corpus.js";
import { openSides, type Side } from "./differential.js";

const asimKql = (eql: string): string => {
  const t = translateQuery(parseEql(eql), "asim");
  expect(t.refused, t.refused?.message).toBeUndefined();
  return t.kql ?? "";
};
const firstLine = (kql: string) => kql.split("\n").find((l) => l.startsWith("_Im_"));

describe("the asim target passes the event type to the unifying parser", () => {
  it("declares only a parameter Microsoft's unifying parser declares, with its type", () => {
    const doc = parse(
      readFileSync(path.join(ASIM_PARSERS, "ASimProcessEvent/Parsers/imProcessEvent.yaml"), "utf8"),
    ) as {
      ParserParams: { Name: string; Type: string }[];
    };
    expect(doc.ParserParams).toContainEqual(expect.objectContaining({ Name: "eventtype", Type: "string" }));
  });

  it("one required event type: `_Im_ProcessEvent(eventtype=…)`, and the condition still tests it", () => {
    const kql = asimKql('process where event.type == "start" and process.executable : "/dev/shm/*"');
    expect(firstLine(kql)).toBe('_Im_ProcessEvent(eventtype="ProcessCreated")');
    expect(kql).toContain('EventType == "ProcessCreated"');
  });

  it("no argument when the condition allows two event types, or tests one only under `or`", () => {
    expect(firstLine(asimKql('process where event.type in ("start", "end")'))).toBe("_Im_ProcessEvent");
    expect(firstLine(asimKql('process where event.type == "start" or process.executable : "/dev/shm/*"'))).toBe(
      "_Im_ProcessEvent",
    );
    expect(firstLine(asimKql('process where process.executable : "/dev/shm/*"'))).toBe("_Im_ProcessEvent");
  });
});

describe.skipIf(!pairedPresent || !existsSync(ASIM_PARSERS))("through Microsoft's parsers on the paired corpus", () => {
  const work = mkdtempSync(path.join(tmpdir(), "shmhunt-asim-args-"));
  let asim: Side;
  beforeAll(async () => {
    const side = (await openSides(work)).find((s) => s.target === "asim");
    if (!side) throw new Error("no asim side");
    asim = side;
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const lines = async (kql: string) =>
    toRecords(await asim.workspace.query(kql))
      .map((r) => String(r.PairedLine))
      .sort();

  for (const eql of ['process where event.type == "start"', 'process where event.type == "end"']) {
    it(`${eql}: the same rows with and without the argument`, async () => {
      const kql = asimKql(eql);
      expect(firstLine(kql)).toMatch(/^_Im_ProcessEvent\(eventtype="Process(Created|Terminated)"\)$/);
      const without = kql.replace(/^_Im_ProcessEvent\(eventtype="[A-Za-z]+"\)$/m, "_Im_ProcessEvent");
      expect(without).not.toBe(kql);
      expect(await lines(kql)).toEqual(await lines(without));
    });
  }

  it("a creation query finds rows, and the parsers do read the argument (another type: none)", async () => {
    const kql = asimKql('process where event.type == "start"');
    expect((await lines(kql)).length).toBeGreaterThan(0);
    expect(await lines(kql.replace('(eventtype="ProcessCreated")', '(eventtype="ProcessTerminated")'))).toEqual([]);
  });
});
