/**
 * Field-by-field review of the Defender mapping against the paired corpus (../shared/corpus/paired, pair 1): the
 * raw advanced-hunting rows of test-device.log and the ECS documents Elastic's m365_defender pipeline made of them
 * (test-device.log-expected.json). Each case runs the evaluator over the ECS documents and the translated KQL over
 * the raw rows with the local engine; both must report the same lines.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluate, parseEql } from "../../src/eql/index.js";
import { translateQuery } from "../../src/kql/index.js";
import { openWorkspace, toRecords, type Workspace } from "../../src/workspace/index.js";
import { type DefenderRows, defenderCorpus, pairedPresent } from "./corpus.js";

describe.skipIf(!pairedPresent)("Defender fields over the paired corpus", () => {
  const work = mkdtempSync(path.join(tmpdir(), "shmhunt-defender-fields-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  let ws: Workspace;
  const corpus: DefenderRows = pairedPresent ? defenderCorpus() : { events: [], tables: new Map() };

  beforeAll(async () => {
    for (const [table, rows] of corpus.tables) {
      writeFileSync(path.join(work, `${table}.ndjson`), `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`);
    }
    ws = await openWorkspace(work);
  });

  /** Lines (1-based) of the given tables whose ECS document the evaluator matches. */
  function evaluatorLines(eql: string, tables: readonly string[]): number[] {
    const lines = new Set(tables.flatMap((t) => (corpus.tables.get(t) ?? []).map((r) => Number(r.PairedLine))));
    return evaluate(
      parseEql(eql),
      corpus.events.map((e) => e.ecs),
    )
      .flatMap((m) => m.indexes.map((i) => i + 1))
      .filter((l) => lines.has(l))
      .sort((a, b) => a - b);
  }

  async function kqlLines(eql: string): Promise<number[]> {
    const t = translateQuery(parseEql(eql), "defender");
    expect(t.refused, t.refused?.message).toBeUndefined();
    return toRecords(await ws.query(t.kql ?? "", { now: Date.UTC(2026, 0, 1) }))
      .map((r) => Number(r.PairedLine))
      .sort((a, b) => a - b);
  }

  // Elastic's pipeline (pipeline_device.yml, script_split_command_line) sets process.args and process.args_count only
  // from a non-empty command line: the DeviceNetworkEvents records without InitiatingProcessCommandLine (lines 9,
  // 15-18, 20, 22, 24-28, 30) get neither. Kusto's split of an empty string is one empty string, so the count must
  // not be read from it.
  it.each([
    ["network where process.args_count == 1", []],
    ["network where process.args_count < 3", []],
    ["network where process.args_count == null", [9, 15, 16, 17, 18, 20, 22, 24, 25, 26, 27, 28, 30]],
    ["network where process.args_count >= 3", [14, 19, 21, 23]],
    ["file where process.args_count == 1", [3]],
    ["process where process.args_count == 2 and process.parent.args_count == 4", [11]],
  ] as const)("%s: the count of an empty command line is null, as Elastic's pipeline leaves it", async (eql, lines) => {
    const tables = ["DeviceProcessEvents", "DeviceFileEvents", "DeviceNetworkEvents"];
    expect(evaluatorLines(eql, tables)).toEqual(lines);
    expect(await kqlLines(eql)).toEqual(lines);
  });

  // Line 23: a real Defender for Endpoint record from a macOS device (DeviceNetworkEvents, ActionType
  // "ConnectionRequest": telemetryd_v2 from local port 63295 to remote port 443). Elastic's pipeline makes it
  // event.type ["start"] (pipeline_device.yml, append_event_type_start: ActionType contains 'connectionrequest').
  // The target's "start" read only ConnectionSuccess, ConnectionAttempt and InboundConnectionAccepted, so a rule's
  // connection start never matched a connection that the POSIX sensor reports as a request. (Lines 19 and 21,
  // ConnectionSuccess and InboundConnectionAccepted, are starts by Elastic Defend's meaning; Elastic's m365 pipeline
  // calls them "end" and "allowed".)
  it("a ConnectionRequest is a connection start, as Elastic's pipeline makes it", async () => {
    const row = corpus.tables.get("DeviceNetworkEvents")?.find((r) => r.PairedLine === 23);
    expect(row?.ActionType).toBe("ConnectionRequest");
    expect(evaluatorLines('network where event.type == "start"', ["DeviceNetworkEvents"])).toEqual([23]);
    expect(await kqlLines('network where event.type == "start"')).toContain(23);
    expect(await kqlLines('network where event.type : "connection"')).toContain(23);
    expect(await kqlLines('network where event.action == "connection_attempted"')).toContain(23);
  });

  // Line 3: a DeviceFileEvents record with both accounts, RequestAccountName "SYSTEM" (domain "NT AUTHORITY") and
  // InitiatingProcessAccountName "system" (domain "nt authority"). Elastic's pipeline makes user.name "SYSTEM" and
  // user.domain "NT AUTHORITY" (test-device.log-expected.json), the account Microsoft's column reference calls the one
  // "used to remotely initiate the activity" (../shared/schemas/DeviceFileEvents.docs.json, RequestAccountName), as
  // Microsoft's ASIM parser makes it the actor (vimFileEventM365D.yaml: ActorWindowsUsername = strcat(
  // RequestAccountDomain, '\\', RequestAccountName) where it is set, else the initiating process's account).
  it.each([
    ['file where user.name == "SYSTEM"', [3]],
    ['file where user.domain == "NT AUTHORITY"', [3]],
    ['file where user.name == "system"', []],
  ] as const)("%s: a file event's user is the requesting account where there is one", async (eql, lines) => {
    expect(evaluatorLines(eql, ["DeviceFileEvents"])).toEqual(lines);
    expect(await kqlLines(eql)).toEqual(lines);
  });
});
