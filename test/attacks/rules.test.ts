/**
 * Hostile and unlucky rules against a real server on 127.0.0.1 (issue 12, items 5 and 8): a broken `.yar` dropped
 * into the rules folder keeps the last good rule set in use and makes /health `degraded` with the diagnostic
 * (file:line:column); a large rule set recompiles without freezing the routes.
 */
import { createHash } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AttackServer, serve } from "./serve.js";

let server: AttackServer;
beforeAll(async () => {
  server = await serve();
});
afterAll(async () => {
  await server?.stop();
});

const scan = async (body: Buffer) => {
  const response = await fetch(`${server.url}/scan`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body,
  });
  return { status: response.status, verdict: (await response.json()) as { verdict: string; ruleset: string } };
};
const health = async () =>
  (await (await fetch(`${server.url}/health`)).json()) as {
    status: string;
    problems?: Array<Record<string, unknown>>;
  };

describe("a broken rule file dropped into the rules folder", () => {
  it("keeps the last good rule set, answers every scan and upload, and /health names the file, line and column", async () => {
    const before = await scan(Buffer.from("before the broken file"));
    expect(before.status).toBe(200);
    expect(await health()).toMatchObject({ status: "ok" });

    // Line 3, column 14: the unknown identifier `nope` (the file is ours; YARA-X reports the position).
    writeFileSync(path.join(server.rulesDir, "broken.yar"), "rule broken {\n  condition:\n    true and nope\n}\n");
    // Polled for up to 60 s: the change is seen at the next check (at most a second) and compiled in a child
    // process, which a loaded machine can take several seconds to start and run.
    let report = await health();
    for (let i = 0; i < 240 && report.status !== "degraded"; i++) {
      await new Promise((r) => setTimeout(r, 250));
      report = await health();
    }
    expect(report).toMatchObject({
      status: "degraded",
      problems: [{ component: "yara-rules", code: "YARA400", file: "broken.yar", line: 3, column: 14 }],
    });

    // Scans and uploads go on with the last good rule set: same ruleset identity, a real verdict.
    for (let i = 0; i < 5; i++) {
      const during = await scan(Buffer.from(`during ${i}`));
      expect(during.status).toBe(200);
      expect(during.verdict).toMatchObject({ verdict: "no-match", ruleset: before.verdict.ruleset });
    }
    const body = Buffer.from(`uploaded while the folder is broken ${Date.now()}`);
    const upload = await fetch(`${server.url}/samples`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body,
    });
    expect(upload.status).toBe(201);
    const sha = createHash("sha256").update(body).digest("hex");
    expect(await (await fetch(`${server.url}/samples/${sha}`)).json()).toMatchObject({ verdict: { sha256: sha } });

    // Removed again: healthy.
    rmSync(path.join(server.rulesDir, "broken.yar"));
    for (let i = 0; i < 240 && report.status !== "ok"; i++) {
      await new Promise((r) => setTimeout(r, 250));
      report = await health();
    }
    expect(report).toMatchObject({ status: "ok" });
    expect(report.problems).toBeUndefined();
  });
});

describe("recompiling a large rule set", () => {
  it("8,000 new rules compile while the event loop stays free and the new rules take effect", async () => {
    const marker = "marker_7999_xyz";
    const before = await scan(Buffer.from(marker));
    expect(before.verdict.verdict).toBe("no-match");
    let rules = "";
    for (let i = 0; i < 8000; i++) rules += `rule big_${i} { strings: $a = "marker_${i}_xyz" condition: $a }\n`;
    writeFileSync(path.join(server.rulesDir, "big.yar"), rules);
    await new Promise((r) => setTimeout(r, 1100)); // past the scanner's rule check interval

    // The loop's own busy time between ticks of a 10 ms timer (event loop utilization), not its delay, which grows
    // with the time a loaded machine withholds the CPU while the loop waits.
    let longestBusyMs = 0;
    let previous = performance.eventLoopUtilization();
    const ticker = setInterval(() => {
      const now = performance.eventLoopUtilization();
      longestBusyMs = Math.max(longestBusyMs, now.active - previous.active);
      previous = now;
    }, 10);
    let healthAnswers = 0;
    let compiled = false;
    const scanning = scan(Buffer.from(marker)).finally(() => {
      compiled = true;
    });
    while (!compiled) {
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      healthAnswers++;
      await new Promise((r) => setTimeout(r, 50));
    }
    clearInterval(ticker);
    const after = await scanning;
    expect(after.verdict).toMatchObject({ verdict: "match" });
    expect(after.verdict.ruleset).not.toBe(before.verdict.ruleset);
    // In process, compiling these rules blocks for seconds; off the thread, the loop never stalls for one.
    expect(longestBusyMs).toBeLessThan(1000);
    expect(healthAnswers).toBeGreaterThan(1);
  });
});
