/**
 * Samples built to slow down or break the scan (issue 12, items 6 and 9): a slow sample holds one scan worker, not
 * every scan; a sample whose scan fails keeps an error verdict, is scanned again with backoff, and its gated hits
 * alert as "scan failed" instead of fading unverified.
 */
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServices } from "../../src/app/compose.js";
import { loadConfig } from "../../src/app/config.js";
import { clock, EventTable, execEvent, huntRule, MIN, plan } from "../support/hunt-fixtures.js";
import { type AttackServer, serve } from "./serve.js";

const repoRoot = path.resolve(import.meta.dirname, "../..");

/**
 * Slow only on samples that start with "SLOW": filesize × 4,001 iterations (YARA-X evaluates every one; seconds
 * for 20 KB). Any other sample fails the first test at once.
 */
const SLOW_RULE = `rule slow_on_marker {
  condition:
    uint32be(0) == 0x534c4f57 and
    for all i in (0..filesize - 1) : ( for all j in (0..4000) : ( uint8(i) != 0xFF or j < 0 ) )
}
`;
/** A sample the slow rule takes about 4,000 × `size` steps over (~1–2 s at 20,000 bytes on this machine). */
const slowSample = (size = 20_000) => Buffer.concat([Buffer.from("SLOW"), Buffer.alloc(size, 1)]);
const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

describe("a slow sample on the server's default scanner", () => {
  let server: AttackServer;
  beforeAll(async () => {
    server = await serve();
    writeFileSync(path.join(server.rulesDir, "slow.yar"), SLOW_RULE);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("holds one worker: five other scans are answered while it runs", async () => {
    const scan = (body: Buffer) =>
      fetch(`${server.url}/scan`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body,
      });
    // Workers started and rules loaded: the race below is between scans, not start-ups. The pool starts a worker
    // when a scan finds none idle (one per CPU at most): as many scans at once, each a little slow (a tenth of a
    // second or so, each its own sample), start every one; repeated until they match, i.e. the slow rule (written
    // after the server started) is the one in use. A single warm-up scan left the second worker to start while the
    // slow scan ran: on a loaded machine its start outlasted the slow scan, and a quick scan was answered after it.
    for (let round = 0, warmed = false; !warmed; round++) {
      expect(round, "the slow rule is not in use").toBeLessThan(30);
      const warm = await Promise.all(
        Array.from({ length: availableParallelism() }, async (_, i) => {
          const answer = await scan(Buffer.concat([slowSample(2_000), Buffer.from(`warm ${round} ${i}`)]));
          expect(answer.status).toBe(200);
          return ((await answer.json()) as { verdict: string }).verdict;
        }),
      );
      warmed = warm.every((verdict) => verdict === "match");
    }
    let slowDone = false;
    // Twice the default size: 2-4 s on an idle machine, where five quick scans on warm workers take well under a
    // second. Not more: under load the scan takes several times as long, and an answer past the server's idle
    // timeout (30 s: no byte on the connection meanwhile) never comes; five times the default size took over 30 s
    // at load 10 on 2 cores ("fetch failed: other side closed").
    const slow = scan(slowSample(40_000)).then(async (r) => {
      slowDone = true;
      return r.json();
    });
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 5; i++) {
      const quick = await scan(Buffer.from(`quick ${i}`));
      expect(quick.status).toBe(200);
      expect(slowDone, `quick scan ${i} answered only after the slow one`).toBe(false);
    }
    expect(await slow).toMatchObject({ verdict: "match" });
  }, 120_000);
});

describe("a sample whose scan fails", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-attack-scanfail-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps the error, is scanned again after the backoff, then its gated hit alerts as 'scan failed'", async () => {
    const rulesDir = path.join(dir, "rules");
    mkdirSync(rulesDir);
    copyFileSync(path.join(repoRoot, "rules", "shm-creation.yar"), path.join(rulesDir, "shm-creation.yar"));
    writeFileSync(path.join(rulesDir, "slow.yar"), SLOW_RULE);
    const config = loadConfig(
      {
        SHMHUNT_DATA_DIR: path.join(dir, "data"),
        SHMHUNT_RULES_DIR: rulesDir,
        SHMHUNT_TMP_DIR: path.join(dir, "tmp"),
        SHMHUNT_SCAN_TIMEOUT: "1s", // the slow sample overruns it: the pool kills the worker
        SHMHUNT_SCAN_RETRIES: "1",
        SHMHUNT_SCAN_RETRY_BACKOFF: "5m",
      },
      dir,
    );
    const time = clock("2026-03-01T12:00:00Z");
    const events = new EventTable();
    // Twenty times the default size: the scan outlasts the 1 s timeout even when a loaded machine delays the
    // timer, so the worker is killed rather than answering first.
    const sample = slowSample(400_000);
    events.add(execEvent("2026-03-01T11:58:00Z", { SHA256: sha(sample) }));
    const rule = huntRule({ gate: { mode: "require", yaraRules: [], pendingTimeoutMs: 60 * MIN } });
    const services = await createServices(config, {
      clock: time.now,
      queries: events,
      plans: async () => [plan(rule)],
    });
    try {
      const run = await services.hunt.run({ force: true });
      expect(run.runs[0]?.counts).toMatchObject({ pending: 1 });

      // The upload is stored and answered with the error verdict (not a 500); the hit still waits.
      const upload = await services.samples.upload(Readable.from([sample]));
      expect(upload).toMatchObject({ created: true, verdict: { verdict: "error" } });
      expect(await services.hunt.hits({ status: "pending" })).toHaveLength(1);

      // Before the backoff: nothing is retried.
      expect(await services.samples.retryScans()).toBe(0);
      // After it: scanned again, fails again; that was the last retry, so the hit alerts as "scan failed".
      time.advance(5 * MIN + 1000);
      expect(await services.samples.retryScans()).toBe(1);
      expect(await services.hunt.hits({ status: "pending" })).toEqual([]);
      const [hit] = await services.hunt.hits({ status: "alerted" });
      expect(hit?.verdict).toMatchObject({ scanFailed: { attempts: 2 } });
      const [incident] = await services.hunt.incidents();
      expect(JSON.stringify(incident)).toContain("verdict:scan-failed");
      expect(JSON.stringify(incident)).toContain("scan failed after 2 attempts");
    } finally {
      await services.close();
    }
  });
});
