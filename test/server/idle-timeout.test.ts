/**
 * The idle timeout (SHMHUNT_IDLE_TIMEOUT, fastify's `connectionTimeout`: a socket with no activity for this long is
 * closed) is for a client that goes quiet, not for the server: a request whose answer takes longer than it (a hunt
 * waiting on its query, a scan of a large sample, whose own timeout is 60 s by default against the idle timeout's
 * 30 s) is answered, not cut with no answer while the server works on it. A socket still idles out before a request
 * is whole and after its answer (test/attacks/slow-clients.test.ts holds the slow clients to their limits).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/app/config.js";
import { startServer } from "../../src/server/start.js";
import { HeldQueries } from "../support/held-queries.js";
import { plan } from "../support/hunt-fixtures.js";

const dir = mkdtempSync(path.join(tmpdir(), "shmhunt-idle-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the idle timeout while the server works on a request", () => {
  it("answers a hunt that outlasts it, then closes the connection once it is quiet", async () => {
    const queries = new HeldQueries();
    const config = loadConfig({
      SHMHUNT_DATA_DIR: dir,
      SHMHUNT_PORT: "0",
      SHMHUNT_HUNT_TICK: "0",
      SHMHUNT_IDLE_TIMEOUT: "2s",
      SHMHUNT_KEEP_ALIVE_TIMEOUT: "1s",
      SHMHUNT_LOG_LEVEL: "silent",
    });
    const server = await startServer(config, { overrides: { queries, plans: async () => [plan()], scanner: null } });
    try {
      const { port } = new URL(server.url);
      const socket = connect(Number(port), "127.0.0.1");
      let received = "";
      socket.setEncoding("utf8").on("data", (chunk: string) => {
        received += chunk;
      });
      const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(performance.now())));
      const body = JSON.stringify({ force: true });
      socket.write(
        `POST /hunt/run HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      await queries.running;
      // Two and a half idle timeouts with the request whole and the server at work on it: nothing is sent either way.
      await sleep(5_000);
      expect(socket.destroyed, "the connection was closed while the hunt ran").toBe(false);
      queries.letGo();
      const answered = await new Promise<number>((resolve, reject) => {
        const check = () => {
          if (/\r\n\r\n[\s\S]*"runs"/.test(received) && received.trimEnd().endsWith("}")) resolve(performance.now());
        };
        socket.on("data", check);
        socket.once("close", () => reject(new Error(`closed with ${JSON.stringify(received.slice(0, 200))}`)));
      });
      expect(received).toMatch(/^HTTP\/1\.1 200 /);
      // With the answer sent, a quiet socket is closed again (after the keep-alive timeout): not left open for good.
      const end = await closed;
      expect(end - answered).toBeGreaterThanOrEqual(900); // the keep-alive timeout, 1 s
    } finally {
      queries.letGo(); // a hunt still held would keep the close waiting
      await server.close();
    }
  }, 60_000);
});
