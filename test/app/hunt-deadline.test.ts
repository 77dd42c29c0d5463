/**
 * A hunt tick with a deadline (the Functions timer's: host.json's functionTimeout less one rule's slowest run and the
 * settle step, src/app/hunt-deadline.ts): rules not started by then are left to the next tick, reported `deferred`
 * and logged; the rule running when it passes is not cut. The real services over the embedded default's local state;
 * the only stand-in is time: each rule's query takes 20 minutes of the services' clock.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createServices } from "../../src/app/compose.js";
import { loadConfig } from "../../src/app/config.js";
import { huntDeadline, SETTLE_MARGIN_MS, slowestRuleRunMs } from "../../src/app/hunt-deadline.js";
import type { QueryOutcome, QueryWindow } from "../../src/sentinel/logs-query.js";
import { clock, EventTable, huntRule, MIN, plan } from "../support/hunt-fixtures.js";
import { tempDirs } from "../support/temp-dirs.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const dirs = tempDirs("deadline");

/** The event table, each query of which takes `ms` of the clock (a Logs query at its server timeout). */
class SlowTable extends EventTable {
  constructor(
    private readonly time: { advance(ms: number): void },
    private readonly ms: number,
  ) {
    super();
  }
  override async run(query: string, window: QueryWindow): Promise<QueryOutcome> {
    this.time.advance(this.ms);
    return super.run(query, window);
  }
}

describe("a hunt tick with a deadline", () => {
  it("starts no rule after it, finishes the one it is in, and leaves the rest to the next tick", async () => {
    const time = clock("2026-03-01T10:00:00Z");
    const table = new SlowTable(time, 20 * MIN);
    const plans = [1, 2, 3, 4].map((n) => plan(huntRule({ id: `8c5e9d4a-0000-4000-8000-00000000000${n}` })));
    const warnings: Array<{ fields: object; message: string }> = [];
    const dir = dirs();
    const config = loadConfig(
      { SHMHUNT_DATA_DIR: dir, SHMHUNT_RULES_DIR: path.join(repoRoot, "rules"), SHMHUNT_TMP_DIR: path.join(dir, "t") },
      repoRoot,
    );
    const services = await createServices(config, {
      queries: table,
      plans: async () => plans,
      clock: time.now,
      logger: { info() {}, error() {}, warn: (fields, message) => warnings.push({ fields, message }) },
    });
    try {
      // Rules start at 10:00 and 10:20; at 10:40 the deadline (10:30) has passed: the second rule, running across it,
      // completes; the third and fourth are not started.
      const report = await services.hunt.run({ deadline: new Date("2026-03-01T10:30:00Z") });
      expect(report.runs.map((r) => r.status)).toEqual(["completed", "completed", "deferred", "deferred"]);
      expect(report.runs[1]).toMatchObject({ window: { end: "2026-03-01T10:20:00.000Z" } });
      expect(table.windows).toHaveLength(2);
      for (const [i, checkpointed] of [true, true, false, false].entries())
        expect(await services.state.checkpoint(plans[i]!.rule.id, "defender"), `rule ${i + 1}`).toEqual(
          checkpointed ? expect.objectContaining({ end: expect.any(String) }) : undefined,
        );
      expect(warnings).toContainEqual({
        fields: expect.objectContaining({ deferred: 2, deadline: "2026-03-01T10:30:00.000Z" }),
        message: "hunt runs not started before the deadline; left to the next tick",
      });
      // The pending sweep ran all the same.
      expect(report.sweep).toBeDefined();

      // The next tick reaches them: nothing was lost to the deadline. Without one (the CLI, the server's schedule,
      // POST /hunt/run), every due rule is started as before.
      time.advance(MIN);
      const next = await services.hunt.run();
      expect(next.runs.map((r) => r.status)).toEqual(["completed", "completed", "completed", "completed"]);
      for (const p of plans.slice(2))
        expect(await services.state.checkpoint(p.rule.id, "defender")).toMatchObject({ end: expect.any(String) });
    } finally {
      await services.close();
    }
  });

  it("a deadline already passed still starts the tick's first rule", async () => {
    const time = clock("2026-03-01T10:00:00Z");
    const table = new SlowTable(time, MIN);
    const plans = [1, 2].map((n) => plan(huntRule({ id: `8c5e9d4a-0000-4000-8000-00000000001${n}` })));
    const dir = dirs();
    const config = loadConfig(
      { SHMHUNT_DATA_DIR: dir, SHMHUNT_RULES_DIR: path.join(repoRoot, "rules"), SHMHUNT_TMP_DIR: path.join(dir, "t") },
      repoRoot,
    );
    const services = await createServices(config, { queries: table, plans: async () => plans, clock: time.now });
    try {
      const report = await services.hunt.run({ deadline: new Date("2026-03-01T09:00:00Z") });
      expect(report.runs.map((r) => r.status)).toEqual(["completed", "deferred"]);
    } finally {
      await services.close();
    }
  });

  it("the Functions deadline leaves one rule's slowest run and the settle margin before the host's timeout", () => {
    const start = new Date("2026-03-01T10:00:00Z");
    const deadline = huntDeadline(start, 60 * MIN, 120);
    // 4 attempts x 120 s and the runner's back-off (1 + 2 + 4 s): 487 s; then 5 minutes to settle.
    expect(slowestRuleRunMs(120)).toBe(487_000);
    expect(deadline.getTime() - start.getTime()).toBe(60 * MIN - 487_000 - SETTLE_MARGIN_MS);
    // A timeout too short for that: the deadline is the start (the first rule still runs).
    expect(huntDeadline(start, MIN, 120)).toEqual(start);
  });
});
