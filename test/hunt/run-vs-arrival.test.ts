/**
 * A pending hit whose sample's verdict arrives while a run of an overlapping window settles the same hit.
 * The sample's lease (SAMPLE_LEASE) keeps two settlings of one sample apart (docs/service.md, `lease` record
 * `shmhunt-sample`). Until 8 December 2026 the run settled pending hits it met again without it: it read the hit
 * `pending` before the arrival settled it, and wrote its own decision over the arrival's afterwards. Now it settles
 * them holding the sample's lease, reading them again under it.
 */
import { describe, expect, it } from "vitest";
import {
  type HuntDeps,
  HuntState,
  LocalAlertWriter,
  recordVerdict,
  runHunts,
  runPlan,
  type StoredVerdict,
} from "../../src/hunt/index.js";
import type { AlertRequest, AlertWriter, RaisedAlert } from "../../src/sentinel/incidents.js";
import { MemoryStateStore } from "../../src/store/memory-state-store.js";
import { clock, EventTable, execEvent, huntRule, MIN, plan } from "../support/hunt-fixtures.js";

const SHA_LATE = "ef".repeat(32);
const SHA_KNOWN = "ab".repeat(32);
const match = (sha256: string, scannedAt = "2026-03-01T09:00:00.000Z"): StoredVerdict => ({
  sha256,
  size: 100,
  matches: [{ rule: "Derusbi_shm", file: "shm-creation.yar" }],
  scannedAt,
});

/** Raises one alert at a time, each only once `open` is called; `entered` resolves when the first raise begins. */
class GatedWriter implements AlertWriter {
  readonly raised: string[] = [];
  private opened!: () => void;
  private readonly gate = new Promise<void>((resolve) => {
    this.opened = resolve;
  });
  private enter!: () => void;
  readonly entered = new Promise<void>((resolve) => {
    this.enter = resolve;
  });
  constructor(private readonly inner: AlertWriter) {}
  open(): void {
    this.opened();
  }
  async raise(alert: AlertRequest): Promise<RaisedAlert> {
    this.enter();
    await this.gate;
    this.raised.push(alert.hitKey);
    return this.inner.raise(alert);
  }
}

describe("a pending hit settled by a run and by its sample's arrival at once", () => {
  it("the arrival alerts the hit while the run (missing the verdict) is raising its batch: the hit stays alerted", async () => {
    const state = new HuntState(new MemoryStateStore());
    const time = clock("2026-03-01T10:00:00Z");
    const table = new EventTable();
    const gated = plan(
      huntRule({ gate: { mode: "require", yaraRules: ["shm-creation.yar"], pendingTimeoutMs: 2 * MIN } }),
    );
    const local = new LocalAlertWriter(state, time.now);
    const deps: HuntDeps = { state, queries: table, alerts: local, clock: time.now };
    await state.putVerdict(match(SHA_KNOWN));
    const late = execEvent("2026-03-01T09:59:00Z", { SHA256: SHA_LATE });
    const fresh = execEvent("2026-03-01T10:03:00Z", { SHA256: SHA_KNOWN });
    table.add(late, fresh);

    const first = await runHunts([gated], deps);
    expect(first.runs[0]?.counts).toMatchObject({ rows: 1, pending: 1 });

    // 10:05: the next run (window 09:56..10:05) meets the late hit's row again, and the fresh hit's.
    time.set("2026-03-01T10:05:00Z");
    const writer = new GatedWriter(local);
    const running = runPlan(gated, { ...deps, alerts: writer });
    await writer.entered; // the run has decided its batch and is raising the fresh hit's alert
    // Meanwhile the late sample arrives (upload / Event Grid) and its verdict, a match, settles its hit.
    const arrival = await recordVerdict(match(SHA_LATE, "2026-03-01T10:05:00.000Z"), [gated], deps);
    expect(arrival).toMatchObject({ alerted: 1 });
    writer.open();
    expect((await running).status).toBe("completed");

    const hits = await state.hits();
    const lateHit = hits.find((h) => h.sha256 === SHA_LATE)!;
    const incidents = await state.incidents();
    // The late hit has an incident (raised by the arrival, verdict: match) ...
    expect(incidents.some((i) => i.hitKey === lateHit.key)).toBe(true);
    // ... so its record must say so: alerted, with that incident and the verdict.
    expect({ status: lateHit.status, incidentId: lateHit.incidentId, verdict: lateHit.verdict?.sha256 }).toEqual({
      status: "alerted",
      incidentId: incidents.find((i) => i.hitKey === lateHit.key)!.id,
      verdict: SHA_LATE,
    });
  });
});
