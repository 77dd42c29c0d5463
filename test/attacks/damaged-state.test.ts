/**
 * Damaged state under a real server on 127.0.0.1 (issue 12, item 12): a write cut short by a crash, a line altered on
 * disk, records of the wrong shape, and records whose shape passes but whose fields are odd, all in the local state
 * folder the server reads (docs/service.md, "State layout"), written by a second store on the folder as a CLI would.
 * Every read route answers (never a 500) with the intact records; the damaged ones are skipped and set aside.
 */
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HuntState, type LocalIncident } from "../../src/hunt/index.js";
import { LocalStateStore } from "../../src/store/index.js";
import { until } from "../support/until.js";
import { type AttackServer, entries, serve } from "./serve.js";

let server: AttackServer;
let stateDir: string;
beforeAll(async () => {
  server = await serve();
  stateDir = path.join(server.dir, "data", "state");
});
afterAll(async () => {
  await server?.stop();
});

/** A local incident as the hunt writes it (src/hunt/hunt-state.ts, LocalIncident). */
function incident(id: string, createdAt: string): LocalIncident {
  return {
    id,
    bookmarkId: `b-${id}`,
    hitKey: `k-${id}`,
    title: "Binary Executed from Shared Memory Directory",
    description: "root ran /dev/shm/x",
    severity: "High",
    status: "New",
    labels: ["verdict:none"],
    createdAt,
    firstActivityTime: createdAt,
    tactics: ["Execution"],
    techniques: ["T1059"],
    evidence: {
      query: "DeviceProcessEvents",
      queryStart: createdAt,
      queryEnd: createdAt,
      row: { DeviceName: "web-01" },
      entities: [],
    },
  };
}

const getJson = async (route: string) => {
  const response = await fetch(`${server.url}${route}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe("damaged records in the state the server reads", () => {
  it("are skipped and set aside; /incidents, /incidents/{id}, /hits and /health answer with the rest", async () => {
    const cli = new LocalStateStore(stateDir);
    const state = new HuntState(cli);
    for (const [id, at] of [
      ["a0000000-0000-4000-8000-000000000001", "2026-03-01T10:00:00.000Z"],
      ["a0000000-0000-4000-8000-000000000002", "2026-03-01T10:01:00.000Z"],
      ["a0000000-0000-4000-8000-000000000003", "2026-03-01T10:02:00.000Z"],
    ] as const)
      await state.createIncident(incident(id, at));
    // Wrong shapes: an incident without its creation time, a hit without its row.
    await cli.put("incident", "local", "a0000000-0000-4000-8000-00000000000b", { id: "broken" });
    await cli.put("hit", "3f3f9fe2-d095-11ec-95dc-f661ea17fbce", "k-broken", { key: "k-broken", status: "alerted" });
    // Shapes that pass the check, fields that are odd: the answer schemas must not trip over them.
    await cli.put("incident", "local", "a0000000-0000-4000-8000-00000000000c", {
      id: "a0000000-0000-4000-8000-00000000000c",
      createdAt: "2026-03-01T10:03:00.000Z",
      labels: "not a list",
      evidence: 7,
      tactics: [{ nested: true }],
    });
    await cli.close();
    const journal = path.join(stateDir, readdirSync(stateDir).find((f) => f.startsWith("journal.0")) ?? "");
    // A line altered on disk (the second incident's title), and a write cut short at the end (a crash).
    writeFileSync(
      journal,
      readFileSync(journal, "utf8").replace(
        '"id":"a0000000-0000-4000-8000-000000000002","bookmarkId"',
        '"id":"a0000000-0000-4000-8000-000000000002","bookmarkID"',
      ),
    );
    appendFileSync(journal, '0badc0de\t{"o":"p","k":"incident","p":"local","y":"torn","v":{"id":"to');

    const list = await getJson("/incidents");
    expect(list.status).toBe(200);
    const ids = (list.body.incidents as Array<{ id: string }>).map((i) => i.id);
    expect(ids).toContain("a0000000-0000-4000-8000-000000000001");
    expect(ids).toContain("a0000000-0000-4000-8000-000000000003");
    expect(ids).not.toContain("a0000000-0000-4000-8000-000000000002");
    expect(ids).not.toContain("broken");

    expect((await getJson("/incidents/a0000000-0000-4000-8000-000000000001")).status).toBe(200);
    expect((await getJson("/incidents/a0000000-0000-4000-8000-000000000002")).status).toBe(404);
    expect((await getJson("/incidents/a0000000-0000-4000-8000-00000000000b")).status).toBe(404);
    expect((await getJson("/incidents/a0000000-0000-4000-8000-00000000000c")).status).not.toBe(500);
    const hits = await getJson("/hits");
    expect(hits.status).toBe(200);
    expect(hits.body.hits).toEqual([]);
    expect((await getJson("/health")).status).toBe(200);

    // Set aside for an operator, and the server goes on writing to the same journal.
    // (the copies are written in the background, nothing awaits them: waited for, not assumed done by now)
    await until(() => entries(path.join(stateDir, "quarantine")).length >= 2, "two quarantined lines", 30_000);
    const run = await fetch(`${server.url}/hunt/run`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(run.status).toBe(200);
    expect((await getJson("/incidents")).status).toBe(200);
  });
});
