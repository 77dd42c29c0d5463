/**
 * Log Analytics queries held in flight for as long as a test wants (a hunt at work, a request the server is busy
 * with): `running` settles when the first query starts; every query answers one row of the seed's event, a minute
 * old, only once `letGo()` is called (the test decides, not the clock).
 */
import type { QueryOutcome, QueryRunner } from "../../src/sentinel/logs-query.js";
import { execEvent } from "./hunt-fixtures.js";

export class HeldQueries implements QueryRunner {
  started!: () => void;
  readonly running = new Promise<void>((resolve) => {
    this.started = resolve;
  });
  letGo!: () => void;
  readonly held = new Promise<void>((resolve) => {
    this.letGo = resolve;
  });
  calls = 0;
  async run(): Promise<QueryOutcome> {
    this.calls++;
    this.started();
    await this.held;
    return { ok: true, rows: [execEvent(new Date(Date.now() - 60_000).toISOString())], attempts: [] };
  }
}
